import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { openDatabase, type DatabaseConfig, type OpenedDatabase } from '#shared/adapters/postgres/database.ts';
import { becomeSecondaryAt, readApplyPosition, resynchronise } from '#local/global/aurora/change-apply.ts';
import {
  enableReplication,
  logHead,
  pruneLogThrough,
  setWritable,
  startLogAfter,
  changesAfter,
  type AnyKysely,
  type Change,
  type TableShape,
} from '#local/global/aurora/change-capture.ts';
import {
  InvalidRoleChangeError,
  RegionUnavailableError,
  SwitchoverTimeoutError,
} from '#local/global/aurora/errors.ts';
import { LogShipper, type ReplicationStatus } from '#local/global/aurora/log-shipper.ts';
import { loadRoleState, saveRoleState, type RoleState, type UnreplicatedTail } from '#local/global/aurora/role-state.ts';

export interface AuroraGlobalDatabaseOptions {
  /** Names the role state file; one global database per app (trade matching, settlement). */
  readonly name: string;
  /** One database per region; with PostgreSQL, two databases in one server stand for two regions. */
  readonly regions: Readonly<Record<string, DatabaseConfig>>;
  /** The writer region on first start; afterwards the persisted roles win. */
  readonly writer: string;
  /** Replicated tables, `schema.table` or `table` (public); each needs a primary key. */
  readonly tables: readonly string[];
  /** Directory for `<name>.aurora-roles.json`; omitted, roles live in memory and a restart forgets them. */
  readonly stateDir?: string;
  /** Replication lag each secondary trails the writer by; defaults to 200 ms. */
  readonly lagMs?: number;
  readonly pollMs?: number;
  /** How long a switchover waits for the secondaries to catch up; defaults to 10 s. */
  readonly switchoverTimeoutMs?: number;
  /** Runs on every region's database as it opens, before capture is installed: create the app's tables here. */
  readonly prepare?: (db: AnyKysely, region: string) => Promise<void>;
}

const DEFAULT_LAG_MS = 200;
const DEFAULT_POLL_MS = 25;
const DEFAULT_SWITCHOVER_TIMEOUT_MS = 10_000;
const BATCH_TRANSACTIONS = 100;
const PRUNE_INTERVAL_MS = 5_000;

/**
 * The twin's Aurora PostgreSQL Global Database: one writer region whose committed changes are shipped, in
 * commit order and whole transactions at a time, to read-only secondaries after a configurable lag; managed
 * switchover without loss; failover that promotes a secondary at once and keeps what the old writer never
 * shipped as data (`unreplicatedTail()`) instead of replaying it.
 */
export class AuroraGlobalDatabase {
  readonly #options: AuroraGlobalDatabaseOptions;
  readonly #open = new Map<string, OpenedDatabase<any>>();
  readonly #shippers = new Map<string, LogShipper>();
  #tables: TableShape[] = [];
  #state: RoleState;
  #paused = false;
  #exclusive: Promise<unknown> = Promise.resolve();
  #pruneTimer: NodeJS.Timeout | undefined;
  #pruning = false;

  constructor(options: AuroraGlobalDatabaseOptions) {
    if (!(options.writer in options.regions)) {
      throw new InvalidRoleChangeError(`writer ${options.writer} is not one of the regions ${Object.keys(options.regions).join(', ')}`);
    }
    this.#options = options;
    this.#state = { writer: options.writer, generation: 0, detached: {}, unreplicatedTails: [] };
  }

  get name(): string {
    return this.#options.name;
  }

  get writerRegion(): string {
    return this.#state.writer;
  }

  /** Regions replicating from the writer now (not detached by a failover). */
  get secondaryRegions(): string[] {
    return this.#attachedRegions().filter((region) => region !== this.#state.writer);
  }

