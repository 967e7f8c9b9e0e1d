/**
 * The secrets port: where Rotor's adapters read credentials that must not sit in environment variables (on AWS,
 * Secrets Manager). Only adapters use it, to turn a `credentials=<secret id>` parameter of a broker URL or database
 * connection string into a login.
 *
 * Error messages name the secret id, never its value: both end up in logs.
 */

export interface SecretSource {
  /** The secret's current string value; rejects with SecretUnavailableError or InvalidSecretError. */
  getSecretString(secretId: string): Promise<string>;
}

/** The secret could not be read (network, throttling, permissions, missing secret). Retrying later may help. */
export class SecretUnavailableError extends Error {
  override readonly name = 'SecretUnavailableError';
  readonly transient = true;
  constructor(
    readonly secretId: string,
    reason: string,
    options?: ErrorOptions,
  ) {
    super(`secret ${secretId} could not be read: ${reason}`, options);
  }
}

/** The secret was read but does not hold what Rotor expects; it fails the same way until someone fixes it. */
export class InvalidSecretError extends Error {
  override readonly name = 'InvalidSecretError';
  readonly transient = false;
  constructor(
    readonly secretId: string,
    reason: string,
  ) {
    super(`secret ${secretId} ${reason}`);
  }
}
