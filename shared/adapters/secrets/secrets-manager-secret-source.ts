import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { networkErrorCode } from '#shared/adapters/aws/network-errors.ts';
import { InvalidSecretError, SecretUnavailableError, type SecretSource } from '#shared/ports/secrets.ts';

/**
 * The secrets port over AWS Secrets Manager (`@aws-sdk/client-secrets-manager`). The client is the SDK's default:
 * region from `AWS_REGION`, the default credential chain (the function's role on Lambda). No caching here; callers
 * cache through SecretCredentials, so each secret is fetched once per cold start.
 */
export class SecretsManagerSecretSource implements SecretSource {
  constructor(private readonly client: SecretsManagerClient) {}

  /** With timeouts: the read happens during a cold start, which must not wait out the function's whole budget. */
  static fromEnvironment(): SecretsManagerSecretSource {
    return new SecretsManagerSecretSource(
      new SecretsManagerClient({ requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true }) }),
    );
  }

  async getSecretString(secretId: string): Promise<string> {
    let secretString: string | undefined;
    try {
      ({ SecretString: secretString } = await this.client.send(new GetSecretValueCommand({ SecretId: secretId })));
    } catch (error) {
      // The SDK's errors describe the request, never the secret's value, so they are safe to pass on as the cause.
      const name = error instanceof Error ? error.name : 'error';
      const message = error instanceof Error ? error.message : String(error);
      throw new SecretUnavailableError(secretId, `${networkErrorCode(error) ?? name}: ${message}`, { cause: error });
    }
    if (secretString === undefined) throw new InvalidSecretError(secretId, 'has no SecretString (a binary secret?)');
    return secretString;
  }
}
