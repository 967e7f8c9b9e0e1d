import { PeerUnavailableError, ReplicatedWriteConflictError } from '#local/global/dynamo-replication/errors.ts';
import type { ItemChange } from '#local/global/dynamo-replication/item-change.ts';
import type { ReplicatingEndpoint } from '#local/global/dynamo-replication/replicating-endpoint.ts';
import type { ReplicationLog } from '#local/global/dynamo-replication/replication-log.ts';
import { LatencyRecorder, type LatencySummary } from '#local/global/dynamo-replication/sync-metrics.ts';

/** Finds a region's endpoint as it is now: undefined while the region is down, a new object after a restart. */
export interface EndpointDirectory {
  endpoint(region: string): ReplicatingEndpoint | undefined;
}

export interface ReplicationLinkOptions {
  readonly from: string;
  readonly to: string;
  readonly endpoints: EndpointDirectory;
  /** How long a change waits in the origin before it is shipped; models the cross-region replication delay. */
  readonly lagMs?: number;
}

export type LinkState = 'running' | 'paused' | 'partitioned' | 'peer-unavailable' | 'origin-down' | 'closed';

export interface LinkTableMetrics {
  /** Arrival time minus write time of changes applied by the peer, as CloudWatch's ReplicationLatency. */
  readonly replicationLatencyMs: LatencySummary;
  /** Changes logged at the origin and not yet applied by the peer. */
  readonly backlog: number;
}

export interface LinkMetrics {
  readonly from: string;
  readonly to: string;
  readonly state: LinkState;
  readonly lagMs: number;
  readonly backlog: number;
  /** Age of the oldest change not yet applied by the peer; 0 when caught up. */
  readonly oldestPendingAgeMs: number;
  readonly shipped: number;
  /** Shipped changes the peer left out because it already had a later write of the item. */
  readonly superseded: number;
  readonly tables: Record<string, LinkTableMetrics>;
  readonly lastError?: string;
}

const DEFAULT_LAG_MS = 300;
const BATCH_LIMIT = 200;
const RETRY_AFTER_FAILURE_MS = 200;

/**
 * Ships one region's replication log to one peer, in log order, after `lagMs`. The position advances (on disk, in
 * the origin's data directory) only after the peer applied a batch, so a restart of either side re-ships at most
 * that batch, which last-writer-wins makes harmless.
 */
export class ReplicationLink {
  readonly from: string;
  readonly to: string;
  readonly lagMs: number;
  private readonly endpoints: EndpointDirectory;
  private paused = false;
  private partitioned = false;
  private closed = false;
  private state: LinkState = 'running';
  private timer: NodeJS.Timeout | undefined;
  private shipping: Promise<void> = Promise.resolve();
  private passInProgress = false;
  private registeredWith: ReplicationLog | undefined;
  private readonly latencyByTable = new Map<string, LatencyRecorder>();
  private shipped = 0;
  private superseded = 0;
  private lastError: string | undefined;

  constructor(options: ReplicationLinkOptions) {
    this.from = options.from;
    this.to = options.to;
    this.endpoints = options.endpoints;
    this.lagMs = options.lagMs ?? DEFAULT_LAG_MS;
    this.schedule(0);
  }

  /** Stops shipping; changes accumulate in the origin's log until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.schedule(0);
  }

  /** Chaos: the network between the two regions is cut for this direction; deliveries fail until restore(). */
  cut(): void {
    this.partitioned = true;
  }

  restore(): void {
    this.partitioned = false;
    this.schedule(0);
  }

