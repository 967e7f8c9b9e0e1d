import { InvalidSecretError, SecretUnavailableError, type SecretSource } from '#shared/ports/secrets.ts';

/**
 * A username and password kept in a secret whose SecretString is JSON `{"username": "…", "password": "…"}` (the
 * shape of Amazon MQ and RDS secrets; RDS ones also carry host, port, dbname and engine, which are ignored: the
 * connection string says where to connect).
 *
 * Each secret is read once per process and kept: a cold start pays for the read, warm invocations do not, and
 * connections opened at the same time share one request. A failed read is not kept, so the next connection
 * attempt reads again.
 */

/** The query parameter of a broker URL or database connection string that names the secret holding its login. */
export const CREDENTIALS_PARAMETER = 'credentials';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

export class SecretCredentials {
  private readonly cache = new Map<string, Promise<Credentials>>();

  constructor(private readonly source: SecretSource) {}

  credentialsFor(secretId: string): Promise<Credentials> {
    const cached = this.cache.get(secretId);
    if (cached) return cached;
    const reading = this.read(secretId);
    this.cache.set(secretId, reading);
    reading.catch(() => this.cache.get(secretId) === reading && this.cache.delete(secretId));
    return reading;
  }

  private async read(secretId: string): Promise<Credentials> {
    let secretString: string;
    try {
      secretString = await this.source.getSecretString(secretId);
    } catch (error) {
      if (error instanceof SecretUnavailableError || error instanceof InvalidSecretError) throw error;
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      throw new SecretUnavailableError(secretId, reason, { cause: error });
    }
    return parseCredentials(secretId, secretString);
  }
}

/** Never quotes the secret: JSON.parse's own message would, so it is neither repeated nor kept as the cause. */
function parseCredentials(secretId: string, secretString: string): Credentials {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString);
  } catch {
    throw new InvalidSecretError(secretId, 'is not JSON (expected {"username": "…", "password": "…"})');
  }
  const { username, password } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const missing = [typeof username === 'string' && username !== '' ? [] : ['username'], typeof password === 'string' ? [] : ['password']].flat();
  if (missing.length > 0) throw new InvalidSecretError(secretId, `has no string ${missing.join(' or ')} in its JSON`);
  return { username: username as string, password: password as string };
}

/**
 * Loads the Secrets Manager adapter on first use: a process whose URLs name no secret (the twin) never loads the
 * SDK nor builds its client.
 */
class LazySecretsManagerSource implements SecretSource {
  private loaded: Promise<SecretSource> | undefined;

  async getSecretString(secretId: string): Promise<string> {
    this.loaded ??= import('#shared/adapters/secrets/secrets-manager-secret-source.ts').then(({ SecretsManagerSecretSource }) =>
      SecretsManagerSecretSource.fromEnvironment(),
    );
    return (await this.loaded).getSecretString(secretId);
  }
}

const defaultSource = new LazySecretsManagerSource();
const sharedCredentials = new WeakMap<SecretSource, SecretCredentials>();

/**
 * The process-wide credentials cache over `source` (Secrets Manager when omitted), so every broker and database
 * opened in this process shares one read per secret.
 */
export function secretCredentials(source: SecretSource = defaultSource): SecretCredentials {
  let credentials = sharedCredentials.get(source);
  if (!credentials) {
    credentials = new SecretCredentials(source);
    sharedCredentials.set(source, credentials);
  }
  return credentials;
}
