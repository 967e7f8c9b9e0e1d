import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { DatabaseConnectionStringError, resolvePostgresConnectionString } from '#shared/adapters/postgres/database-registry.ts';
import { DatabaseConfigError, openDatabase } from '#shared/adapters/postgres/database.ts';
import { InvalidSecretError, SecretUnavailableError, type SecretSource } from '#shared/ports/secrets.ts';

/**
 * On AWS a function's database connection string names the Secrets Manager secret holding the login
 * (`?credentials=<encoded ARN>`); the URL handed to `pg` carries the secret's user and password and no longer the
 * parameter. Without the parameter the string goes to `pg` untouched, as the twin's do.
 */

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!cluster-0a1b2c3d-XyZ';
const HOST = 'rotor-tm.cluster-abc123.us-east-1.rds.amazonaws.com';

function secretsHolding(value: unknown): SecretSource & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    getSecretString: async (id) => {
      reads.push(id);
      return typeof value === 'string' ? value : JSON.stringify(value);
    },
  };
}

/** What pg itself makes of a connection string, without connecting anywhere. */
function pgParameters(connectionString: string) {
  const parameters = (new pg.Client({ connectionString }) as unknown as { connectionParameters: Record<string, unknown> }).connectionParameters;
  return { user: parameters.user, password: parameters.password, host: parameters.host, port: parameters.port, database: parameters.database };
}

describe('resolvePostgresConnectionString', () => {
  it('puts the username and password of the secret in the URL and drops the credentials parameter', async () => {
    // Prepare
    const secrets = secretsHolding({ engine: 'postgres', host: 'ignored', port: 1, dbname: 'ignored', username: 'rotor_app', password: 'p@ss:w/rd%41 +?#' });
    const connectionString = `postgres://${HOST}:5432/trade_matching?sslmode=require&credentials=${encodeURIComponent(ARN)}`;

    // Act
    const resolved = await resolvePostgresConnectionString(connectionString, secrets);

    // Assess
    const url = new URL(resolved);
    expect(url.searchParams.has('credentials')).toBe(false);
    expect(url.searchParams.get('sslmode')).toBe('require');
    expect(secrets.reads).toEqual([ARN]);
    expect(pgParameters(resolved)).toEqual({ user: 'rotor_app', password: 'p@ss:w/rd%41 +?#', host: HOST, port: 5432, database: 'trade_matching' });
  });

  it('accepts postgresql:// and leaves no query string when credentials was the only parameter', async () => {
    // Prepare
    const secrets = secretsHolding({ username: 'rotor_app', password: 'secret' });

    // Act
    const resolved = await resolvePostgresConnectionString(`postgresql://${HOST}:5432/settlement?credentials=${encodeURIComponent(ARN)}`, secrets);

    // Assess
    expect(resolved).toBe(`postgresql://rotor_app:secret@${HOST}:5432/settlement`);
  });

  it('returns a connection string without credentials exactly as given, reading no secret', async () => {
    // Prepare
    const secrets = secretsHolding({ username: 'unused', password: 'unused' });
    const connectionString = 'postgres://rotor:rotor@127.0.0.1:5433/trade_matching?sslmode=disable';

    // Act
    const resolved = await resolvePostgresConnectionString(connectionString, secrets);

    // Assess
    expect(resolved).toBe(connectionString);
    expect(secrets.reads).toEqual([]);
  });

  it('refuses a connection string with both a password and a credentials secret', async () => {
    // Prepare
    const secrets = secretsHolding({ username: 'rotor_app', password: 'secret' });

    // Act
    const resolving = resolvePostgresConnectionString(`postgres://rotor:pw@${HOST}/tm?credentials=${encodeURIComponent(ARN)}`, secrets);

    // Assess
    await expect(resolving).rejects.toBeInstanceOf(DatabaseConnectionStringError);
    expect(secrets.reads).toEqual([]);
  });

  it('passes the named secret errors on: InvalidSecretError without quoting the secret, SecretUnavailableError as transient', async () => {
    // Prepare
    const malformed = secretsHolding('not-json-hunter2');
    const unreadable: SecretSource = { getSecretString: () => Promise.reject(new Error('AccessDeniedException')) };
    const connectionString = (id: string) => `postgres://${HOST}:5432/tm?sslmode=require&credentials=${encodeURIComponent(id)}`;

    // Act
    const invalid = await resolvePostgresConnectionString(connectionString(`${ARN}-malformed`), malformed).catch((error: unknown) => error);
    const unavailable = await resolvePostgresConnectionString(connectionString(`${ARN}-unreadable`), unreadable).catch((error: unknown) => error);

    // Assess
    expect(invalid).toBeInstanceOf(InvalidSecretError);
    expect((invalid as Error).message).not.toContain('hunter2');
    expect(unavailable).toBeInstanceOf(SecretUnavailableError);
    expect(unavailable).toMatchObject({ transient: true, secretId: `${ARN}-unreadable` });
  });
});

describe('openDatabase with an unresolved credentials parameter', () => {
  it('refuses it rather than connecting without a password', async () => {
    // Act
    const opening = openDatabase({ backend: 'postgres', url: `postgres://${HOST}:5432/tm?credentials=${encodeURIComponent(ARN)}` }, { verify: false });

    // Assess
    await expect(opening).rejects.toBeInstanceOf(DatabaseConfigError);
  });
});
