import { Agent, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { crc32 } from 'node:zlib';

/** A DynamoDB JSON 1.0 HTTP exchange, bodies fully buffered (items are at most 400 KB, batches 16 MB). */
export interface WireRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface WireResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

export async function readBody(stream: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** `DynamoDB_20120810.PutItem` → `PutItem`. */
export function operationOf(headers: IncomingHttpHeaders): string | undefined {
  const target = headers['x-amz-target'];
  if (typeof target !== 'string') return undefined;
  return target.slice(target.indexOf('.') + 1);
}

const upstreamAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/** Sends the request to dynalite as the client sent it (dynalite does not check signatures, so a changed body is fine). */
export function forward(upstreamUrl: string, wire: WireRequest): Promise<WireResponse> {
  const url = new URL(wire.path, upstreamUrl);
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(wire.headers)) {
    if (value !== undefined && name !== 'host' && name !== 'content-length' && name !== 'connection') headers[name] = value;
  }
  headers['content-length'] = String(wire.body.length);
  return new Promise<WireResponse>((resolve, reject) => {
    const outgoing = request(url, { method: wire.method, headers, agent: upstreamAgent }, (response) => {
      readBody(response).then((body) => resolve({ status: response.statusCode ?? 500, headers: response.headers, body }), reject);
    });
    outgoing.once('error', reject);
    outgoing.end(wire.body);
  });
}

/** A 200 response whose JSON body was changed; the CRC32 header the SDK may check is recomputed. */
export function jsonResponse(original: WireResponse, json: unknown): WireResponse {
  const body = Buffer.from(JSON.stringify(json));
  return { status: original.status, headers: { ...original.headers, 'x-amz-crc32': String(crc32(body)), 'content-length': String(body.length) }, body };
}

/** An error as DynamoDB sends it: the SDK takes the error name from `__type` after the `#`. */
export function errorResponse(status: number, type: string, message: string): WireResponse {
  const body = Buffer.from(JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message }));
  return {
    status,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-crc32': String(crc32(body)), 'content-length': String(body.length) },
    body,
  };
}
