/** What the dashboard API's parts answer with, and the checks they share — on the twin's server and in the Lambda alike. */

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

export type Reply = { status: number; json: unknown } | { status: number; body: string | Uint8Array; headers: Record<string, string> };

export function allowMethods(request: { readonly method?: string | undefined }, methods: readonly string[]): void {
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
