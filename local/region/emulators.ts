import { listen } from '#local/support/listen.ts';
import { mkdir } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { StreamActivity } from '#local/event-sources/stream-activity.ts';
import dynalite from 'dynalite';
import kinesalite from 'kinesalite';

/**
 * The region's AWS-API emulators, each an HTTP server on 127.0.0.1 backed by LevelDB under the data directory,
 * so a region killed with SIGKILL finds every stream record and table item again when it restarts.
 */

export interface RunningEmulator {
  /** `http://127.0.0.1:<port>`, what the SDK's endpoint variables point at. */
  readonly endpoint: string;
  readonly port: number;
  /** Stops serving and closes the LevelDB store (its lock would stop the next start on the same directory). */
  close(): Promise<void>;
  /** Requests received so far per API operation (what follows the dot of `x-amz-target`), for `rotor bench`. */
  calls(): Record<string, number>;
}

/** An emulator's HTTP server did not have the single request handler its front is put before. */
export class EmulatorFrontError extends Error {
  override readonly name = 'EmulatorFrontError';
}

type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Chaos experiments' faults at the emulators' HTTP fronts (local/chaos/emulator-faults.ts): throttle a request
 * instead of serving it, or store a put a second time.
 */
export interface EmulatorFaults {
  throttles(service: 'kinesis' | 'dynamodb', operation: string): boolean;
  duplicatesPut(stream: string): boolean;
}

// Marks the second copy of a duplicated put, so it is not duplicated again.
const DUPLICATE_HEADER = 'x-rotor-chaos-duplicate';

const THROTTLE_ERRORS = {
  kinesis: { __type: 'ProvisionedThroughputExceededException', message: 'Rate exceeded for shard (chaos: throttle-kinesis)' },
  dynamodb: { __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'The level of configured provisioned throughput for the table was exceeded (chaos: throttle-dynamodb)' },
} as const;

/** Answers as the service does when throttling; the body is drained so the connection stays usable. */
function answerThrottled(service: 'kinesis' | 'dynamodb', request: IncomingMessage, response: ServerResponse): void {
  request.resume();
  const contentType = service === 'kinesis' ? 'application/x-amz-json-1.1' : 'application/x-amz-json-1.0';
  response.writeHead(400, { 'content-type': contentType, 'x-amzn-requestid': 'chaos-throttle' }).end(JSON.stringify(THROTTLE_ERRORS[service]));
}

/**
 * Puts `front` before the emulator's own request handler, which still gets every request and reads its body
 * itself; the front only looks, unless it answers the request itself (returns true: an injected fault). This keeps
 * kinesalite and dynalite unforked.
 */
function putInFront(server: Server, front: (request: IncomingMessage, response: ServerResponse) => boolean | void): void {
  const handlers = server.listeners('request') as RequestHandler[];
  const [handler] = handlers;
  if (handlers.length !== 1 || !handler) throw new EmulatorFrontError(`expected one request handler on the emulator's server, found ${handlers.length}`);
  server.removeListener('request', handler);
  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    if (front(request, response) === true) return;
    // Synchronously after the front, so the emulator's 'data' listener is attached before any body chunk flows.
    handler.call(server, request, response);
  });
}

function operationOf(request: IncomingMessage): string {
  const target = request.headers['x-amz-target'];
  const dot = typeof target === 'string' ? target.indexOf('.') : -1;
  return typeof target === 'string' && dot !== -1 ? target.slice(dot + 1) : 'unknown';
}

class CallCounter {
  private readonly counts = new Map<string, number>();

