import { InvokeCommand, LambdaClient, LambdaServiceException, type InvokeCommandOutput } from '@aws-sdk/client-lambda';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { isServerError, networkErrorCode } from '#shared/adapters/aws/network-errors.ts';
import {
  FunctionInvocationError,
  INVOCATION_ERROR_NAMES,
  InvokedFunctionError,
  type InvokeOptions,
  type RegionalFunctionInvoker,
} from '#shared/ports/function-invoker.ts';

/**
 * Running a function of any region over Lambda's `Invoke` API (`RequestResponse`), one cached client per region.
 * Credentials are the SDK's defaults (the relay's role); `AWS_ENDPOINT_URL_LAMBDA` overrides the endpoint when set.
 *
 * The SDK makes one attempt per call: an `Invoke` the SDK repeated after a timeout could run the function twice, and
 * the workflow's Retry decides what is worth repeating, as it would had Step Functions called the function itself.
 * The request may wait as long as a function can run (15 minutes); the caller bounds it with `signal` (the relay
 * gives up shortly before its own timeout).
 *
 * Errors, named as Step Functions names them (shared/ports/function-invoker.ts):
 * - the response's `FunctionError`: the function's `{errorType, errorMessage}` → InvokedFunctionError named
 *   `errorType` (`Lambda.Unknown` when Lambda gave none: the function was killed);
 * - throttling (TooManyRequestsException, EC2ThrottledException, ThrottlingException) → `Lambda.TooManyRequestsException`;
 * - ServiceException and any HTTP 5xx → `Lambda.ServiceException`;
 * - no answer (socket errors, timeouts, an aborted wait, anything that is not the service's answer) →
 *   `Lambda.SdkClientException`;
 * - anything else Lambda refused → `Lambda.<exception>` (`Lambda.ResourceNotFoundException`, …), not transient.
 */

/** The one call the invoker makes; `LambdaClient` satisfies it, a test stubs it. */
export interface InvokeClient {
  send(command: InvokeCommand, options?: { abortSignal?: AbortSignal }): Promise<InvokeCommandOutput>;
}

export interface LambdaRegionInvokerOptions {
  /** Builds the client for a region; once per region. The SDK's LambdaClient by default. */
  readonly clientFor?: (region: string) => InvokeClient;
  /** 5 000 ms by default. */
  readonly connectionTimeoutMs?: number;
  /** How long one invocation may take to answer; 900 000 ms (Lambda's longest timeout) by default. */
  readonly requestTimeoutMs?: number;
}

const THROTTLES = new Set(['TooManyRequestsException', 'ThrottlingException', 'EC2ThrottledException']);

export class LambdaRegionInvoker implements RegionalFunctionInvoker {
  private readonly clients = new Map<string, InvokeClient>();
  private readonly clientFor: (region: string) => InvokeClient;

  constructor(options: LambdaRegionInvokerOptions = {}) {
    this.clientFor =
      options.clientFor ??
      ((region) =>
        new LambdaClient({
          region,
          maxAttempts: 1,
          requestHandler: new NodeHttpHandler({
            connectionTimeout: options.connectionTimeoutMs ?? 5_000,
            requestTimeout: options.requestTimeoutMs ?? 900_000,
            throwOnRequestTimeout: true,
          }),
        }));
  }

  async invoke(region: string, functionName: string, payload: unknown, options: InvokeOptions = {}): Promise<unknown> {
    const command = new InvokeCommand({
      FunctionName: functionName,
      InvocationType: 'RequestResponse',
      Payload: new TextEncoder().encode(JSON.stringify(payload ?? null)),
    });
    let output: InvokeCommandOutput;
    try {
      output = await this.client(region).send(command, options.signal ? { abortSignal: options.signal } : {});
    } catch (error) {
      throw translate(error, functionName, region);
    }
    const text = output.Payload?.length ? new TextDecoder().decode(output.Payload) : '';
    if (output.FunctionError !== undefined) throw functionFailure(text, functionName, region);
    if (text === '') return null;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new FunctionInvocationError(INVOCATION_ERROR_NAMES.unknown, `${functionName} in ${region} answered no JSON: ${text.slice(0, 200)}`, functionName, region, false, { cause: error });
    }
  }

  private client(region: string): InvokeClient {
    let client = this.clients.get(region);
    if (!client) {
      client = this.clientFor(region);
      this.clients.set(region, client);
    }
    return client;
  }
}

/** The function's `{errorType, errorMessage, trace}`, as its runtime reported the error it threw. */
function functionFailure(text: string, functionName: string, region: string): InvokedFunctionError {
  let body: { errorType?: unknown; errorMessage?: unknown; trace?: unknown } | undefined;
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) body = parsed;
  } catch {
    // Not JSON: the text itself is the best message there is.
  }
  const errorType = typeof body?.errorType === 'string' && body.errorType !== '' ? body.errorType : INVOCATION_ERROR_NAMES.unknown;
  const errorMessage = typeof body?.errorMessage === 'string' ? body.errorMessage : text;
  const trace = Array.isArray(body?.trace) ? body.trace.filter((line): line is string => typeof line === 'string') : undefined;
  return new InvokedFunctionError(errorType, errorMessage, functionName, region, trace);
}

function translate(error: unknown, functionName: string, region: string): FunctionInvocationError {
  const name = error instanceof Error ? error.name : 'Error';
  const message = `${functionName} in ${region}: ${name}: ${error instanceof Error ? error.message : String(error)}`;
  const options = { cause: error };
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  const answered = error instanceof LambdaServiceException || typeof status === 'number';
  if (!answered || networkErrorCode(error)) return new FunctionInvocationError(INVOCATION_ERROR_NAMES.client, message, functionName, region, true, options);
  if (THROTTLES.has(name) || status === 429) return new FunctionInvocationError(INVOCATION_ERROR_NAMES.throttled, message, functionName, region, true, options);
  if (name === 'ServiceException' || isServerError(error)) return new FunctionInvocationError(INVOCATION_ERROR_NAMES.service, message, functionName, region, true, options);
  return new FunctionInvocationError(`Lambda.${name}`, message, functionName, region, false, options);
}
