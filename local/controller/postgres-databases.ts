import pg from 'pg';
import { TwinConfigurationError } from '#local/controller/errors.ts';

/**
 * `rotor up --postgres URL`: the twin's relational stores in a real PostgreSQL server instead of PGlite. Every
 * region needs its own copy of every manifest database — tm-db and sm-db each have an `outbox` table, and two
 * regions' copies are two Aurora clusters — so the twin creates one database per region and manifest database in
 * the server, named `rotor_<region>_<database>` (e.g. `rotor_us_east_1_tm_db`), through the database the URL names.
 */

// PostgreSQL's SQLSTATE for CREATE DATABASE of a name that exists (also raised by a concurrent create).
const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';

export function regionDatabaseName(region: string, database: string, prefix = 'rotor'): string {
  return `${prefix}_${region}_${database}`.replace(/[^A-Za-z0-9]/g, '_').toLowerCase();
}

/** The server URL with the password left out: safe to print and to save in twin.json. */
export function redactedServer(url: string): string {
  const parsed = new URL(url);
  parsed.password = '';
  return parsed.href;
}

export interface RegionDatabasesOptions {
  /** `--fresh`: drop and recreate every database (connections to them are ended). */
  readonly recreate: boolean;
  /**
   * Whether databases already in the server may be taken over. A twin that has used them before (its saved layout
   * says so) resumes on them; a new twin must not, as they are another twin's or left over from a deleted one.
   */
  readonly adoptExisting: boolean;
  /** Names are `<prefix>_<region>_<database>`; default `rotor`. Twins sharing a server need different prefixes. */
  readonly prefix?: string;
}

/** Creates what is missing and returns, per region, each manifest database's URL. */
export async function prepareRegionDatabases(
  serverUrl: string,
  regions: readonly string[],
  databases: readonly string[],
  options: RegionDatabasesOptions,
): Promise<Record<string, Record<string, string>>> {
  if (!/^postgres(ql)?:\/\//.test(serverUrl)) throw new TwinConfigurationError(`--postgres must be a postgres:// URL, got ${serverUrl}`);
  const wanted = regions.flatMap((region) => databases.map((database) => ({ region, database, name: regionDatabaseName(region, database, options.prefix) })));
  const client = new pg.Client({ connectionString: serverUrl });
  try {
    await client.connect();
  } catch (error) {
    throw new TwinConfigurationError(`cannot connect to the PostgreSQL server at ${redactedServer(serverUrl)}: ${(error as Error).message}`);
  }
  try {
    if (options.recreate) {
      for (const { name } of wanted) await client.query(`drop database if exists "${name}" with (force)`);
    }
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname = any($1)', [wanted.map(({ name }) => name)]);
    const existing = new Set(rows.map((row) => row.datname));
    if (!options.adoptExisting && existing.size > 0) {
      throw new TwinConfigurationError(
        `the PostgreSQL server at ${redactedServer(serverUrl)} already has ${[...existing].join(', ')}, which this data directory's twin never used ` +
          "(another twin's, or left from one whose data directory is gone); add --fresh to drop and recreate them, or use another server",
      );
    }
    for (const { name } of wanted) {
      if (existing.has(name)) continue;
      try {
        await client.query(`create database "${name}"`);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code !== DUPLICATE_DATABASE && code !== UNIQUE_VIOLATION) throw error;
      }
    }
  } finally {
    await client.end().catch(() => undefined);
  }
  const urls: Record<string, Record<string, string>> = {};
  for (const { region, database, name } of wanted) {
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    (urls[region] ??= {})[database] = url.href;
  }
  return urls;
}
