import { setTimeout as delay } from 'node:timers/promises';
import type { ReplicaEndpoint } from '#local/global/aurora/replica-endpoint.ts';

export interface ReplicationStatus {
  readonly region: string;
  /** Last writer LSN applied on this secondary. */
  readonly appliedLsn: number;
  /** Age of the oldest committed change not yet applied here; 0 when caught up (AuroraGlobalDBRPOLag). */
  readonly lagMs: number;
  /** Committed changes not yet applied here (the last known count while the writer is unreachable). */
  readonly backlog: number;
  readonly paused: boolean;
  /** The last shipping failure, cleared by the next successful round. */
  readonly lastError: string | null;
}

export interface ReplicaShipperOptions {
  /** How old a committed transaction must be before it is applied: the link's replication lag. */
  readonly lagMs: number;
  readonly pollMs: number;
  /** Source transactions read per round trip. */
  readonly batchTransactions: number;
}

/**
 * Ships one writer's log to one secondary through their endpoints (in the same process or in region processes),
 * oldest transaction first. The secondary keeps its applied position with its data and skips what it already
 * has, so a delivery whose answer was lost is simply sent again. Either side being down only stalls the loop:
 * every round starts again from the secondary's position.
 */
export class ReplicaShipper {
  readonly #writer: ReplicaEndpoint;
  readonly #secondary: ReplicaEndpoint;
  readonly #options: ReplicaShipperOptions;
  #paused = false;
  #running: Promise<void> | undefined;
  #stopping: AbortController | undefined;
  /** Unknown until the secondary has answered once. */
  #appliedLsn: number | undefined;
  #lastError: string | null = null;
  /** When this secondary was last seen holding the writer's whole log: the RPO bound while the writer is unreachable. */
  #caughtUpAt = Date.now();
  #lastBacklog = 0;

  constructor(
    readonly region: string,
    writer: ReplicaEndpoint,
    secondary: ReplicaEndpoint,
    options: ReplicaShipperOptions,
  ) {
    this.#writer = writer;
    this.#secondary = secondary;
    this.#options = options;
  }

  get appliedLsn(): number | undefined {
    return this.#appliedLsn;
  }

  get paused(): boolean {
    return this.#paused;
  }

  start(): void {
    if (this.#running) return;
    const stopping = new AbortController();
    this.#stopping = stopping;
    this.#running = this.#run(stopping.signal);
  }

  /** Stops after the delivery in progress, if any; what is left stays in the writer's log. */
  async stop(): Promise<void> {
    this.#stopping?.abort();
    await this.#running;
    this.#running = undefined;
    this.#stopping = undefined;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
  }

  /**
   * AuroraGlobalDBRPOLag for this secondary: the age of the oldest committed change it lacks, measured on the
   * writer. While the writer cannot be asked, the lag is the time since this secondary was last known to hold
   * the writer's whole log — everything committed since may be missing.
   */
  async status(): Promise<ReplicationStatus> {
    const appliedLsn = this.#appliedLsn ?? 0;
    const base = { region: this.region, appliedLsn, paused: this.#paused, lastError: this.#lastError };
    try {
      const { backlog, lagMs } = await this.#writer.backlogAfter(appliedLsn);
      this.#lastBacklog = backlog;
      if (backlog === 0) this.#caughtUpAt = Date.now();
      return { ...base, lagMs, backlog };
    } catch (error) {
      return { ...base, lagMs: Date.now() - this.#caughtUpAt, backlog: this.#lastBacklog, lastError: describe(error) };
    }
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!this.#paused) {
        try {
          await this.#shipOnce(signal);
          this.#lastError = null;
        } catch (error) {
          this.#lastError = describe(error);
        }
      }
      await delay(this.#options.pollMs, undefined, { signal }).catch(() => undefined);
    }
  }

  async #shipOnce(signal: AbortSignal): Promise<void> {
    if (this.#appliedLsn === undefined) await this.#learnPosition();
    for (;;) {
      const applied = this.#appliedLsn!;
      const page = await this.#writer.readChanges(applied, this.#options.batchTransactions);
      // Transactions are applied strictly in order, so a young one holds back everything after it.
      const firstYoung = page.transactions.findIndex((transaction) => transaction.ageMs < this.#options.lagMs);
      const ready = firstYoung === -1 ? page.transactions : page.transactions.slice(0, firstYoung);
      if (ready.length > 0) {
        const result = await this.#secondary.apply(ready.map(({ txid, changes }) => ({ txid, changes })));
        this.#appliedLsn = result.appliedLsn;
      }
      const drained = ready.length === page.transactions.length && page.transactions.length < this.#options.batchTransactions;
      if (drained) {
        this.#caughtUpAt = Date.now();
        this.#lastBacklog = 0;
      }
      if (signal.aborted || this.#paused || ready.length < page.transactions.length || drained || ready.length === 0) return;
    }
  }

  /** A secondary that was never seeded (new, or created empty) is rebuilt from a snapshot of the writer first. */
  async #learnPosition(): Promise<void> {
    const described = await this.#secondary.describe();
    if (described.appliedLsn !== null) {
      this.#appliedLsn = described.appliedLsn;
      return;
    }
    const restored = await this.#secondary.restore(await this.#writer.snapshot());
    this.#appliedLsn = restored.appliedLsn;
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
