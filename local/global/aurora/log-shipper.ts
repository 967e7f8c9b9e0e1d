import { setTimeout as delay } from 'node:timers/promises';
import { applyTransaction, readApplyPosition } from '#local/global/aurora/change-apply.ts';
import {
  backlogAfter,
  pendingTransactions,
  type AnyKysely,
  type TableShape,
} from '#local/global/aurora/change-capture.ts';

export interface LogShipperOptions {
  /** How old a committed transaction must be before it is applied: the link's replication lag. */
  readonly lagMs: number;
  /** How often to look for new changes. */
  readonly pollMs: number;
  /** Source transactions read per round trip. */
  readonly batchTransactions: number;
}

export interface ReplicationStatus {
  readonly region: string;
  /** Last writer LSN applied on this secondary. */
  readonly appliedLsn: number;
  /** Age of the oldest committed change not yet applied here; 0 when caught up (AuroraGlobalDBRPOLag). */
  readonly lagMs: number;
  /** Committed changes not yet applied here. */
  readonly backlog: number;
  readonly paused: boolean;
  /** The last shipping failure, cleared by the next successful round. */
  readonly lastError: string | null;
}

/**
 * Ships one writer's log to one secondary, oldest transaction first, one target transaction per source
 * transaction. The applied position lives in the secondary and moves in the same transaction as the data, so
 * stopping at any point (or a crash) resumes at exactly the next unapplied transaction.
 */
export class LogShipper {
  readonly #writer: AnyKysely;
  readonly #secondary: AnyKysely;
  readonly #tables: ReadonlyMap<string, TableShape>;
  readonly #options: LogShipperOptions;
  #paused = false;
  #running: Promise<void> | undefined;
  #stopping: AbortController | undefined;
  #appliedLsn = 0;
  #lastError: string | null = null;

  constructor(
    readonly region: string,
    writer: AnyKysely,
    secondary: AnyKysely,
    tables: readonly TableShape[],
    options: LogShipperOptions,
  ) {
    this.#writer = writer;
    this.#secondary = secondary;
    this.#tables = new Map(tables.map((table) => [table.qualifiedName, table]));
    this.#options = options;
  }

  get paused(): boolean {
    return this.#paused;
  }

  get appliedLsn(): number {
    return this.#appliedLsn;
  }

  async start(): Promise<void> {
    if (this.#running) return;
    this.#appliedLsn = (await readApplyPosition(this.#secondary))?.lsn ?? 0;
    const stopping = new AbortController();
    this.#stopping = stopping;
    this.#running = this.#run(stopping.signal);
  }

  /** Stops shipping after the transaction in progress, if any; what is left stays in the writer's log. */
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

  /** Applies every transaction that is old enough; returns how many source transactions were applied. */
  async #shipOnce(): Promise<number> {
    let applied = 0;
    for (;;) {
      const pending = await pendingTransactions(this.#writer, this.#appliedLsn, this.#options.batchTransactions);
      let appliedThisRound = 0;
      for (const transaction of pending) {
        // Transactions are applied strictly in order, so a young one holds back everything after it.
        if (this.#paused || transaction.ageMs < this.#options.lagMs) return applied;
        await applyTransaction(this.#secondary, this.#tables, transaction.changes);
        this.#appliedLsn = transaction.changes.at(-1)?.lsn ?? this.#appliedLsn;
        appliedThisRound += 1;
      }
      applied += appliedThisRound;
      if (pending.length < this.#options.batchTransactions) return applied;
    }
  }

  async status(): Promise<ReplicationStatus> {
    const { lagMs, backlog } = await backlogAfter(this.#writer, this.#appliedLsn);
    return {
      region: this.region,
      appliedLsn: this.#appliedLsn,
      lagMs: backlog === 0 ? 0 : lagMs,
      backlog,
      paused: this.#paused,
      lastError: this.#lastError,
    };
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      if (!this.#paused) {
        try {
          await this.#shipOnce();
          this.#lastError = null;
        } catch (error) {
          // The next round retries from the stored position; the error stays visible in status().
          this.#lastError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        }
      }
      await delay(this.#options.pollMs, undefined, { signal }).catch(() => undefined);
    }
  }
}
