import { request, type IncomingHttpHeaders } from 'node:http';

/**
 * A POST over node:http, for calls that last as long as a function runs. fetch (undici) gives up on an answer
 * after 300 s, and a synchronous invocation may take a function's whole 900 s timeout; here only the caller's
 * signal ends the wait. A fresh connection each time: a kept-alive one may lead to a region that has since died.
 */

export interface PostResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export function post(url: string, body: string | Buffer, options: { signal?: AbortSignal; headers?: Record<string, string> } = {}): Promise<PostResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...options.headers },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    outgoing.once('error', reject);
    outgoing.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', reject);
      response.once('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    outgoing.end(body);
  });
}

/** The first value of a response header. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
