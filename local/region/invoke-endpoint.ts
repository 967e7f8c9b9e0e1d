import type { IncomingMessage, ServerResponse } from 'node:http';
import { newRequestId } from '#local/lambda/context.ts';
import { FunctionInvocationError, type FunctionTimeoutError } from '#local/lambda/errors.ts';
import type { LocalLambdaFunction } from '#local/lambda/runtime.ts';
import type { SkippedFunction } from '#local/region/region-functions.ts';

/**
 * AWS Lambda's Invoke API on the region's status server, so operators, the controller and workflows call a
 * function the way they would on AWS (`aws lambda invoke --endpoint-url <status url>` works):
 *
 *   POST /2015-03-31/functions/<name or ARN>/invocations      body: the event (JSON; empty means `{}`)
 *
 * `X-Amz-Invocation-Type`: `RequestResponse` (default) answers 200 with the result as JSON (`null` for none), and
 * a failure or timeout as 200 with `X-Amz-Function-Error: Unhandled` and `{errorType, errorMessage, trace}`, as
 * AWS does; `Event` answers 202 at once and runs the function in the background; `DryRun` answers 204.
 * Refusals carry `x-amzn-ErrorType` and `{errorType, errorMessage}`: 404 ResourceNotFoundException (no such
 * function in this region), 400 InvalidRequestContentException (not JSON), 413 RequestTooLargeException (over
 * 6 MB, Lambda's synchronous payload limit).
 */

const INVOKE_PATH = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/;
export const MAX_INVOKE_PAYLOAD_BYTES = 6 * 1024 * 1024;
// Past this an oversized upload is cut off instead of drained, so a runaway client cannot keep the region busy.
const MAX_DRAINED_BYTES = 64 * 1024 * 1024;

export const FUNCTION_ERROR_HEADER = 'X-Amz-Function-Error';

export interface InvokeEndpointOptions {
  readonly region: string;
  readonly functions: ReadonlyMap<string, LocalLambdaFunction<unknown>>;
  /** Manifest functions without a handler module: named in the 404, so the caller learns why. */
  readonly skipped: readonly SkippedFunction[];
  /** Failures of `Event` invocations, which have no caller to answer. */
  readonly onBackgroundFailure: (functionName: string, error: { errorType: string; errorMessage: string }) => void;
}

/** What AWS puts in an Unhandled function error's payload. */
export interface FunctionErrorPayload {
  readonly errorType: string;
  readonly errorMessage: string;
  readonly trace?: string[];
}

class InvokeRequestError extends Error {
  override readonly name = 'InvokeRequestError';
  constructor(
    readonly status: number,
    readonly errorType: string,
    message: string,
  ) {
    super(message);
  }
}

/** What the handler threw (not the runtime's wrapper), as AWS reports it; a timeout reports itself. */
export function functionErrorPayload(error: FunctionInvocationError | FunctionTimeoutError): FunctionErrorPayload {
  const original = error instanceof FunctionInvocationError ? error.cause : error;
  if (original instanceof Error) {
    return { errorType: original.name, errorMessage: original.message, ...(original.stack ? { trace: original.stack.split('\n') } : {}) };
  }
  return { errorType: typeof original, errorMessage: String(original) };
}

/** A status-server route: answers and returns true for an invoke request, returns false for any other path. */
export function invokeRoute(options: InvokeEndpointOptions): (request: IncomingMessage, response: ServerResponse) => boolean {
  return (request, response) => {
    const match = INVOKE_PATH.exec((request.url ?? '/').split('?')[0]!);
    if (!match) return false;
    void invoke(options, request, decodeURIComponent(match[1]!), response).catch((error: unknown) => {
      const refusal = error instanceof InvokeRequestError ? error : new InvokeRequestError(500, 'ServiceException', String(error));
      refuse(response, refusal, request);
    });
    return true;
  };
}

