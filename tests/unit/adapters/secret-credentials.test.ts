import { describe, expect, it } from 'vitest';
import { SecretCredentials } from '#shared/adapters/secrets/secret-credentials.ts';
import { InvalidSecretError, SecretUnavailableError, type SecretSource } from '#shared/ports/secrets.ts';

/**
 * Credentials from a secret are read once per process and secret, shared by callers that ask at the same time, and
 * their failures are named errors that never quote the secret's value (it would end up in the logs).
 */

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:rotor/mq-AbCdEf';
const PASSWORD = 'hunter2-very-secret';

/** An in-memory SecretSource that counts reads and can be told to fail; `release` lets held reads finish. */
function memorySource(secrets: Record<string, string>) {
  const reads: string[] = [];
  let failure: Error | undefined;
  let hold: Promise<void> | undefined;
  let release: () => void = () => undefined;
  const source: SecretSource = {
    async getSecretString(secretId) {
      reads.push(secretId);
      if (hold) await hold;
      if (failure) throw failure;
      const value = secrets[secretId];
      if (value === undefined) throw new Error(`no secret ${secretId}`);
      return value;
    },
  };
  return {
    source,
    reads,
    failWith: (error: Error | undefined) => void (failure = error),
    holdReads: () => void (hold = new Promise<void>((resolve) => (release = resolve))),
    release: () => release(),
  };
}

describe('SecretCredentials', () => {
  it('reads each secret once and hands every later caller the same username and password', async () => {
    // Prepare
    const memory = memorySource({ [ARN]: JSON.stringify({ username: 'rotor', password: PASSWORD }), other: '{"username":"b","password":"c"}' });
    const credentials = new SecretCredentials(memory.source);

    // Act
    const first = await credentials.credentialsFor(ARN);
    const second = await credentials.credentialsFor(ARN);
    const other = await credentials.credentialsFor('other');

    // Assess
    expect(first).toEqual({ username: 'rotor', password: PASSWORD });
    expect(second).toEqual(first);
    expect(other).toEqual({ username: 'b', password: 'c' });
    expect(memory.reads).toEqual([ARN, 'other']);
  });

  it('shares one read between callers asking at the same time', async () => {
    // Prepare
    const memory = memorySource({ [ARN]: JSON.stringify({ username: 'rotor', password: PASSWORD }) });
    const credentials = new SecretCredentials(memory.source);
    memory.holdReads();

    // Act
    const pending = [credentials.credentialsFor(ARN), credentials.credentialsFor(ARN), credentials.credentialsFor(ARN)];
    memory.release();
    const results = await Promise.all(pending);

    // Assess
    expect(memory.reads).toEqual([ARN]);
    expect(new Set(results.map((result) => result.password))).toEqual(new Set([PASSWORD]));
  });

  it('ignores the other fields of an RDS-style secret', async () => {
    // Prepare
    const rdsSecret = { engine: 'postgres', host: 'db.example', port: 5432, dbname: 'tm', username: 'rotor', password: PASSWORD };
    const credentials = new SecretCredentials(memorySource({ [ARN]: JSON.stringify(rdsSecret) }).source);

    // Act
    const result = await credentials.credentialsFor(ARN);

    // Assess
    expect(result).toEqual({ username: 'rotor', password: PASSWORD });
  });

  it.each([
    ['no password', JSON.stringify({ username: 'rotor' })],
    ['no username', JSON.stringify({ password: PASSWORD })],
    ['a numeric password', JSON.stringify({ username: 'rotor', password: 1234 })],
    ['not JSON at all', PASSWORD],
    ['a JSON string', JSON.stringify(PASSWORD)],
  ])('refuses a secret holding %s with a non-transient InvalidSecretError that does not quote it', async (_case, value) => {
    // Prepare
    const credentials = new SecretCredentials(memorySource({ [ARN]: value }).source);

    // Act
    const error = await credentials.credentialsFor(ARN).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(InvalidSecretError);
    expect(error).toMatchObject({ name: 'InvalidSecretError', transient: false, secretId: ARN });
    expect((error as Error).message).toContain(ARN);
    expect((error as Error).message).not.toContain(PASSWORD);
    expect(JSON.stringify(error) + String((error as Error).cause)).not.toContain(PASSWORD);
  });

  it('turns a failed read into a transient SecretUnavailableError naming the secret, and reads again next time', async () => {
    // Prepare
    const memory = memorySource({ [ARN]: JSON.stringify({ username: 'rotor', password: PASSWORD }) });
    const credentials = new SecretCredentials(memory.source);
    memory.failWith(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act
    const error = await credentials.credentialsFor(ARN).catch((caught: unknown) => caught);
    memory.failWith(undefined);
    const retried = await credentials.credentialsFor(ARN);

    // Assess
    expect(error).toBeInstanceOf(SecretUnavailableError);
    expect(error).toMatchObject({ name: 'SecretUnavailableError', transient: true, secretId: ARN });
    expect((error as Error).message).toContain(ARN);
    expect((error as Error).message).toContain('ThrottlingException');
    expect((error as Error).message).not.toContain(PASSWORD);
    expect(retried.password).toBe(PASSWORD);
    expect(memory.reads).toEqual([ARN, ARN]);
  });

  it('passes a SecretUnavailableError from the source on as it is', async () => {
    // Prepare
    const memory = memorySource({});
    const original = new SecretUnavailableError(ARN, 'ResourceNotFoundException: not found');
    memory.failWith(original);

    // Act
    const error = await new SecretCredentials(memory.source).credentialsFor(ARN).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBe(original);
  });
});