  /** Regions cut off by a failover and waiting for `reattach`. */
  get detachedRegions(): string[] {
    return Object.keys(this.#state.detached);
  }

  /** Bumped by every switchover and failover. */
  get generation(): number {
    return this.#state.generation;
  }

  async start(): Promise<void> {
    await this.#serially(async () => {
      const stateFile = this.#stateFile();
      const persisted = stateFile === undefined ? undefined : await loadRoleState(stateFile);
      if (persisted) this.#state = persisted;
      for (const region of this.#attachedRegions()) await this.#openRegion(region);
      await setWritable(this.#db(this.#state.writer), this.#tables, true);
      for (const region of this.secondaryRegions) await this.#attachSecondary(region);
      await this.#saveState();
      this.#pruneTimer = setInterval(() => void this.#pruneLog(), PRUNE_INTERVAL_MS);
      this.#pruneTimer.unref();
    });
  }

  /** A Kysely for handlers in `region`: read-write in the writer, rejecting writes with SQLSTATE 25006 elsewhere. */
  connection<DB>(region: string): Kysely<DB> {
    return this.#db(region) as Kysely<DB>;
  }

  async replicationStatus(): Promise<ReplicationStatus[]> {
    this.#db(this.#state.writer);
    return Promise.all([...this.#shippers.values()].map((shipper) => shipper.status()));
  }

  /** The twin's AuroraGlobalDBRPOLag: the worst secondary's age of its oldest unapplied committed change. */
  async rpoLagMs(): Promise<number> {
    const statuses = await this.replicationStatus();
    return Math.max(0, ...statuses.map((status) => status.lagMs));
  }

  /** Stops applying on every secondary (a lag spike); the writer keeps committing and the backlog grows. */
  pause(): void {
    this.#paused = true;
    for (const shipper of this.#shippers.values()) shipper.pause();
  }

  resume(): void {
    this.#paused = false;
    for (const shipper of this.#shippers.values()) shipper.resume();
  }

  /**
   * Managed switchover: fences the writer (writes fail as read-only), waits until every secondary has applied
   * the whole log, then swaps roles. Nothing committed is lost. If the secondaries cannot catch up within the
   * timeout the writer is unfenced and a SwitchoverTimeoutError is thrown with the roles unchanged.
   */
  async switchover(toRegion: string, { timeoutMs }: { timeoutMs?: number } = {}): Promise<void> {
    await this.#serially(async () => {
      const oldWriter = this.#state.writer;
      this.#requireSecondary(toRegion, 'switch over to');
      const writerDb = this.#db(oldWriter);
      await setWritable(writerDb, this.#tables, false);
      let head: number;
      try {
        head = await this.#awaitCaughtUp(toRegion, timeoutMs ?? this.#options.switchoverTimeoutMs ?? DEFAULT_SWITCHOVER_TIMEOUT_MS);
      } catch (error) {
        await setWritable(writerDb, this.#tables, true);
        throw error;
      }
      await this.#stopShippers();
      await this.#promote(toRegion, head);
      await becomeSecondaryAt(writerDb, head);
      this.#state = { ...this.#state, writer: toRegion, generation: this.#state.generation + 1 };
      await this.#saveState();
      for (const region of this.secondaryRegions) await this.#startShipper(region);
    });
  }

  /**
   * Unplanned failover for when the writer's region is gone: promotes `toRegion` at once, at the last LSN it had
   * applied, without contacting the old writer. Whatever the old writer committed after that point is lost
   * to the global database; it is recovered as data by `reattach` once the region returns.
   */
  async failover(toRegion: string): Promise<{ promotionLsn: number }> {
    return this.#serially(async () => {
      const oldWriter = this.#state.writer;
      this.#requireSecondary(toRegion, 'fail over to');
      await this.#stopShippers();
      const promotionLsn = (await readApplyPosition(this.#db(toRegion)))?.lsn ?? 0;
      await this.#promote(toRegion, promotionLsn);
      await this.#closeRegion(oldWriter);
      this.#state = {
        ...this.#state,
        writer: toRegion,
        generation: this.#state.generation + 1,
        detached: { ...this.#state.detached, [oldWriter]: { promotionLsn, failedOverAt: new Date().toISOString() } },
      };
      await this.#saveState();
      // Other secondaries may have applied more or less of the old writer's log than the new writer did.
      for (const region of this.secondaryRegions) {
        await resynchronise(this.#db(toRegion), this.#db(region), this.#tables);
        await this.#startShipper(region);
      }
      return { promotionLsn };
    });
  }

  /**
   * Chaos: the region disappears. Shipping to or from it stops where it is and its database is closed, so a
   * writer's unshipped changes stay only in its own log, as in a real regional outage.
   */
  async simulateRegionLoss(region: string): Promise<void> {
    await this.#serially(async () => {
      this.#db(region);
      if (region === this.#state.writer) await this.#stopShippers();
      else await this.#shippers.get(region)?.stop();
      await this.#closeRegion(region);
    });
  }

  /**
   * Brings a region back. A region detached by a failover (the failback path) first has its unreplicated tail
   * — the changes in its log after the promotion point — recorded, then is rebuilt as a read-only secondary
   * from the writer's current data; the tail is never replayed. A lost region that was not failed over from
   * simply reopens in its role.
   */
  async reattach(region: string): Promise<UnreplicatedTail | undefined> {
    return this.#serially(async () => {
      if (!(region in this.#options.regions)) throw new RegionUnavailableError(`unknown region ${region}`);
      const detached = this.#state.detached[region];
      if (!detached) {
        if (this.#open.has(region)) throw new InvalidRoleChangeError(`${region} is attached and open; nothing to reattach`);
        await this.#openRegion(region);
        if (region === this.#state.writer) {
          await setWritable(this.#db(region), this.#tables, true);
          for (const secondary of this.secondaryRegions) if (this.#open.has(secondary)) await this.#startShipper(secondary);
        } else {
          await this.#attachSecondary(region);
        }
        return undefined;
      }
      // Still detached while it is examined and rebuilt, so handlers cannot reach it through connection().
      const returning = await this.#openRegion(region);
      const tail: UnreplicatedTail = {
        region,
        promotionLsn: detached.promotionLsn,
        recordedAt: new Date().toISOString(),
        changes: await changesAfter(returning, detached.promotionLsn),
      };
      // Kept before the rebuild replaces the region's data, so a crash mid-rebuild cannot lose the report.
      this.#state = { ...this.#state, unreplicatedTails: [...this.#state.unreplicatedTails, tail] };
      await this.#saveState();
      await setWritable(returning, this.#tables, false);
      await resynchronise(this.#db(this.#state.writer), returning, this.#tables);
      const { [region]: _reattached, ...stillDetached } = this.#state.detached;
      this.#state = { ...this.#state, detached: stillDetached };
      await this.#saveState();
      await this.#startShipper(region);
      return tail;
    });
  }

  /** The changes the most recent failover lost: committed on the old writer, never applied on the new one. */
  unreplicatedTail(): Change[] {
    return [...(this.#state.unreplicatedTails.at(-1)?.changes ?? [])];
  }

  async close(): Promise<void> {
    await this.#serially(async () => {
      if (this.#pruneTimer) clearInterval(this.#pruneTimer);
      await this.#stopShippers();
      for (const region of [...this.#open.keys()]) await this.#closeRegion(region);
    });
  }

  #db(region: string): AnyKysely {
    if (!(region in this.#options.regions)) throw new RegionUnavailableError(`unknown region ${region}`);
    if (region in this.#state.detached) {
      throw new RegionUnavailableError(`${region} was detached by a failover; reattach it to use it again`);
    }
    const opened = this.#open.get(region);
    if (!opened) throw new RegionUnavailableError(`${region}'s database is unavailable (region lost or closed)`);
    return opened.db;
  }

  #attachedRegions(): string[] {
    return Object.keys(this.#options.regions).filter((region) => !(region in this.#state.detached));
  }

  #requireSecondary(region: string, action: string): void {
    if (region === this.#state.writer) throw new InvalidRoleChangeError(`cannot ${action} ${region}: it is already the writer`);
    this.#db(region);
  }

  async #openRegion(region: string): Promise<AnyKysely> {
    const opened = await openDatabase<any>(this.#options.regions[region]!);
    this.#open.set(region, opened);
    await this.#options.prepare?.(opened.db, region);
    this.#tables = await enableReplication(opened.db, this.#options.tables);
    return opened.db;
  }

  async #closeRegion(region: string): Promise<void> {
    const opened = this.#open.get(region);
    this.#open.delete(region);
    await opened?.close().catch(() => undefined);
  }

  /** A secondary that never held a position (new, or created empty) is seeded from a snapshot of the writer. */
  async #attachSecondary(region: string): Promise<void> {
    const db = this.#db(region);
    await setWritable(db, this.#tables, false);
    if (!(await readApplyPosition(db))) await resynchronise(this.#db(this.#state.writer), db, this.#tables);
    await this.#startShipper(region);
  }

  async #startShipper(region: string): Promise<void> {
    await this.#shippers.get(region)?.stop();
    const shipper = new LogShipper(region, this.#db(this.#state.writer), this.#db(region), this.#tables, {
      lagMs: this.#options.lagMs ?? DEFAULT_LAG_MS,
      pollMs: this.#options.pollMs ?? DEFAULT_POLL_MS,
      batchTransactions: BATCH_TRANSACTIONS,
    });
    if (this.#paused) shipper.pause();
    this.#shippers.set(region, shipper);
    await shipper.start();
  }

  async #stopShippers(): Promise<void> {
    for (const shipper of this.#shippers.values()) await shipper.stop();
    this.#shippers.clear();
  }

  async #promote(region: string, lsn: number): Promise<void> {
    const db = this.#db(region);
    await startLogAfter(db, lsn);
    await setWritable(db, this.#tables, true);
  }

  async #awaitCaughtUp(toRegion: string, timeoutMs: number): Promise<number> {
    const head = await logHead(this.#db(this.#state.writer));
    const deadline = Date.now() + timeoutMs;
    const shippers = [...this.#shippers.values()];
    const behind = (): LogShipper[] => shippers.filter((shipper) => shipper.appliedLsn < head);
    while (behind().length > 0) {
      if (Date.now() >= deadline) {
        const statuses = await Promise.all(behind().map((shipper) => shipper.status()));
        const backlog = statuses.reduce((sum, status) => sum + status.backlog, 0);
        throw new SwitchoverTimeoutError(toRegion, timeoutMs, backlog, this.#paused);
      }
      await delay(this.#options.pollMs ?? DEFAULT_POLL_MS);
    }
    return head;
  }

  /** Drops log entries every attached secondary (lost ones included) has applied. */
  async #pruneLog(): Promise<void> {
    if (this.#pruning || this.#shippers.size === 0) return;
    this.#pruning = true;
    try {
      const through = Math.min(...[...this.#shippers.values()].map((shipper) => shipper.appliedLsn));
      const writer = this.#open.get(this.#state.writer);
      if (writer && through > 0 && this.#shippers.size === this.secondaryRegions.length) {
        await pruneLogThrough(writer.db, through);
      }
    } catch {
      // Pruning is housekeeping; the next interval tries again.
    } finally {
      this.#pruning = false;
    }
  }

  #stateFile(): string | undefined {
    const { stateDir, name } = this.#options;
    return stateDir === undefined ? undefined : join(stateDir, `${name}.aurora-roles.json`);
  }

  async #saveState(): Promise<void> {
    const file = this.#stateFile();
    if (file !== undefined) await saveRoleState(file, this.#state);
  }

  /** Role changes and start/close never interleave: each sees the topology the previous one left. */
  #serially<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.#exclusive.then(operation, operation);
    this.#exclusive = next.catch(() => undefined);
    return next;
  }
}
