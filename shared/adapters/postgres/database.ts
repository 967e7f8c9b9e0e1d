import { mkdir, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { PGlite, types as pgliteTypes } from '@electric-sql/pglite';
import { Kysely, PostgresDialect, sql, type Dialect } from 'kysely';
import pg from 'pg';
import { PGliteDialect } from '#shared/adapters/postgres/pglite-dialect.ts';
import { CREDENTIALS_PARAMETER } from '#shared/adapters/secrets/secret-credentials.ts';

/**
 * Opens Rotor's relational store: Aurora PostgreSQL (or any PostgreSQL) through a `pg` pool when a URL is
 * configured, otherwise an embedded PGlite, on disk when a data directory is given and in memory when not.
 *
 * Both backends return the same JavaScript types, so code tested on PGlite behaves the same on Aurora:
 * `int8` (bigint, count(*)) and `numeric` come back as strings (exact; never a lossy number), `date` as a
 * `YYYY-MM-DD` string (no time-zone shift), `timestamptz` as a Date, `jsonb` parsed.
 */

export type DatabaseConfig =
  | {
      readonly backend: 'postgres';
      /** `postgres://user:password@host:port/database`; `postgresql://` is accepted too. */
      readonly url: string;
      /** Pool size; defaults to 4, which suits one Lambda execution environment or one twin region. */
      readonly maxConnections?: number;
    }
  | {
      readonly backend: 'pglite';
      /** Directory holding the database files; created when missing. Omitted: in memory, gone on close. */
      readonly dataDir?: string;
    };

export interface OpenDatabaseOptions {
  /** Runs `SELECT 1` before returning so a wrong URL or unusable directory fails here; defaults to true. */
  readonly verify?: boolean;
}

export interface OpenedDatabase<DB> {
  readonly db: Kysely<DB>;
  readonly backend: DatabaseConfig['backend'];
  /** Where the data lives, with any password removed: safe to log. */
  readonly location: string;
  /** Closes the pool or the PGlite instance; an open PGlite keeps the process alive. Safe to call twice. */
  close(): Promise<void>;
}

export class DatabaseError extends Error {
  override readonly name: string = 'DatabaseError';
}

export class DatabaseConfigError extends DatabaseError {
  override readonly name = 'DatabaseConfigError';
}

export class DatabaseUnavailableError extends DatabaseError {
  override readonly name = 'DatabaseUnavailableError';
  constructor(location: string, cause: unknown) {
    super(`cannot reach the database at ${location}: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
  }
}

const DEFAULT_MAX_CONNECTIONS = 4;
const POSTGRES_URL_PROTOCOLS = new Set(['postgres:', 'postgresql:']);

export async function openDatabase<DB>(
  config: DatabaseConfig,
  options: OpenDatabaseOptions = {},
): Promise<OpenedDatabase<DB>> {
  const { dialect, location } = await createDialect(config);
  const db = new Kysely<DB>({ dialect });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= db.destroy());
  if (options.verify ?? true) {
    try {
      await sql`select 1`.execute(db);
    } catch (error) {
      await close().catch(() => undefined);
      throw new DatabaseUnavailableError(location, error);
    }
  }
  return { db, backend: config.backend, location, close };
}

async function createDialect(config: DatabaseConfig): Promise<{ dialect: Dialect; location: string }> {
  switch (config.backend) {
    case 'postgres':
      return createPostgresDialect(config.url, config.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
    case 'pglite':
      return createPGliteDialect(config.dataDir);
    default:
      throw new DatabaseConfigError(
        `unknown database backend ${JSON.stringify((config as { backend?: unknown }).backend)}; ` +
          "expected 'postgres' (with a url) or 'pglite' (with an optional dataDir)",
      );
  }
}

function createPostgresDialect(url: string, maxConnections: number): { dialect: Dialect; location: string } {
  const parsed = parsePostgresUrl(url);
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new DatabaseConfigError(`maxConnections must be a positive integer, got ${maxConnections}`);
  }
  const pool = new pg.Pool({ connectionString: url, max: maxConnections, types: { getTypeParser: postgresTypeParser } });
  // An idle client losing its server (failover, restart) is reported here; without a listener it crashes the process.
  pool.on('error', () => undefined);
  return { dialect: new PostgresDialect({ pool }), location: redactedUrl(parsed) };
}

function parsePostgresUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new DatabaseConfigError('the PostgreSQL URL is not a valid URL (expected postgres://user:password@host:port/db)');
  }
  if (!POSTGRES_URL_PROTOCOLS.has(parsed.protocol)) {
    throw new DatabaseConfigError(
      `the PostgreSQL URL must start with postgres:// or postgresql://, got ${parsed.protocol}//`,
    );
  }
  if (!parsed.hostname) throw new DatabaseConfigError(`the PostgreSQL URL has no host: ${redactedUrl(parsed)}`);
  if (parsed.pathname.length <= 1) {
    throw new DatabaseConfigError(`the PostgreSQL URL names no database: ${redactedUrl(parsed)}`);
  }
  if (parsed.searchParams.has(CREDENTIALS_PARAMETER)) {
    // pg would ignore the parameter and connect without a password; the secret is read by the registry's opener.
    throw new DatabaseConfigError(
      `the PostgreSQL URL still names a ${CREDENTIALS_PARAMETER} secret; open it with openDatabaseFromConnectionString, which reads it`,
    );
  }
  return parsed;
}

function redactedUrl(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = '***';
  return copy.href;
}

function postgresTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
  if (oid === pg.types.builtins.DATE && format !== 'binary') return (value) => value;
  return format === undefined ? pg.types.getTypeParser(oid) : pg.types.getTypeParser(oid, format);
}

async function createPGliteDialect(dataDir: string | undefined): Promise<{ dialect: Dialect; location: string }> {
  const directory = dataDir === undefined ? undefined : await prepareDataDir(dataDir);
  const parsers = { [pgliteTypes.INT8]: (value: string) => value, [pgliteTypes.DATE]: (value: string) => value };
  let pglite: PGlite;
  try {
    pglite = directory === undefined ? await PGlite.create({ parsers }) : await PGlite.create(directory, { parsers });
  } catch (error) {
    throw new DatabaseUnavailableError(directory ?? 'memory', error);
  }
  return { dialect: new PGliteDialect({ database: pglite }), location: directory ?? 'memory' };
}

async function prepareDataDir(dataDir: string): Promise<string> {
  if (dataDir.trim() === '') throw new DatabaseConfigError('the PGlite data directory is an empty string');
  if (/^[a-z]+:\/\//i.test(dataDir)) {
    throw new DatabaseConfigError(
      `the PGlite data directory must be a file-system path, got ${dataDir}; omit it for an in-memory database`,
    );
  }
  const directory = resolve(dataDir);
  const existing = await stat(directory).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new DatabaseConfigError(`the PGlite data directory ${directory} exists and is not a directory`);
  }
  await mkdir(directory, { recursive: true });
  return directory;
}
