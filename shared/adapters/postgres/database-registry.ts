import path from 'node:path';
import type { OpenedDatabase } from '#shared/adapters/postgres/database.ts';
import { CREDENTIALS_PARAMETER, secretCredentials } from '#shared/adapters/secrets/secret-credentials.ts';
import type { SecretSource } from '#shared/ports/secrets.ts';

/**
 * What a function's `{database: X}` environment variable holds, and how it is opened: handlers call
 * `openDatabaseFromConnectionString(process.env.DATABASE!)` once per cold start, on AWS and in the twin alike.
 *
 * - `postgres://…` / `postgresql://…`: a real PostgreSQL (Aurora on AWS, a local server in a twin started with
 *   `--postgres`); every opener gets its own pool, as Lambda functions do. On AWS the string carries no password
 *   but `credentials=<encoded secret name or ARN>`, naming the Secrets Manager secret that holds `{"username","password"}`
 *   (see resolvePostgresConnectionString).
 * - `pglite:<absolute directory>`: an embedded PGlite on disk. PGlite is one in-process engine per directory that
 *   takes seconds to start and cannot be opened twice, so every function of the process shares one instance per
 *   directory through this registry. It lives on `globalThis` because handler modules are loaded once per
 *   function (see local/lambda) and must still find the instance the region opened.
 */

export const PGLITE_SCHEME = 'pglite:';

/** A `{database: …}` connection string that is neither a PostgreSQL URL nor an absolute `pglite:` directory. */
export class DatabaseConnectionStringError extends Error {
  override readonly name = 'DatabaseConnectionStringError';
}

interface SharedDatabase {
  opened: Promise<OpenedDatabase<unknown>>;
}

const REGISTRY_KEY = Symbol.for('rotor.twin.pgliteDatabases');

function registry(): Map<string, SharedDatabase> {
  const holder = globalThis as { [REGISTRY_KEY]?: Map<string, SharedDatabase> };
  holder[REGISTRY_KEY] ??= new Map();
  return holder[REGISTRY_KEY];
}

export function pgliteConnectionString(directory: string): string {
  return `${PGLITE_SCHEME}${path.resolve(directory)}`;
}

function pgliteDirectory(connectionString: string): string {
  const directory = connectionString.slice(PGLITE_SCHEME.length);
  if (!path.isAbsolute(directory)) {
    throw new DatabaseConnectionStringError(`${connectionString}: a pglite: connection string names an absolute directory`);
  }
  return path.normalize(directory);
}

export interface OpenFromConnectionStringOptions {
  /** Where a `credentials` secret of a PostgreSQL URL is read; Secrets Manager when omitted. */
  readonly secrets?: SecretSource;
}

const POSTGRES_URL = /^postgres(ql)?:\/\//;

/**
 * The URL `pg` is given for a PostgreSQL connection string: unchanged without a `credentials` parameter; with one,
 * the parameter removed and the secret's username and password put in the URL (percent-encoded, which `pg`
 * decodes). The secret is read once per process; SecretUnavailableError (transient) and InvalidSecretError
 * (not transient) come through as they are. The result holds a password: log `OpenedDatabase.location` instead.
 */
export async function resolvePostgresConnectionString(connectionString: string, secrets?: SecretSource): Promise<string> {
  if (!POSTGRES_URL.test(connectionString)) {
    throw new DatabaseConnectionStringError(`not a postgres:// or postgresql:// connection string: ${connectionString.split(':')[0]}:`);
  }
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw new DatabaseConnectionStringError('the PostgreSQL connection string is not a valid URL');
  }
  const secretId = url.searchParams.get(CREDENTIALS_PARAMETER);
  if (secretId === null) return connectionString;
  if (secretId === '') throw new DatabaseConnectionStringError(`the PostgreSQL connection string's ${CREDENTIALS_PARAMETER} parameter is empty`);
  if (url.username || url.password) {
    // Two logins would leave it unclear which one the database sees.
    throw new DatabaseConnectionStringError(`a PostgreSQL connection string with ${CREDENTIALS_PARAMETER} must not carry a user or password too`);
  }
  const { username, password } = await secretCredentials(secrets).credentialsFor(secretId);
  url.searchParams.delete(CREDENTIALS_PARAMETER);
  // The setters leave '%' as it is, so the values are encoded whole; pg decodes user and password.
  url.username = encodeURIComponent(username);
  url.password = encodeURIComponent(password);
  return url.href;
}

/**
 * Opens (or joins) the database a connection string names. PGlite instances are shared and owned by the
 * registry: a function must not close them; `closeSharedDatabases` does, when the region stops.
 */
export async function openDatabaseFromConnectionString<DB>(
  connectionString: string,
  options: OpenFromConnectionStringOptions = {},
): Promise<OpenedDatabase<DB>> {
  // Loaded on first use: PGlite, pg and kysely cost a region without databases nothing.
  const { openDatabase } = await import('#shared/adapters/postgres/database.ts');
  if (POSTGRES_URL.test(connectionString)) {
    return openDatabase<DB>({ backend: 'postgres', url: await resolvePostgresConnectionString(connectionString, options.secrets) });
  }
  if (!connectionString.startsWith(PGLITE_SCHEME)) {
    throw new DatabaseConnectionStringError(`unsupported database connection string scheme: ${connectionString.split(':')[0]}:`);
  }
  const directory = pgliteDirectory(connectionString);
  const databases = registry();
  let shared = databases.get(directory);
  if (!shared) {
    const opened = openDatabase<unknown>({ backend: 'pglite', dataDir: directory });
    shared = { opened };
    databases.set(directory, shared);
    // A failed open must not poison the directory for the next attempt.
    opened.catch(() => databases.delete(directory));
  }
  const database = await shared.opened;
  return { ...database, db: database.db as OpenedDatabase<DB>['db'], close: async () => undefined };
}

/** Closes every shared PGlite under `root` (all of them when omitted); an open PGlite keeps Node alive. */
export async function closeSharedDatabases(root?: string): Promise<void> {
  const databases = registry();
  const prefix = root === undefined ? undefined : path.resolve(root) + path.sep;
  const closing: Promise<void>[] = [];
  for (const [directory, shared] of databases) {
    if (prefix !== undefined && !(directory + path.sep).startsWith(prefix)) continue;
    databases.delete(directory);
    closing.push(shared.opened.then((database) => database.close(), () => undefined));
  }
  await Promise.all(closing);
}
