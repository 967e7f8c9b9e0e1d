import { listen } from '#local/support/listen.ts';
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ArcServiceError, EndpointUnavailableError, RequestValidationError, ThrottledError } from './errors.ts';
import { ROUTING_CONTROL_OPERATIONS, type RoutingControlCluster, type RoutingControlOperation } from './routing-control-cluster.ts';

/**
 * One cluster endpoint: an HTTP server speaking the AWS JSON 1.0 protocol of the Route 53 Recovery Cluster API
 * (POST, `X-Amz-Target: ToggleCustomerAPI.<Operation>`, `application/x-amz-json-1.0` both ways, errors as
 * `__type` + `message` with the HTTP status of the AWS model). Stopping it closes its socket, so clients see a
 * refused connection as they would from an unreachable region; a fault makes it answer with AWS's own
 * unavailable or throttling errors instead, or not answer at all.
 */

const TARGET_PREFIX = 'ToggleCustomerAPI.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const ERROR_NAMESPACE = 'com.amazonaws.route53recoverycluster';

/** `unresponsive` accepts connections and never answers, like a blackholed region; clients must time out. */
export type EndpointFault = 'unavailable' | 'throttling' | 'unresponsive';

export class ClusterEndpoint {
  private server: Server | undefined;
  private boundPort: number;
  fault: EndpointFault | undefined;
  /** Requests this endpoint has received, answered or not; chaos and tests read it. */
  requestCount = 0;

  constructor(
    readonly region: string,
    private readonly cluster: RoutingControlCluster,
    port: number,
  ) {
    this.boundPort = port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}`;
  }

  get running(): boolean {
    return this.server !== undefined;
  }

  /** Listens on the endpoint's port, the same one on every restart so clients' endpoint lists stay valid. */
  async start(): Promise<void> {
    if (this.server) return;
    const server = createServer((request, response) => void this.handle(request, response));
    this.boundPort = await listen(server, '127.0.0.1', this.boundPort);
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    this.requestCount++;
    try {
      const body = await readBody(request);
      if (this.fault === 'unresponsive') return;
      if (this.fault === 'unavailable') throw new EndpointUnavailableError(this.region);
      if (this.fault === 'throttling') throw new ThrottledError(1);
      const operation = parseTarget(request);
      if (request.method !== 'POST') throw new RequestValidationError(`${operation} is only served over POST`, 'other');
      const output = await this.cluster.invoke(operation, parseInput(body));
      response.writeHead(200, { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': requestId }).end(JSON.stringify(output));
    } catch (error) {
      writeError(response, requestId, error);
    }
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function parseTarget(request: IncomingMessage): RoutingControlOperation {
  const target = String(request.headers['x-amz-target'] ?? '');
  const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
  if (!operation || !(ROUTING_CONTROL_OPERATIONS as readonly string[]).includes(operation)) {
    throw new RequestValidationError(`unknown operation ${JSON.stringify(target)}`, 'unknownOperation');
  }
  return operation as RoutingControlOperation;
}

function parseInput(body: string): Record<string, unknown> {
  if (body.trim() === '') return {};
  let input: unknown;
  try {
    input = JSON.parse(body);
  } catch {
    throw new RequestValidationError('the request body is not JSON', 'cannotParse');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new RequestValidationError('the request body must be a JSON object', 'cannotParse');
  }
  return input as Record<string, unknown>;
}

function writeError(response: ServerResponse, requestId: string, error: unknown): void {
  const serviceError =
    error instanceof ArcServiceError ? error : undefined;
  const errorType = serviceError?.errorType ?? 'InternalServerException';
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPE, 'x-amzn-requestid': requestId, 'x-amzn-errortype': errorType };
  if (serviceError instanceof ThrottledError) headers['retry-after'] = String(serviceError.retryAfterSeconds);
  const body = {
    __type: `${ERROR_NAMESPACE}#${errorType}`,
    message: serviceError?.message ?? `internal error: ${error instanceof Error ? error.message : String(error)}`,
    ...serviceError?.members(),
  };
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(serviceError?.httpStatus ?? 500, headers).end(JSON.stringify(body));
}
