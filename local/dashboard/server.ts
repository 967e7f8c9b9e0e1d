import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { listen } from '#local/support/listen.ts';
import type { DashboardSnapshot, ExecutionView, GeneratorRequest, GeneratorView, RegionActionView, RegionRequest, RoutingControlView, StartExecutionRequest, StateMachineView } from '#local/dashboard/contract.ts';
import { EventStreams, SnapshotCache } from '#local/dashboard/event-streams.ts';
import { allowMethods, decodeSegment, HttpError, type Reply } from '#local/dashboard/http.ts';
import type { ReportFile } from '#local/dashboard/reports.ts';
import { staticFile } from '#local/dashboard/static-files.ts';
import { describeIssues, GeneratorRequestBody, RegionRequestBody, RoutingControlRequestBody, StartExecutionRequestBody } from '#local/dashboard/requests.ts';

/**
 * The dashboard's HTTP server on 127.0.0.1: the UI's static files (dashboard/dist) and the API of contract.ts.
 *
 * Security, for a server any local web page could try to reach:
 * - every /api request needs the token (`Authorization: Bearer <token>`; /api/events alone takes `?token=`, since
 *   EventSource cannot send headers, and it changes nothing); 32 random bytes per server, compared in constant time,
 *   kept in `<data dir>/dashboard.json` (mode 0600) and printed by `rotor up` in the URL's fragment;
 * - no CORS headers at all, and any request whose `Origin` is not this server's own is refused (403), as is a
 *   `Host` that is not 127.0.0.1 or localhost at this port (DNS rebinding);
 * - POST bodies are JSON (415 otherwise) of at most 64 KB (413), checked with zod (400 says what is wrong).
 */

export const DASHBOARD_STATE_FILE = 'dashboard.json';
export const MAX_BODY_BYTES = 64 * 1024;
export const MAX_EVENT_CLIENTS = 16;
export const SNAPSHOT_INTERVAL_MS = 1_000;
const HEARTBEAT_MS = 15_000;
const DEFAULT_STATIC_DIR = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));

/** What the API does; twin-backend.ts implements it over a running twin, tests with fakes. */
export interface DashboardBackend {
  snapshot(): Promise<DashboardSnapshot>;
  /** SafetyRuleViolationError when a safety rule refuses (409); RoutingControlNotFoundError (404). */
  setRoutingControl(name: string, state: RoutingControlView['state']): Promise<RoutingControlView>;
  generator(request: GeneratorRequest): Promise<GeneratorView>;
  startExecution(request: StartExecutionRequest & { region?: string }): Promise<{ executionName: string }>;
  execution(name: string): Promise<ExecutionView>;
  stateMachines(): Promise<StateMachineView[]>;
  /** undefined when no report was written yet. */
  latestReport(): Promise<ReportFile | undefined>;
  /** RegionNotFoundError (404) for a region the twin does not have. */
  regionAction(region: string, action: RegionRequest['action']): Promise<RegionActionView>;
}

export interface DashboardServerOptions {
  readonly backend: DashboardBackend;
  /** Where `dashboard.json` ({url, token}, mode 0600) is written; removed on close. */
  readonly dataDir: string;
  /** 0 (default): any free port. */
  readonly port?: number;
  /** The built UI; default dashboard/dist of the repository. */
  readonly staticDir?: string;
  readonly snapshotIntervalMs?: number;
  readonly heartbeatMs?: number;
  readonly maxEventClients?: number;
}

export interface RunningDashboardServer {
  /** `http://127.0.0.1:<port>`, without the token. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** The address to open: the token in the fragment, which a browser never sends to any server. */
  readonly openUrl: string;
  readonly stateFile: string;
  close(): Promise<void>;
}

/** The running dashboard's address and token from `<data dir>/dashboard.json`; null when none is served from there. */
export async function readDashboardAccess(dataDir: string): Promise<{ url: string; token: string; openUrl: string } | null> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, DASHBOARD_STATE_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const { url, token } = JSON.parse(text) as { url?: unknown; token?: unknown };
  if (typeof url !== 'string' || typeof token !== 'string') return null;
  return { url, token, openUrl: `${url}/#token=${token}` };
}

export class DashboardPortInUseError extends Error {
  override readonly name = 'DashboardPortInUseError';
  constructor(readonly port: number) {
    super(`port ${port} for the dashboard is in use by another process; pick another --dashboard-port, 0 for any free port, or --no-dashboard`);
  }
}

/** Fails with DashboardPortInUseError when `port` is taken on 127.0.0.1 (checked before the twin starts). */
export async function assertDashboardPortFree(port: number): Promise<void> {
  if (port === 0) return;
  const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
    const probe = createNetServer();
    probe.once('error', (failure: NodeJS.ErrnoException) => resolve(failure));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(undefined)));
  });
  if (error?.code === 'EADDRINUSE') throw new DashboardPortInUseError(port);
  if (error) throw error;
}