  /**
   * Has the peer apply synchronous (MRSC) changes now, retrying until `deadline` while the link is cut, paused or
   * the peer is down. Rejects with PeerUnavailableError at the deadline, or at once with ReplicatedWriteConflictError.
   */
  async deliverSynchronously(changes: readonly ItemChange[], deadline: number): Promise<void> {
    let reason = 'no attempt made';
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0 || this.closed) {
        throw new PeerUnavailableError(`${this.to} did not confirm the write from ${this.from} in time: ${reason}`);
      }
      const target = this.endpoints.endpoint(this.to);
      if (this.partitioned) reason = 'partitioned';
      else if (this.paused) reason = 'replication paused';
      else if (!target) reason = `${this.to} is down`;
      else {
        try {
          await withDeadline(target.applyReplicated(changes, { synchronous: true }), remaining);
          return;
        } catch (error) {
          if (error instanceof ReplicatedWriteConflictError) throw error;
          reason = (error as Error).message;
        }
      }
      await sleep(Math.min(25, Math.max(1, deadline - Date.now())));
    }
  }

  metrics(): LinkMetrics {
    const log = this.endpoints.endpoint(this.from)?.log ?? this.registeredWith;
    const pending = log?.backlogFor(this.to) ?? [];
    const tables: Record<string, LinkTableMetrics> = {};
    const backlogByTable = new Map<string, number>();
    for (const change of pending) backlogByTable.set(change.table, (backlogByTable.get(change.table) ?? 0) + 1);
    for (const table of new Set([...this.latencyByTable.keys(), ...backlogByTable.keys()])) {
      tables[table] = {
        replicationLatencyMs: this.latencyByTable.get(table)?.summary() ?? new LatencyRecorder().summary(),
        backlog: backlogByTable.get(table) ?? 0,
      };
    }
    const oldest = pending[0];
    return {
      from: this.from,
      to: this.to,
      state: this.closed ? 'closed' : this.paused ? 'paused' : this.partitioned ? 'partitioned' : this.state,
      lagMs: this.lagMs,
      backlog: pending.length,
      oldestPendingAgeMs: oldest ? Date.now() - oldest.writeTimeMs : 0,
      shipped: this.shipped,
      superseded: this.superseded,
      tables,
      ...(this.lastError === undefined ? {} : { lastError: this.lastError }),
    };
  }

  /** Stops shipping and waits for a batch in progress; the position stays where the last applied batch left it. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.shipping;
  }

  private schedule(delayMs: number): void {
    // A pass in progress schedules the next one itself; two passes at once would ship a batch twice.
    if (this.closed || this.passInProgress) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.passInProgress = true;
      this.shipping = this.shipDue().then((nextDelayMs) => {
        this.passInProgress = false;
        this.schedule(nextDelayMs);
      });
    }, delayMs);
  }

  /** Ships what is due; returns how long to wait before looking again. */
  private async shipDue(): Promise<number> {
    const idleMs = Math.min(50, Math.max(5, Math.floor(this.lagMs / 4)));
    if (this.closed || this.paused || this.partitioned) return idleMs;
    const source = this.endpoints.endpoint(this.from);
    if (!source) {
      this.state = 'origin-down';
      return RETRY_AFTER_FAILURE_MS;
    }
    try {
      if (this.registeredWith !== source.log) {
        await source.log.registerPeer(this.to);
        this.registeredWith = source.log;
      }
      const due = source.log.pendingFor(this.to, Date.now() - this.lagMs, BATCH_LIMIT);
      if (due.length === 0) {
        this.state = 'running';
        const next = source.log.pendingFor(this.to, Number.POSITIVE_INFINITY, 1)[0];
        return next ? Math.max(1, Math.min(idleMs, next.loggedAtMs + this.lagMs - Date.now())) : idleMs;
      }
      const target = this.endpoints.endpoint(this.to);
      if (!target) {
        this.state = 'peer-unavailable';
        return RETRY_AFTER_FAILURE_MS;
      }
      const result = await target.applyReplicated(due);
      const arrivedAt = Date.now();
      for (const change of due) this.latencyRecorder(change.table).record(arrivedAt - change.writeTimeMs);
      this.shipped += due.length;
      this.superseded += result.superseded;
      await source.log.markShipped(this.to, due.at(-1)!.seq);
      this.state = 'running';
      this.lastError = undefined;
      return 0;
    } catch (error) {
      this.state = 'peer-unavailable';
      this.lastError = (error as Error).message;
      return RETRY_AFTER_FAILURE_MS;
    }
  }

  private latencyRecorder(table: string): LatencyRecorder {
    let recorder = this.latencyByTable.get(table);
    if (!recorder) this.latencyByTable.set(table, (recorder = new LatencyRecorder()));
    return recorder;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PeerUnavailableError(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}
