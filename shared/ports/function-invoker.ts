/**
 * The function-invoker port: running a function of one region, by its deployed name, and waiting for its result
 * (on AWS, Lambda's `Invoke` with `RequestResponse`). The `invoke-in` relay uses it to run a workflow task in the
 * region the execution names (shared/operations/invoke-in.ts); the twin has its own invoker for the same idea
 * (local/controller/function-invoker.ts), addressed by region or app.
 *
 * A failure keeps the name Step Functions would have given it had it invoked the function itself, so the state's
 * Retry and Catch (`ErrorEquals`) match the same errors through the relay as without it:
 * - the function ran and failed: `InvokedFunctionError`, named by the function's own `errorType`
 *   (`DrainNotCompleteError`, `RoutingControlsUnreachableError`, …);
 * - the call did not get the function's answer (throttled, the API failed or could not be reached):
 *   `FunctionInvocationError`, named `Lambda.<exception>` as Step Functions names Lambda's errors
 *   (see INVOCATION_ERROR_NAMES).
 */

export interface InvokeOptions {
  /** Gives up waiting for the answer when aborted; the function may still finish. */
  readonly signal?: AbortSignal;
}

export interface RegionalFunctionInvoker {
  /** The function's result, parsed from JSON (null when it returned nothing); rejects with one of the errors below. */
  invoke(region: string, functionName: string, payload: unknown, options?: InvokeOptions): Promise<unknown>;
}

/** The names Step Functions gives Lambda's own failures; the workflows' Retry lists name the first three. */
export const INVOCATION_ERROR_NAMES = {
  /** Lambda failed internally or answered 5xx: worth asking again. */
  service: 'Lambda.ServiceException',
  /** Lambda throttled the call (concurrency, rate): worth asking again. */
  throttled: 'Lambda.TooManyRequestsException',
  /** No answer came back: the endpoint could not be reached, the connection broke, the caller gave up waiting. */
  client: 'Lambda.SdkClientException',
  /** The function failed without naming its error (Lambda killed it: out of memory, a crash). */
  unknown: 'Lambda.Unknown',
} as const;

/** The function ran and failed. `name` is its `errorType`, `message` its `errorMessage`, as the function threw them. */
export class InvokedFunctionError extends Error {
  override readonly name: string;
  constructor(
    errorType: string,
    errorMessage: string,
    readonly functionName: string,
    readonly region: string,
    /** The function's own stack trace, when its runtime reported one. */
    trace?: readonly string[],
  ) {
    super(errorMessage);
    this.name = errorType;
    if (trace?.length) this.stack = trace.join('\n');
  }
}

/**
 * The call did not return the function's answer. `name` is a Step Functions name for a Lambda error
 * (`Lambda.ServiceException`, `Lambda.TooManyRequestsException`, `Lambda.SdkClientException`, or
 * `Lambda.<exception>` for what Lambda refused, e.g. `Lambda.ResourceNotFoundException`).
 */
export class FunctionInvocationError extends Error {
  override readonly name: string;
  constructor(
    name: string,
    message: string,
    readonly functionName: string,
    readonly region: string,
    /** Asking again may succeed: throttling, a server error, no answer. */
    readonly transient: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = name;
  }
}
