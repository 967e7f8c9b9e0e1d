import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listen } from '#local/support/listen.ts';
import { EventStreams, SnapshotCache } from '#local/dashboard/event-streams.ts';
import { allowMethods, HttpError, type Reply } from '#shared/dashboard/http.ts';
import { errorReply, MAX_BODY_BYTES, routeApi, type ApiRequest, type DashboardBackend } from '#shared/dashboard/api.ts';
import { staticFile } from '#local/dashboard/static-files.ts';

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
export const MAX_EVENT_CLIENTS = 16;
export const SNAPSHOT_INTERVAL_MS = 1_000;
const HEARTBEAT_MS = 15_000;
const DEFAULT_STATIC_DIR = fileURLToPath(new URL('../../dashboard/dist/', import.meta.url));

export type { DashboardBackend } from '#shared/dashboard/api.ts';
export { MAX_BODY_BYTES } from '#shared/dashboard/api.ts';

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


const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};


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
    send(response, await routeApi(apiRequest(request, url), options.backend, () => snapshots.latest()));
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

/** The Node request as the API's routes see it: the body read with the size limit enforced as it arrives. */
function apiRequest(request: IncomingMessage, url: URL): ApiRequest {
  return {
    method: request.method,
    path: url.pathname,
    searchParams: url.searchParams,
    contentType: request.headers['content-type'],
    text: async () => {
      const declared = Number(request.headers['content-length'] ?? 0);
      if (declared > MAX_BODY_BYTES) throw new HttpError(413, `the body is ${declared} bytes; the dashboard takes at most ${MAX_BODY_BYTES}`, 'PayloadTooLarge');
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of request) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) throw new HttpError(413, `the body is over ${MAX_BODY_BYTES} bytes, the most the dashboard takes`, 'PayloadTooLarge');
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks).toString('utf8');
    },
  };
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
  const { status, headers, json } = errorReply(error);
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
      // The rest of a refused body is not read: the connection goes.
      ...(status === 413 ? { connection: 'close' } : {}),
    })
    .end(JSON.stringify(json));
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
