import type { ServerResponse } from 'node:http';
import type { DashboardSnapshot } from '#shared/dashboard/contract.ts';
import { HttpError } from '#shared/dashboard/http.ts';
import type { DashboardBackend } from '#local/dashboard/server.ts';

/** A client this far behind (its socket's buffer) is dropped rather than buffered for without bound. */
const MAX_CLIENT_BACKLOG_BYTES = 4 * 1024 * 1024;

/** One snapshot shared by every client asking within `maxAgeMs` of its build, and one build at a time. */
export class SnapshotCache {
  #latest: { builtAt: number | undefined; frame: Promise<DashboardSnapshot> } | undefined;

  constructor(
    private readonly backend: DashboardBackend,
    private readonly maxAgeMs: number,
  ) {}

  latest(): Promise<DashboardSnapshot> {
    const latest = this.#latest;
    if (latest && (latest.builtAt === undefined || performance.now() - latest.builtAt < this.maxAgeMs)) return latest.frame;
    const entry: { builtAt: number | undefined; frame: Promise<DashboardSnapshot> } = { builtAt: undefined, frame: this.backend.snapshot() };
    this.#latest = entry;
    entry.frame.then(
      () => void (entry.builtAt = performance.now()),
      // A failed build is not kept: the next caller tries again.
      () => void (this.#latest === entry && (this.#latest = undefined)),
    );
    return entry.frame;
  }
}

/** The SSE clients of /api/events: a snapshot at once, then one per interval, and a comment now and then. */
export class EventStreams {
  readonly #clients = new Set<() => void>();

  constructor(
    private readonly snapshots: SnapshotCache,
    private readonly options: { intervalMs: number; heartbeatMs: number; maxClients: number },
  ) {}

  open(response: ServerResponse): void {
    if (this.#clients.size >= this.options.maxClients) {
      throw new HttpError(429, `${this.options.maxClients} dashboards are connected already; close one`, 'TooManyClients', { 'retry-after': '5' });
    }
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    response.write('retry: 2000\n\n');
    let sending = false;
    const push = async () => {
      if (sending) return;
      sending = true;
      try {
        const snapshot = await this.snapshots.latest();
        write(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
      } catch (error) {
        write(`: snapshot failed: ${(error instanceof Error ? error.message : String(error)).replaceAll('\n', ' ')}\n\n`);
      } finally {
        sending = false;
      }
    };
    const write = (text: string) => {
      if (response.destroyed || response.writableEnded) return;
      if (response.writableLength > MAX_CLIENT_BACKLOG_BYTES) {
        response.destroy();
        return;
      }
      response.write(text);
    };
    const snapshotTimer = setInterval(() => void push(), this.options.intervalMs);
    const heartbeatTimer = setInterval(() => write(': heartbeat\n\n'), this.options.heartbeatMs);
    const close = () => {
      clearInterval(snapshotTimer);
      clearInterval(heartbeatTimer);
      this.#clients.delete(close);
      if (!response.writableEnded) response.end();
    };
    this.#clients.add(close);
    // The response's close, not the request's: a GET's request closes as soon as it has been read.
    response.once('close', close);
    void push();
  }

  closeAll(): void {
    for (const close of [...this.#clients]) close();
  }
}
