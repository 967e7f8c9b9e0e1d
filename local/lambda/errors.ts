/** The handler did not settle before the function's configured timeout; AWS reports this as `Task timed out`. */
export class FunctionTimeoutError extends Error {
  override readonly name = 'FunctionTimeoutError';
  constructor(
    readonly functionName: string,
    readonly requestId: string,
    readonly timeoutSeconds: number,
  ) {
    super(`${requestId} Task timed out after ${timeoutSeconds.toFixed(2)} seconds (function ${functionName})`);
  }
}

/** The handler threw or returned a rejected promise (AWS `FunctionError: Unhandled`). */
export class FunctionInvocationError extends Error {
  override readonly name = 'FunctionInvocationError';
  /** AWS `errorType`: the name of what the handler threw. */
  readonly errorType: string;
  constructor(
    readonly functionName: string,
    readonly requestId: string,
    cause: unknown,
  ) {
    const errorType = cause instanceof Error ? cause.name : typeof cause;
    const errorMessage = cause instanceof Error ? cause.message : String(cause);
    super(`${functionName} ${requestId} failed: ${errorType}: ${errorMessage}`, { cause });
    this.errorType = errorType;
  }
}

/** A handler reference such as `functions/x/y.handler` could not be resolved to a function. */
export class HandlerLoadError extends Error {
  override readonly name = 'HandlerLoadError';
  constructor(
    readonly handlerReference: string,
    reason: string,
    cause?: unknown,
  ) {
    super(`cannot load handler '${handlerReference}': ${reason}`, cause === undefined ? undefined : { cause });
  }
}

/** A function definition violates the limits AWS Lambda enforces. */
export class FunctionConfigurationError extends Error {
  override readonly name = 'FunctionConfigurationError';
}
