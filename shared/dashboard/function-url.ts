import { createHash, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyStructuredResultV2 as FunctionUrlResult, LambdaFunctionURLEvent } from 'aws-lambda';
import { errorReply, MAX_BODY_BYTES, routeApi, type DashboardBackend } from '#shared/dashboard/api.ts';
import { allowMethods, HttpError, type Reply } from '#shared/dashboard/http.ts';

/**
 * The dashboard API behind CloudFront on AWS: a Lambda function URL (auth type NONE, reached only through the
 * distribution's `/api/*` behaviour) answering the same routes as the twin's server, with the same rules — the
 * bearer token from Secrets Manager compared in constant time, no CORS, a foreign `Origin` refused, bodies of at
 * most 64 KB. `/api/events` cannot stream from a buffered function: it answers one `snapshot` event with
 * `retry: 2000`, and the browser's EventSource comes back for the next one (a poll every two seconds).
 */

export const EVENTS_RETRY_MS = 2_000;

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

export interface FunctionUrlApiOptions {
  readonly backend: DashboardBackend;
  /** The dashboard's token; read once per container from Secrets Manager. */
  token(): Promise<string>;
  /** The distribution's own origin, e.g. `https://d111111abcdef8.cloudfront.net`: the only `Origin` accepted. */
  readonly allowedOrigin: string;
}

export function functionUrlApi(options: FunctionUrlApiOptions): (event: LambdaFunctionURLEvent) => Promise<FunctionUrlResult> {
  return async (event) => {
    try {
      const reply = await answer(event, options);
      return toResult(reply);
    } catch (error) {
      const { status, headers, json } = errorReply(error);
      return { statusCode: status, headers: { ...SECURITY_HEADERS, ...headers, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(json) };
    }
  };
}

async function answer(event: LambdaFunctionURLEvent, options: FunctionUrlApiOptions): Promise<Reply | { sse: string }> {
  const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([name, value]) => [name.toLowerCase(), value ?? '']));
  const origin = headers.origin;
  if (origin !== undefined && origin !== options.allowedOrigin) throw new HttpError(403, `requests from ${origin} are refused: open the dashboard at ${options.allowedOrigin}`, 'Forbidden');
  const path = event.rawPath;
  const searchParams = new URLSearchParams(event.rawQueryString ?? '');
  const isEvents = path === '/api/events';
  const bearer = /^Bearer \S+$/i.test(headers.authorization ?? '') ? headers.authorization!.slice(7) : undefined;
  const given = bearer ?? (isEvents ? (searchParams.get('token') ?? undefined) : undefined);
  if (given === undefined || !timingSafeEqual(digest(given), digest(await options.token()))) {
    throw new HttpError(401, 'a valid dashboard token is needed: open the URL the deployment printed', 'Unauthorized', { 'www-authenticate': 'Bearer' });
  }
  const method = event.requestContext.http.method;
  if (isEvents) {
    allowMethods({ method }, ['GET']);
    return { sse: `retry: ${EVENTS_RETRY_MS}\nevent: snapshot\ndata: ${JSON.stringify(await options.backend.snapshot())}\n\n` };
  }
  const body = event.body === undefined ? '' : event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  if (Buffer.byteLength(body) > MAX_BODY_BYTES) throw new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes, the most the dashboard takes`, 'PayloadTooLarge');
  return routeApi({ method, path, searchParams, contentType: headers['content-type'], text: async () => body }, options.backend, () => options.backend.snapshot());
}

function toResult(reply: Reply | { sse: string }): FunctionUrlResult {
  if ('sse' in reply) return { statusCode: 200, headers: { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8' }, body: reply.sse };
  if ('json' in reply) return { statusCode: reply.status, headers: { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' }, body: JSON.stringify(reply.json) };
  const binary = typeof reply.body !== 'string';
  return {
    statusCode: reply.status,
    headers: { ...SECURITY_HEADERS, ...reply.headers },
    body: binary ? Buffer.from(reply.body).toString('base64') : (reply.body as string),
    isBase64Encoded: binary,
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
