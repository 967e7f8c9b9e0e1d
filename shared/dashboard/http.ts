import type { IncomingMessage } from 'node:http';

/** What the dashboard server's parts answer with, and the checks they share. */

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'RequestError',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export type Reply = { status: number; json: unknown } | { status: number; body: string | Buffer; headers: Record<string, string> };

export function allowMethods(request: IncomingMessage, methods: readonly string[]): void {
  if (!methods.includes(request.method ?? '')) {
    throw new HttpError(405, `${request.method ?? ''} is not allowed here; use ${methods.join(' or ')}`, 'MethodNotAllowed', { allow: methods.join(', ') });
  }
}

export function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `${segment} is not a well-formed URL path`, 'BadRequest');
  }
}