/** Errors of the twin and its parts, by name, as HTTP statuses; anything else is a 500. */
const STATUS_OF_ERROR: Record<string, number> = {
  SafetyRuleViolationError: 409,
  RoutingControlNotFoundError: 404,
  RoutingControlRequestError: 400,
  RoutingControlsUnreachableError: 503,
  StateMachineNotFoundError: 404,
  ExecutionNotFoundError: 404,
  RegionNotFoundError: 404,
  InvalidExecutionNameError: 400,
  ExecutionAlreadyExistsError: 409,
  NoActiveRegionError: 409,
  SeveralActiveRegionsError: 409,
  RegionUnavailableError: 409,
  RegionCommandError: 409,
  GeneratorUnavailableError: 409,
};

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

const ROUTING_CONTROL = /^\/api\/routing-controls\/([^/]+)$/;
const EXECUTION = /^\/api\/executions\/([^/]+)$/;
const REGION = /^\/api\/regions\/([^/]+)$/;

export async function startDashboardServer(options: DashboardServerOptions): Promise<RunningDashboardServer> {
  const token = randomBytes(32).toString('hex');
  const tokenDigest = digest(token);
  const staticDir = path.resolve(options.staticDir ?? DEFAULT_STATIC_DIR);
  const snapshots = new SnapshotCache(options.backend, Math.floor((options.snapshotIntervalMs ?? SNAPSHOT_INTERVAL_MS) / 2));
  const events = new EventStreams(snapshots, {
    intervalMs: options.snapshotIntervalMs ?? SNAPSHOT_INTERVAL_MS,
    heartbeatMs: options.heartbeatMs ?? HEARTBEAT_MS,
    maxClients: options.maxEventClients ?? MAX_EVENT_CLIENTS,
  });
  let port = 0;

  const authorized = (request: IncomingMessage, url: URL, allowQueryToken: boolean): boolean => {
    const header = request.headers.authorization;
    const bearer = typeof header === 'string' && /^Bearer \S+$/i.test(header) ? header.slice(7) : undefined;
    const given = bearer ?? (allowQueryToken ? (url.searchParams.get('token') ?? undefined) : undefined);
    return given !== undefined && timingSafeEqual(digest(given), tokenDigest);
  };

  const server = createServer((request, response) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    void handle(request, response).catch((error: unknown) => sendError(response, error));
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const hosts = [`127.0.0.1:${port}`, `localhost:${port}`];
    if (!hosts.includes((request.headers.host ?? '').toLowerCase())) throw new HttpError(403, `the dashboard answers at http://127.0.0.1:${port} only`, 'ForbiddenHost');
    const origin = request.headers.origin;
    if (origin !== undefined && !hosts.some((host) => origin.toLowerCase() === `http://${host}`)) {
      throw new HttpError(403, `requests from ${origin} are refused: the dashboard serves its own page only`, 'ForbiddenOrigin');
    }
    const url = new URL(request.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname !== '/api' && !url.pathname.startsWith('/api/')) return send(response, await staticFile(request, url.pathname, staticDir));
    const isEvents = url.pathname === '/api/events';
    if (!authorized(request, url, isEvents)) {
      throw new HttpError(401, 'a valid dashboard token is needed: open the URL `rotor up` printed', 'Unauthorized', { 'www-authenticate': 'Bearer' });
    }
    if (isEvents) {
      allowMethods(request, ['GET']);
      return events.open(response);
    }
    send(response, await api(request, url, options.backend, snapshots));
  }

  try {
    port = await listen(server, '127.0.0.1', options.port ?? 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new DashboardPortInUseError(options.port ?? 0);
    throw error;
  }
  const url = `http://127.0.0.1:${port}`;
  const stateFile = path.join(options.dataDir, DASHBOARD_STATE_FILE);
  try {
    // Removed first: writeFile's mode applies only to a file it creates.
    await rm(stateFile, { force: true });
    await writeFile(stateFile, `${JSON.stringify({ url, token }, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw error;
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    token,
    openUrl: `${url}/#token=${token}`,
    stateFile,
    close: () =>
      (closing ??= (async () => {
        events.closeAll();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await rm(stateFile, { force: true });
      })()),
  };
}

async function api(request: IncomingMessage, url: URL, backend: DashboardBackend, snapshots: SnapshotCache): Promise<Reply> {
  const route = url.pathname;
  if (route === '/api/snapshot') {
    allowMethods(request, ['GET']);
    return { status: 200, json: await snapshots.latest() };
  }
  if (route === '/api/state-machines') {
    allowMethods(request, ['GET']);
    return { status: 200, json: await backend.stateMachines() };
  }
  if (route === '/api/reports/latest') {
    allowMethods(request, ['GET']);
    return reportReply(await backend.latestReport(), url.searchParams.get('format') ?? 'json');
  }
  if (route === '/api/generator') {
    allowMethods(request, ['POST']);
    return { status: 200, json: await backend.generator(await readBody(request, GeneratorRequestBody)) };
  }
  if (route === '/api/executions') {
    allowMethods(request, ['POST']);
    return { status: 200, json: await backend.startExecution(await readBody(request, StartExecutionRequestBody)) };
  }
  const control = ROUTING_CONTROL.exec(route);
  if (control) {
    allowMethods(request, ['POST']);
    const name = decodeSegment(control[1]!);
    if (!/^[A-Za-z0-9-]{1,128}$/.test(name)) throw new HttpError(404, `no routing control named ${JSON.stringify(name)}`, 'RoutingControlNotFoundError');
    const { state } = await readBody(request, RoutingControlRequestBody);
    return { status: 200, json: await backend.setRoutingControl(name, state) };
  }
  const region = REGION.exec(route);
  if (region) {
    allowMethods(request, ['POST']);
    const name = decodeSegment(region[1]!);
    if (!/^[a-z0-9-]{1,40}$/.test(name)) throw new HttpError(404, `no region named ${JSON.stringify(name)}`, 'RegionNotFoundError');
    const { action } = await readBody(request, RegionRequestBody);
    return { status: 200, json: await backend.regionAction(name, action) };
  }
  const execution = EXECUTION.exec(route);
  if (execution) {
    allowMethods(request, ['GET']);
    const name = decodeSegment(execution[1]!);
    if (!/^[A-Za-z0-9_.:-]{1,256}$/.test(name)) throw new HttpError(404, `no execution named ${JSON.stringify(name)}`, 'ExecutionNotFoundError');
    return { status: 200, json: await backend.execution(name) };
  }
  throw new HttpError(404, `no such API request: ${request.method ?? ''} ${route}`, 'NotFound');
}

async function reportReply(report: ReportFile | undefined, format: string): Promise<Reply> {
  if (format !== 'json' && format !== 'csv') throw new HttpError(400, `format must be json or csv, not ${JSON.stringify(format)}`);
  if (!report) throw new HttpError(404, 'no missing-transaction report yet: a failback (rotor drill region-outage) or `rotor reconcile` writes one', 'ReportNotFound');
  const file = format === 'csv' ? report.csvPath : report.jsonPath;
  if (!file) throw new HttpError(404, `report ${report.name} has no CSV beside it`, 'ReportNotFound');
  const body = await readFile(file);
  return {
    status: 200,
    body,
    headers: {
      'content-type': format === 'csv' ? 'text/csv; charset=utf-8' : 'application/json; charset=utf-8',
      'content-disposition': `attachment; filename="${path.basename(file)}"`,
      'x-rotor-report-kind': report.kind,
      'x-rotor-report-written-at': report.writtenAt,
      'cache-control': 'no-store',
    },
  };
}

async function readBody<T>(request: IncomingMessage, schema: z.ZodType<T>): Promise<T> {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;.*)?$/i.test(type)) {
    throw new HttpError(415, `send the body as JSON (Content-Type: application/json), not ${type === '' ? 'without a Content-Type' : type}`, 'UnsupportedMediaType');
  }
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) throw new HttpError(413, `the body is ${declared} bytes; the dashboard takes at most ${MAX_BODY_BYTES}`, 'PayloadTooLarge');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes, the most the dashboard takes`, 'PayloadTooLarge');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'a JSON body is needed', 'BadRequest');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `the body is not JSON: ${(error as Error).message}`, 'BadRequest');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new HttpError(400, 'the body must be a JSON object', 'BadRequest');
  const result = schema.safeParse(parsed);
  if (!result.success) throw new HttpError(400, describeIssues(result.error), 'ValidationError');
  return result.data;
}

function send(response: ServerResponse, reply: Reply): void {
  if (response.headersSent) return;
  if ('json' in reply) {
    response.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(reply.json));
    return;
  }
  response.writeHead(reply.status, { ...reply.headers, 'content-length': String(Buffer.byteLength(reply.body)) });
  response.end(response.req.method === 'HEAD' ? undefined : reply.body);
}

function sendError(response: ServerResponse, error: unknown): void {
  const failure = error instanceof Error ? error : new Error(String(error));
  const status = error instanceof HttpError ? error.status : (STATUS_OF_ERROR[failure.name] ?? 500);
  const type = error instanceof HttpError ? error.type : failure.name;
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    ...(error instanceof HttpError ? error.headers : {}),
    // The rest of a refused body is not read: the connection goes.
    ...(status === 413 ? { connection: 'close' } : {}),
  };
  response.writeHead(status, headers).end(JSON.stringify({ error: failure.message, type }));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