  count(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

const PUT_OPERATIONS = new Set(['PutRecord', 'PutRecords']);

/**
 * Once kinesalite has stored a put (it answers 200 only after the write): rings the put's stream, and sends the
 * same request again when a chaos fault duplicates puts to that stream.
 */
function afterPut(request: IncomingMessage, response: ServerResponse, activity: StreamActivity | undefined, faults: EmulatorFaults | undefined, port: () => number): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  response.once('finish', () => {
    if (response.statusCode !== 200) return;
    const body = Buffer.concat(chunks);
    const stream = streamNameOf(body, request.headers['content-type']);
    if (stream === undefined) activity?.ringAll();
    else activity?.ring(stream);
    if (faults && stream !== undefined && request.headers[DUPLICATE_HEADER] === undefined && faults.duplicatesPut(stream)) putAgain(request, body, port());
  });
}

function putAgain(original: IncomingMessage, body: Buffer, port: number): void {
  const headers = { ...original.headers, [DUPLICATE_HEADER]: '1', 'content-length': String(body.length) };
  const again = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: original.url ?? '/', headers }, (answer) => answer.resume());
  // A duplicate that cannot be stored is simply not a duplicate; the original is already there.
  again.on('error', () => undefined);
  again.end(body);
}

/** Undefined when the body does not say (CBOR from other SDKs, an unexpected shape): the caller then rings all. */
function streamNameOf(body: Buffer, contentType: string | undefined): string | undefined {
  if (!contentType?.startsWith('application/x-amz-json')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const { StreamName, StreamARN } = (parsed ?? {}) as { StreamName?: unknown; StreamARN?: unknown };
  if (typeof StreamName === 'string') return StreamName;
  // arn:aws:kinesis:<region>:<account>:stream/<name>
  return typeof StreamARN === 'string' ? StreamARN.slice(StreamARN.lastIndexOf('/') + 1) : undefined;
}


function running(server: Server, host: string, port: number, calls: CallCounter): RunningEmulator {
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${host}:${port}`,
    port,
    calls: () => calls.snapshot(),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        // SDK clients keep connections alive; without this the close would wait for them to time out.
        const dropConnections = setInterval(() => server.closeAllConnections(), 50);
        server.closeAllConnections();
        server.close((error?: Error) => {
          clearInterval(dropConnections);
          if (error && (error as NodeJS.ErrnoException).code !== 'ERR_SERVER_NOT_RUNNING') reject(error);
          else resolve();
        });
      });
      return closing;
    },
  };
}

export interface EmulatorOptions {
  /** Directory of the LevelDB store; created when missing. */
  readonly path: string;
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
}

export interface KinesisEmulatorOptions extends EmulatorOptions {
  /**
   * Rung with the stream's name after every successful PutRecord(s), whoever the client is (every put reaches this
   * server), so the region's mappings can wait for records rather than poll.
   */
  readonly activity?: StreamActivity;
  readonly faults?: EmulatorFaults;
}

export async function startKinesisEmulator({ path, host = '127.0.0.1', port = 0, activity, faults }: KinesisEmulatorOptions): Promise<RunningEmulator> {
  await mkdir(path, { recursive: true });
  // Streams become ACTIVE at once; the region still waits for ACTIVE, as it must on AWS.
  const server = kinesalite({ path, createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 500 });
  const calls = new CallCounter();
  let boundPort = 0;
  putInFront(server, (request, response) => {
    const operation = operationOf(request);
    calls.count(operation);
    if (faults?.throttles('kinesis', operation)) {
      answerThrottled('kinesis', request, response);
      return true;
    }
    if ((activity || faults) && PUT_OPERATIONS.has(operation)) afterPut(request, response, activity, faults, () => boundPort);
    return false;
  });
  boundPort = await listen(server, host, port);
  return running(server, host, boundPort, calls);
}

export async function startDynamoDbEmulator({ path, host = '127.0.0.1', port = 0, faults }: EmulatorOptions & { readonly faults?: EmulatorFaults }): Promise<RunningEmulator> {
  await mkdir(path, { recursive: true });
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  const calls = new CallCounter();
  putInFront(server, (request, response) => {
    const operation = operationOf(request);
    calls.count(operation);
    if (!faults?.throttles('dynamodb', operation)) return false;
    answerThrottled('dynamodb', request, response);
    return true;
  });
  return running(server, host, await listen(server, host, port), calls);
}