async function invoke(options: InvokeEndpointOptions, request: IncomingMessage, nameOrArn: string, response: ServerResponse): Promise<void> {
  // Read first: every answer, refusals included, then leaves the connection ready for the next request.
  const payload = await readPayload(request);
  if (request.method !== 'POST') throw new InvokeRequestError(405, 'InvalidRequestContentException', `${request.method} is not an invoke; POST the event`);
  const fn = findFunction(options, nameOrArn);
  const invocationType = headerOf(request, 'x-amz-invocation-type') ?? 'RequestResponse';
  if (!['RequestResponse', 'Event', 'DryRun'].includes(invocationType)) {
    throw new InvokeRequestError(400, 'InvalidParameterValueException', `X-Amz-Invocation-Type must be RequestResponse, Event or DryRun, not ${invocationType}`);
  }
  const event = parseEvent(payload);
  if (invocationType === 'DryRun') {
    response.writeHead(204).end();
    return;
  }
  if (invocationType === 'Event') {
    response.writeHead(202, { 'x-amzn-RequestId': newRequestId() }).end();
    const outcome = await fn.invoke(event);
    if (!outcome.ok) options.onBackgroundFailure(fn.functionName, functionErrorPayload(outcome.error));
    return;
  }
  const outcome = await fn.invoke(event);
  const headers = { 'content-type': 'application/json', 'x-amzn-RequestId': outcome.requestId, 'X-Amz-Executed-Version': '$LATEST' };
  if (outcome.ok) {
    let body: string;
    try {
      body = JSON.stringify(outcome.result ?? null);
    } catch (error) {
      response.writeHead(200, { ...headers, [FUNCTION_ERROR_HEADER]: 'Unhandled' }).end(
        JSON.stringify({ errorType: 'Runtime.MarshalError', errorMessage: `the result cannot be serialized as JSON: ${(error as Error).message}` }),
      );
      return;
    }
    response.writeHead(200, headers).end(body);
    return;
  }
  response.writeHead(200, { ...headers, [FUNCTION_ERROR_HEADER]: 'Unhandled' }).end(JSON.stringify(functionErrorPayload(outcome.error)));
}

function findFunction(options: InvokeEndpointOptions, nameOrArn: string): LocalLambdaFunction<unknown> {
  // AWS accepts a name, a partial ARN or a full ARN; `$LATEST` is the only version the twin has.
  const name = (nameOrArn.includes(':function:') ? nameOrArn.split(':function:')[1]! : nameOrArn).replace(/:\$LATEST$/, '');
  const fn = options.functions.get(name);
  if (fn) return fn;
  const arn = `arn:aws:lambda:${options.region}:000000000000:function:${name}`;
  const skipped = options.skipped.find((candidate) => candidate.name === name);
  throw new InvokeRequestError(
    404,
    'ResourceNotFoundException',
    skipped ? `Function not found: ${arn} (the manifest declares it, but this region runs it not: ${skipped.reason})` : `Function not found: ${arn}`,
  );
}

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readPayload(request: IncomingMessage): Promise<Buffer> {
  const declared = Number(headerOf(request, 'content-length') ?? 0);
  const tooLarge = (size: number) =>
    new InvokeRequestError(413, 'RequestTooLargeException', `Request must be smaller than ${MAX_INVOKE_PAYLOAD_BYTES} bytes for the InvokeFunction operation (got ${size})`);
  if (declared > MAX_DRAINED_BYTES) throw tooLarge(declared);
  const chunks: Buffer[] = [];
  let size = 0;
  // An oversized body is read to its end before the 413, so the client gets the answer, not a reset connection.
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_DRAINED_BYTES) throw tooLarge(size);
    if (size <= MAX_INVOKE_PAYLOAD_BYTES) chunks.push(chunk as Buffer);
  }
  if (size > MAX_INVOKE_PAYLOAD_BYTES) throw tooLarge(size);
  return Buffer.concat(chunks);
}

function parseEvent(payload: Buffer): unknown {
  const text = payload.toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvokeRequestError(400, 'InvalidRequestContentException', `Could not parse request body into json: ${(error as Error).message}`);
  }
}

function refuse(response: ServerResponse, error: InvokeRequestError, request: IncomingMessage): void {
  if (response.headersSent) return;
  // A body cut off above the drain limit must not be read as the connection's next request.
  const unread = !request.complete;
  response
    .writeHead(error.status, { 'content-type': 'application/json', 'x-amzn-ErrorType': error.errorType, ...(unread ? { connection: 'close' } : {}) })
    .end(JSON.stringify({ errorType: error.errorType, errorMessage: error.message }), () => {
      if (unread) request.destroy();
    });
}
