import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '#local/support/listen.ts';
import type { RdsGlobalClusterApi } from '#local/global/aurora/rds-api.ts';
import { InvalidParameterValueError, MissingParameterError, RdsServiceError } from '#local/global/aurora/rds-errors.ts';

/**
 * The twin's RDS endpoint: the awsQuery protocol `@aws-sdk/client-rds` speaks (a form-encoded POST of
 * `Action=…&Version=2014-10-31&…`, answered with XML in the RDS namespace; faults as
 * `<ErrorResponse><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error>…`). Functions reach it through
 * `AWS_ENDPOINT_URL_RDS`. Signatures are not checked, as no twin emulator checks them.
 */

const API_VERSION = '2014-10-31';
const NAMESPACE = `http://rds.amazonaws.com/doc/${API_VERSION}/`;
const MAX_BODY_BYTES = 1024 * 1024;
/** The element each list's items are wrapped in, as the RDS model names them; `member` otherwise. */
const LIST_ITEM_ELEMENTS: Readonly<Record<string, string>> = {
  GlobalClusters: 'GlobalClusterMember',
  GlobalClusterMembers: 'GlobalClusterMember',
};

export interface RunningRdsApi {
  readonly url: string;
  close(): Promise<void>;
}

export async function startRdsApiServer(api: RdsGlobalClusterApi, { port = 0, host = '127.0.0.1' }: { port?: number; host?: string } = {}): Promise<RunningRdsApi> {
  const server: Server = createServer((request, response) => void handle(api, request, response));
  const bound = await listen(server, host, port);
  return {
    url: `http://${host}:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(api: RdsGlobalClusterApi, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const requestId = randomUUID();
  try {
    if (request.method !== 'POST') throw new InvalidParameterValueError(`The twin's RDS endpoint takes form-encoded POST requests, not ${request.method}.`);
    const parameters = Object.fromEntries(new URLSearchParams(await readBody(request)));
    const { Action: action = '', Version: version, ...rest } = parameters;
    if (version === undefined) throw new MissingParameterError('Version');
    if (version !== API_VERSION) throw new InvalidParameterValueError(`The twin's RDS endpoint serves API version ${API_VERSION}, not ${version}.`);
    const result = api.invoke(action, rest);
    const xml =
      `<${action}Response xmlns="${NAMESPACE}">` +
      `<${action}Result>${toXml(result)}</${action}Result>` +
      `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
      `</${action}Response>`;
    response.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
  } catch (error) {
    writeError(response, requestId, error);
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_BODY_BYTES) {
        reject(new InvalidParameterValueError(`The request body exceeds ${MAX_BODY_BYTES} bytes.`));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

/** Members in order; lists as repeated item elements; absent members left out. */
function toXml(value: Record<string, unknown>): string {
  return Object.entries(value)
    .filter(([, member]) => member !== undefined)
    .map(([name, member]) => {
      if (Array.isArray(member)) {
        const item = LIST_ITEM_ELEMENTS[name] ?? 'member';
        return `<${name}>${member.map((entry) => `<${item}>${scalarOrStructure(entry)}</${item}>`).join('')}</${name}>`;
      }
      return `<${name}>${scalarOrStructure(member)}</${name}>`;
    })
    .join('');
}

function scalarOrStructure(value: unknown): string {
  if (value !== null && typeof value === 'object') return toXml(value as Record<string, unknown>);
  return escapeXml(String(value));
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

function writeError(response: ServerResponse, requestId: string, error: unknown): void {
  const known = error instanceof RdsServiceError ? error : undefined;
  const code = known?.code ?? 'InternalFailure';
  const message = known?.message ?? `internal error: ${error instanceof Error ? error.message : String(error)}`;
  const xml =
    `<ErrorResponse xmlns="${NAMESPACE}">` +
    `<Error><Type>${known?.faultType ?? 'Receiver'}</Type><Code>${code}</Code><Message>${escapeXml(message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId>` +
    `</ErrorResponse>`;
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(known?.httpStatus ?? 500, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
}
