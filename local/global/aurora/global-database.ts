import type { Kysely } from 'kysely';
import { openDatabase, type DatabaseConfig, type OpenedDatabase } from '#shared/adapters/postgres/database.ts';
import type { AnyKysely, Change } from '#local/global/aurora/change-capture.ts';
import { AuroraGlobalCoordinator } from '#local/global/aurora/coordinator.ts';
import { InvalidRoleChangeError, RegionUnavailableError } from '#local/global/aurora/errors.ts';
import { InProcessReplica } from '#local/global/aurora/in-process-replica.ts';
import type { ReplicationStatus } from '#local/global/aurora/replica-shipper.ts';
import { ReplicaDatabase } from '#local/global/aurora/replica-database.ts';
import type { UnreplicatedTail } from '#local/global/aurora/role-state.ts';

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

/**
 * The twin's Aurora PostgreSQL Global Database with every region's database opened in this process: one writer
 * region whose committed changes are shipped, in commit order and whole transactions at a time, to read-only
 * secondaries after a configurable lag; managed switchover without loss; failover that promotes a secondary at
 * once and keeps what the old writer never shipped as data (`unreplicatedTail()`) instead of replaying it.
 *
 * The coordination is `AuroraGlobalCoordinator`'s, the same the two-region twin runs against region processes;
 * this class adds opening the databases, handler connections and simulated region loss.
 */
export class AuroraGlobalDatabase {
  readonly #options: AuroraGlobalDatabaseOptions;
  readonly #open = new Map<string, OpenedDatabase<any>>();
  readonly #replicas = new Map<string, InProcessReplica>();
  readonly #coordinator: AuroraGlobalCoordinator;

  constructor(options: AuroraGlobalDatabaseOptions) {
    if (!(options.writer in options.regions)) {
      throw new InvalidRoleChangeError(`writer ${options.writer} is not one of the regions ${Object.keys(options.regions).join(', ')}`);
    }
    this.#options = options;
    for (const region of Object.keys(options.regions)) this.#replicas.set(region, new InProcessReplica(region));
    this.#coordinator = new AuroraGlobalCoordinator({
      name: options.name,
      database: options.name,
      regions: Object.fromEntries(this.#replicas),
      writer: options.writer,
      tables: options.tables,
      ...(options.stateDir === undefined ? {} : { stateDir: options.stateDir }),
      ...(options.lagMs === undefined ? {} : { lagMs: options.lagMs }),
      ...(options.pollMs === undefined ? {} : { pollMs: options.pollMs }),
      ...(options.switchoverTimeoutMs === undefined ? {} : { switchoverTimeoutMs: options.switchoverTimeoutMs }),
    });
  }

  get name(): string {
    return this.#options.name;
  }

  get writerRegion(): string {
    return this.#coordinator.writerRegion;
  }

  /** Regions replicating from the writer now (not detached by a failover). */
  get secondaryRegions(): string[] {
    return this.#coordinator.secondaryRegions;
  }

  /** Regions cut off by a failover and waiting for `reattach`. */
  get detachedRegions(): string[] {
    return this.#coordinator.detachedRegions;
  }

  /** Bumped by every switchover and failover. */
  get generation(): number {
    return this.#coordinator.generation;
  }

  /** Opens every region's database (a replicating one opens fenced), then lets the coordinator assign the roles. */
  async start(): Promise<void> {
    for (const region of Object.keys(this.#options.regions)) await this.#openRegion(region);
    await this.#coordinator.start();
  }

  /** A Kysely for handlers in `region`: read-write in the writer, rejecting writes with SQLSTATE 25006 elsewhere. */
  connection<DB>(region: string): Kysely<DB> {
    if (!(region in this.#options.regions)) throw new RegionUnavailableError(`unknown region ${region}`);
    if (this.detachedRegions.includes(region)) {
      throw new RegionUnavailableError(`${region} was detached by a failover; reattach it to use it again`);
    }
    const opened = this.#open.get(region);
    if (!opened) throw new RegionUnavailableError(`${region}'s database is unavailable (region lost or closed)`);
    return opened.db as Kysely<DB>;
  }

  replicationStatus(): Promise<ReplicationStatus[]> {
    return this.#coordinator.replicationStatus();
  }

  /** The twin's AuroraGlobalDBRPOLag: the worst secondary's age of its oldest unapplied committed change. */
  rpoLagMs(): Promise<number> {
    return this.#coordinator.rpoLagMs();
  }

  /** Stops applying on every secondary (a lag spike); the writer keeps committing and the backlog grows. */
  pause(): void {
    this.#coordinator.pause();
  }

  resume(): void {
    this.#coordinator.resume();
  }

  /** See `AuroraGlobalCoordinator.switchover`: fence, wait for lag 0, swap roles; nothing committed is lost. */
  switchover(toRegion: string, options: { timeoutMs?: number } = {}): Promise<void> {
    return this.#coordinator.switchover(toRegion, options);
  }

  /**
   * Unplanned failover for when the writer's region is gone: promotes `toRegion` at the last LSN it had applied.
   * The old writer's database is closed: its unshipped changes stay only in its own log until `reattach`.
   */
  async failover(toRegion: string): Promise<{ promotionLsn: number }> {
    const oldWriter = this.writerRegion;
    const promoted = await this.#coordinator.failover(toRegion);
    await this.#closeRegion(oldWriter);
    return promoted;
  }

  /**
   * Chaos: the region disappears. Its database is closed, so shipping to or from it fails and retries, and a
   * writer's unshipped changes stay only in its own log, as in a real regional outage.
   */
  async simulateRegionLoss(region: string): Promise<void> {
    this.connection(region);
    await this.#closeRegion(region);
  }

  /**
   * Brings a region back. A region detached by a failover has its unreplicated tail recorded and is rebuilt as a
   * read-only secondary from the writer's data; the tail is never replayed. A lost region that was not failed
   * over from simply reopens in its role.
   */
  async reattach(region: string): Promise<UnreplicatedTail | undefined> {
    if (!(region in this.#options.regions)) throw new RegionUnavailableError(`unknown region ${region}`);
    const detached = this.detachedRegions.includes(region);
    if (!detached && this.#open.has(region)) throw new InvalidRoleChangeError(`${region} is attached and open; nothing to reattach`);
    if (!this.#open.has(region)) await this.#openRegion(region);
    return this.#coordinator.reattach(region);
  }

  /** The changes the most recent failover lost: committed on the old writer, never applied on the new one. */
  unreplicatedTail(): Change[] {
    return this.#coordinator.unreplicatedTail();
  }

  async close(): Promise<void> {
    await this.#coordinator.close();
    for (const region of [...this.#open.keys()]) await this.#closeRegion(region);
  }

  async #openRegion(region: string): Promise<void> {
    const opened = await openDatabase<any>(this.#options.regions[region]!);
    try {
      await this.#options.prepare?.(opened.db, region);
      this.#replicas.get(region)!.connect(await ReplicaDatabase.open(opened.db));
    } catch (error) {
      await opened.close().catch(() => undefined);
      throw error;
    }
    this.#open.set(region, opened);
  }

  async #closeRegion(region: string): Promise<void> {
    this.#replicas.get(region)?.disconnect();
    const opened = this.#open.get(region);
    this.#open.delete(region);
    await opened?.close().catch(() => undefined);
  }
}
