import { GetEventSourceMappingCommand, LambdaClient, LambdaServiceException, UpdateEventSourceMappingCommand } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { isServerError, networkErrorCode } from '#shared/adapters/aws/network-errors.ts';
import {
  EventSourceMappingBusyError,
  EventSourceMappingNotFoundError,
  EventSourceMappingRequestError,
  EventSourceMappingsUnavailableError,
  type EventSourceMappings,
  type MappingState,
} from '#shared/ports/event-source-mappings.ts';

/**
 * Event-source mappings over the Lambda API (`@aws-sdk/client-lambda`). The client is the SDK's default otherwise:
 * region from `AWS_REGION`, endpoint from `AWS_ENDPOINT_URL_LAMBDA` when set, the function's role for credentials.
 *
 * Errors are named by what the caller should do: a mapping that is gone (ResourceNotFoundException) stays gone; one
 * busy with another change (ResourceConflictException, ResourceInUseException) and an API that throttles, fails
 * internally, times out or cannot be reached are worth asking again later; anything else the API judged (access
 * denied, a malformed UUID) fails the same way until someone fixes the deployment.
 */

const BUSY = new Set(['ResourceConflictException', 'ResourceInUseException']);
const UNAVAILABLE = new Set(['TooManyRequestsException', 'ThrottlingException', 'ServiceException', 'TimeoutError', 'RequestTimeout']);

export interface LambdaEventSourceMappingsOptions {
  /** 1 000 ms by default. */
  readonly connectionTimeoutMs?: number;
  /** 3 000 ms by default. */
  readonly requestTimeoutMs?: number;
  /** The SDK's attempts per call, the first included; 2 by default. */
  readonly maxAttempts?: number;
}

export class LambdaEventSourceMappings implements EventSourceMappings {
  constructor(private readonly client: LambdaClient) {}

  /**
   * Short timeouts and one retry: the follower asks again on its next tick a few seconds later, so a slow API must
   * not hold a tick, nor the invocation past its budget.
   */
  static fromEnvironment(options: LambdaEventSourceMappingsOptions = {}): LambdaEventSourceMappings {
    return new LambdaEventSourceMappings(
      new LambdaClient({
        requestHandler: new NodeHttpHandler({
          connectionTimeout: options.connectionTimeoutMs ?? 1_000,
          requestTimeout: options.requestTimeoutMs ?? 3_000,
          throwOnRequestTimeout: true,
        }),
        maxAttempts: options.maxAttempts ?? 2,
      }),
    );
  }

  async state(uuid: string): Promise<MappingState> {
    const output = await this.call(uuid, () => this.client.send(new GetEventSourceMappingCommand({ UUID: uuid })));
    // AWS always answers a State; an answer without one is treated as a state the follower does not know.
    return output.State ?? 'Unknown';
  }

  async setEnabled(uuid: string, enabled: boolean): Promise<void> {
    await this.call(uuid, () => this.client.send(new UpdateEventSourceMappingCommand({ UUID: uuid, Enabled: enabled })));
  }

  destroy(): void {
    this.client.destroy();
  }

  private async call<T>(uuid: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw translate(error, uuid);
    }
  }
}

function translate(error: unknown, uuid: string): Error {
  const name = error instanceof Error ? error.name : 'error';
  const message = error instanceof Error ? error.message : String(error);
  const options = { cause: error };
  if (name === 'ResourceNotFoundException') return new EventSourceMappingNotFoundError(uuid, options);
  if (BUSY.has(name)) return new EventSourceMappingBusyError(uuid, `${name}: ${message}`, options);
  const network = networkErrorCode(error);
  // Anything that is not the service's answer (a socket, a timeout, a response that could not be read) says
  // nothing about the request: it is worth sending again.
  if (network || UNAVAILABLE.has(name) || isServerError(error) || !(error instanceof LambdaServiceException)) {
    return new EventSourceMappingsUnavailableError(uuid, `${network ?? name}: ${message}`, options);
  }
  return new EventSourceMappingRequestError(uuid, `${name}: ${message}`, options);
}
