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

export function readBody(stream: IncomingMessage): Promise<Buffer> {
  // Plain listeners rather than `for await`: the async iterator costs promises per chunk on every request and answer.
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => {
      ended = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    });
    stream.once('error', reject);
    stream.once('close', () => {
      if (!ended) reject(new Error('connection closed before the whole body arrived'));
    });
  });
}

/** `DynamoDB_20120810.PutItem` → `PutItem`. */
export function operationOf(headers: IncomingHttpHeaders): string | undefined {
  const target = headers['x-amz-target'];
  if (typeof target !== 'string') return undefined;
  return target.slice(target.indexOf('.') + 1);
}

const upstreamAgent = new Agent({ keepAlive: true, maxSockets: 64 });
const upstreams = new Map<string, { hostname: string; port: number }>();
const HOP_BY_HOP = new Set(['host', 'content-length', 'connection']);

/** Sends the request to dynalite as the client sent it (dynalite does not check signatures, so a changed body is fine). */
export function forward(upstreamUrl: string, wire: WireRequest): Promise<WireResponse> {
  const headers: Record<string, string | string[]> = {};
  for (const name in wire.headers) {
    const value = wire.headers[name];
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  return send(upstreamUrl, wire.method, wire.path, headers, wire.body);
}

/** One HTTP exchange with dynalite over the shared keep-alive connections; sets content-length itself. */
export function send(upstreamUrl: string, method: string, path: string, headers: Record<string, string | string[]>, body: Buffer): Promise<WireResponse> {
  const { hostname, port } = upstreamOf(upstreamUrl);
  headers['content-length'] = String(body.length);
  return new Promise<WireResponse>((resolve, reject) => {
    const outgoing = request({ hostname, port, method, path, headers, agent: upstreamAgent }, (response) => {
      readBody(response).then((answer) => resolve({ status: response.statusCode ?? 500, headers: response.headers, body: answer }), reject);
    });
    outgoing.once('error', reject);
    outgoing.end(body);
  });
}

function upstreamOf(upstreamUrl: string): { hostname: string; port: number } {
  let parsed = upstreams.get(upstreamUrl);
  if (!parsed) {
    const url = new URL(upstreamUrl);
    parsed = { hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(url.port || 80) };
    upstreams.set(upstreamUrl, parsed);
  }
  return parsed;
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
