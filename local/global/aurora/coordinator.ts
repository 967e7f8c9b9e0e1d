import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  InvalidRoleChangeError,
  RegionUnavailableError,
  ReplicaUnreachableError,
  SwitchoverTimeoutError,
} from '#local/global/aurora/errors.ts';
import type { ReplicationStatus } from '#local/global/aurora/replica-shipper.ts';
import { HttpReplicaEndpoint, type ReplicaClientOptions } from '#local/global/aurora/replica-client.ts';
import type { Change, ReplicaEndpoint, ReplicaRole, ReplicaSetup } from '#local/global/aurora/replica-endpoint.ts';
import { ReplicaShipper } from '#local/global/aurora/replica-shipper.ts';
import { loadRoleState, saveRoleState, type RoleState, type UnreplicatedTail } from '#local/global/aurora/role-state.ts';

export interface AuroraGlobalCoordinatorOptions extends ReplicaSetup, ReplicaClientOptions {
  /** Names the role state file; one global database per app (trade matching, settlement). */
  readonly name: string;
  /** The manifest database each region's agent serves, e.g. `tm-db`. */
  readonly database: string;
  /**
   * Region → its replication agent's URL (`endpoints.aurora` of the region's ready line), or an endpoint object
   * for a database in this process.
   */
  readonly regions: Readonly<Record<string, string | ReplicaEndpoint>>;
  /** The writer region on first start; afterwards the persisted roles win. */
  readonly writer: string;
  /** Directory for `<name>.aurora-roles.json`; omitted, roles live in memory and a restart forgets them. */
  readonly stateDir?: string;
  /** Replication lag each secondary trails the writer by; defaults to 200 ms. */
  readonly lagMs?: number;
  readonly pollMs?: number;
  /** How long a switchover waits for the secondaries to catch up; defaults to 10 s. */
  readonly switchoverTimeoutMs?: number;
  /** How often every region's role is checked and restored after the region restarted; defaults to 250 ms. */
  readonly superviseIntervalMs?: number;
}

const DEFAULT_LAG_MS = 200;
const DEFAULT_POLL_MS = 100;
const DEFAULT_SWITCHOVER_TIMEOUT_MS = 10_000;
const DEFAULT_SUPERVISE_INTERVAL_MS = 250;
const BATCH_TRANSACTIONS = 100;
const PRUNE_EVERY_SUPERVISIONS = 20;

/**
 * The global layer's side of an Aurora global database whose regional databases live in other processes: it
 * holds the roles (on disk), ships each secondary the writer's log through the regions' replication agents,
 * and performs switchover and failover. Same behaviour as `AuroraGlobalDatabase`, which opens every region's
 * database itself; here a region that is down is simply unreachable: shipping to or from it retries, its lag
 * grows, `failover` promotes without contacting it, and `reattach` recovers its unreplicated tail once it is back.
 *
 * A region that restarts opens its replicated database fenced; the coordinator notices within
 * `superviseIntervalMs` and gives it back its role (a detached old writer stays fenced until `reattach`).
 */
export class AuroraGlobalCoordinator {
  readonly #options: AuroraGlobalCoordinatorOptions;
  readonly #agentUrls = new Map<string, string>();
  readonly #replicas = new Map<string, ReplicaEndpoint>();
  readonly #shippers = new Map<string, ReplicaShipper>();
  /** Secondaries that must be rebuilt from the writer before shipping (they missed a failover while down). */
  readonly #rebuildPending = new Set<string>();
  #state: RoleState;
  #paused = false;
  #exclusive: Promise<unknown> = Promise.resolve();
  #superviseTimer: NodeJS.Timeout | undefined;
  #supervisions = 0;

  constructor(options: AuroraGlobalCoordinatorOptions) {
    if (!(options.writer in options.regions)) {
      throw new InvalidRoleChangeError(`writer ${options.writer} is not one of the regions ${Object.keys(options.regions).join(', ')}`);
    }
    this.#options = options;
    for (const [region, target] of Object.entries(options.regions)) {
      if (typeof target !== 'string') {
        this.#replicas.set(region, target);
        continue;
      }
      this.#agentUrls.set(region, target);
      this.#replicas.set(region, new HttpReplicaEndpoint(() => this.#agentUrls.get(region)!, options.database, options));
    }
    this.#state = { writer: options.writer, generation: 0, detached: {}, unreplicatedTails: [] };
  }

  get name(): string {
    return this.#options.name;
  }

  get writerRegion(): string {
    return this.#state.writer;
  }

  get secondaryRegions(): string[] {
    return this.#attachedRegions().filter((region) => region !== this.#state.writer);
  }

  get detachedRegions(): string[] {
    return Object.keys(this.#state.detached);
  }

  get generation(): number {
    return this.#state.generation;
  }

  /** A region came back on another address (its status port changed); shipping finds it there from now on. */
  setAgentUrl(region: string, agentUrl: string): void {
    if (!this.#agentUrls.has(region)) throw new RegionUnavailableError(`${region} is not a region reached over HTTP`);
    this.#agentUrls.set(region, agentUrl);
  }

  /**
   * Loads the roles and gives every reachable region its role; a region that is down gets it from the
   * supervision once it answers. Shipping starts at once.
   */
  async start(): Promise<void> {
    await this.#serially(async () => {
      const file = this.#stateFile();
      const persisted = file === undefined ? undefined : await loadRoleState(file);
      if (persisted) this.#state = persisted;
      for (const region of this.#attachedRegions()) await this.#assignRole(region).catch(ignoreUnreachable);
      await this.#saveState();
      for (const region of this.secondaryRegions) this.#startShipper(region);
      this.#superviseTimer = setInterval(() => void this.#supervise(), this.#options.superviseIntervalMs ?? DEFAULT_SUPERVISE_INTERVAL_MS);
      this.#superviseTimer.unref();
    });
  }

  async replicationStatus(): Promise<ReplicationStatus[]> {
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
   * Managed switchover: fences the writer, waits until every secondary has applied its whole log, then swaps
   * roles. Nothing committed is lost. If the secondaries cannot catch up in time the writer is reopened and a
   * SwitchoverTimeoutError is thrown with the roles unchanged.
   */
  async switchover(toRegion: string, { timeoutMs }: { timeoutMs?: number } = {}): Promise<void> {
    await this.#serially(async () => {
      const oldWriter = this.#state.writer;
      this.#requireSecondary(toRegion, 'switch over to');
      const writer = this.#replica(oldWriter);
      await writer.setRole({ role: 'fenced' });
      let head: number;
      try {
        head = (await writer.describe()).logHead;
        await this.#awaitCaughtUp(head, toRegion, timeoutMs ?? this.#options.switchoverTimeoutMs ?? DEFAULT_SWITCHOVER_TIMEOUT_MS);
      } catch (error) {
        await writer.setRole({ role: 'writer' });
        throw error;
      }
      await this.#stopShippers();
      await this.#replica(toRegion).setRole({ role: 'writer', logStartsAfter: head });
      await writer.setRole({ role: 'secondary', appliedLsn: head });
      this.#state = { ...this.#state, writer: toRegion, generation: this.#state.generation + 1 };
      await this.#saveState();
      for (const region of this.secondaryRegions) this.#startShipper(region);
    });
  }

  /**
   * Unplanned failover for when the writer's region is gone: promotes `toRegion` at once, at the last LSN it had
   * applied, without contacting the old writer. What the old writer committed after that point is recovered as
   * data by `reattach` once its region returns.
   */
  async failover(toRegion: string): Promise<{ promotionLsn: number }> {
    return this.#serially(async () => {
      const oldWriter = this.#state.writer;
      this.#requireSecondary(toRegion, 'fail over to');
      // Shipping stops first, so the promotion point cannot move after it is read.
      await this.#stopShippers();
      const promoted = this.#replica(toRegion);
      let promotionLsn: number;
      try {
        promotionLsn = (await promoted.describe()).appliedLsn ?? 0;
        await promoted.setRole({ role: 'writer', logStartsAfter: promotionLsn });
      } catch (error) {
        // The target is unreachable too: nothing changed, so shipping carries on as before.
        for (const region of this.secondaryRegions) this.#startShipper(region);
        throw error;
      }
      this.#state = {
        ...this.#state,
        writer: toRegion,
        generation: this.#state.generation + 1,
        detached: { ...this.#state.detached, [oldWriter]: { promotionLsn, failedOverAt: new Date().toISOString() } },
      };
      await this.#saveState();
      // Other secondaries may have applied more or less of the old writer's log than the new writer did.
      for (const region of this.secondaryRegions) {
        this.#rebuildPending.add(region);
        await this.#rebuild(region).catch(ignoreUnreachable);
      }
      return { promotionLsn };
    });
  }

  /**
   * Brings a region back. A region detached by a failover is fenced, its unreplicated tail (the changes in its
   * log after the promotion point) recorded, and it is rebuilt as a read-only secondary from the writer's data;
   * the tail is never replayed. Any other region simply gets its role again.
   */
  async reattach(region: string, { agentUrl }: { agentUrl?: string } = {}): Promise<UnreplicatedTail | undefined> {
    return this.#serially(async () => {
      if (agentUrl !== undefined) this.setAgentUrl(region, agentUrl);
      const detached = this.#state.detached[region];
      const replica = this.#replica(region);
      if (!detached) {
        await this.#assignRole(region);
        return undefined;
      }
      await replica.configure(this.#setup());
      await replica.setRole({ role: 'fenced' });
      const tail: UnreplicatedTail = {
        region,
        promotionLsn: detached.promotionLsn,
        recordedAt: new Date().toISOString(),
        changes: await replica.tail(detached.promotionLsn),
      };
      // Kept before the rebuild replaces the region's data, so a crash mid-rebuild cannot lose the report.
      this.#state = { ...this.#state, unreplicatedTails: [...this.#state.unreplicatedTails, tail] };
      await this.#saveState();
      this.#rebuildPending.add(region);
      await this.#rebuild(region);
      const { [region]: _reattached, ...stillDetached } = this.#state.detached;
      this.#state = { ...this.#state, detached: stillDetached };
      await this.#saveState();
      return tail;
    });
  }

  /** The changes the most recent failover lost: committed on the old writer, never applied on the new one. */
  unreplicatedTail(): Change[] {
    return [...(this.#state.unreplicatedTails.at(-1)?.changes ?? [])];
  }

  /** Stops shipping and supervision; the regions keep their roles and data. */
  async close(): Promise<void> {
    await this.#serially(async () => {
      if (this.#superviseTimer) clearInterval(this.#superviseTimer);
      this.#superviseTimer = undefined;
      await this.#stopShippers();
    });
  }

  #replica(region: string): ReplicaEndpoint {
    const replica = this.#replicas.get(region);
    if (!replica) throw new RegionUnavailableError(`unknown region ${region}`);
    return replica;
  }

  #setup(): ReplicaSetup {
    return { tables: this.#options.tables, ...(this.#options.schema ? { schema: this.#options.schema } : {}) };
  }

  #attachedRegions(): string[] {
    return Object.keys(this.#options.regions).filter((region) => !(region in this.#state.detached));
  }

  #requireSecondary(region: string, action: string): void {
    this.#replica(region);
    if (region === this.#state.writer) throw new InvalidRoleChangeError(`cannot ${action} ${region}: it is already the writer`);
    if (region in this.#state.detached) {
      throw new RegionUnavailableError(`cannot ${action} ${region}: it was detached by a failover; reattach it first`);
    }
  }

  /** Installs capture and sets the role the persisted state gives `region` (an attached region). */
  async #assignRole(region: string): Promise<ReplicaRole> {
    const replica = this.#replica(region);
    await replica.configure(this.#setup());
    if (region === this.#state.writer) return (await replica.setRole({ role: 'writer' })).role;
    if (this.#rebuildPending.has(region)) return (await this.#rebuild(region)).role;
    const described = await replica.setRole({ role: 'secondary' });
    // A new secondary is seeded from a snapshot before it counts as attached, as Aurora copies a region it adds.
    return described.appliedLsn === null ? (await this.#rebuild(region)).role : described.role;
  }

  /** Replaces a secondary's data with the writer's current snapshot and (re)starts shipping to it. */
  async #rebuild(region: string): Promise<{ role: ReplicaRole }> {
    const replica = this.#replica(region);
    await this.#shippers.get(region)?.stop();
    this.#shippers.delete(region);
    await replica.configure(this.#setup());
    await replica.setRole({ role: 'fenced' });
    await replica.restore(await this.#replica(this.#state.writer).snapshot());
    const described = await replica.setRole({ role: 'secondary' });
    this.#rebuildPending.delete(region);
    this.#startShipper(region);
    return described;
  }

  #startShipper(region: string): void {
    if (this.#shippers.has(region) || this.#rebuildPending.has(region)) return;
    const shipper = new ReplicaShipper(region, this.#replica(this.#state.writer), this.#replica(region), {
      lagMs: this.#options.lagMs ?? DEFAULT_LAG_MS,
      pollMs: this.#options.pollMs ?? DEFAULT_POLL_MS,
      batchTransactions: BATCH_TRANSACTIONS,
    });
    if (this.#paused) shipper.pause();
    this.#shippers.set(region, shipper);
    shipper.start();
  }

  async #stopShippers(): Promise<void> {
    await Promise.all([...this.#shippers.values()].map((shipper) => shipper.stop()));
    this.#shippers.clear();
  }

  async #awaitCaughtUp(head: number, toRegion: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const shippers = [...this.#shippers.values()];
    const behind = (): ReplicaShipper[] => shippers.filter((shipper) => (shipper.appliedLsn ?? -1) < head);
    while (behind().length > 0) {
      if (Date.now() >= deadline) {
        const statuses = await Promise.all(behind().map((shipper) => shipper.status()));
        const backlog = statuses.reduce((sum, status) => sum + status.backlog, 0);
        throw new SwitchoverTimeoutError(toRegion, timeoutMs, backlog, this.#paused);
      }
      await delay(this.#options.pollMs ?? DEFAULT_POLL_MS);
    }
  }

  /**
   * Restores roles a restart took away (a restarted region opens fenced), keeps old writers cut off by a
   * failover fenced whenever they are reachable, rebuilds secondaries that missed a failover, and prunes the
   * writer's log behind the slowest secondary.
   */
  async #supervise(): Promise<void> {
    await this.#serially(async () => {
      if (this.#superviseTimer === undefined) return;
      for (const region of Object.keys(this.#options.regions)) {
        try {
          const { role } = await this.#replica(region).describe();
          if (region in this.#state.detached) {
            if (role === 'writer' || role === 'secondary') await this.#replica(region).setRole({ role: 'fenced' });
          } else if (this.#rebuildPending.has(region)) {
            await this.#rebuild(region);
          } else if (role !== (region === this.#state.writer ? 'writer' : 'secondary')) {
            await this.#assignRole(region);
          }
        } catch {
          // Down or restarting: the next supervision tries again, and shipping reports the error meanwhile.
        }
      }
      this.#supervisions += 1;
      if (this.#supervisions % PRUNE_EVERY_SUPERVISIONS === 0) await this.#pruneWriterLog().catch(() => undefined);
    });
  }

  async #pruneWriterLog(): Promise<void> {
    const shippers = [...this.#shippers.values()];
    if (shippers.length === 0 || shippers.length !== this.secondaryRegions.length) return;
    const positions = shippers.map((shipper) => shipper.appliedLsn);
    if (positions.some((position) => position === undefined)) return;
    const through = Math.min(...(positions as number[]));
    if (through > 0) await this.#replica(this.#state.writer).prune(through);
  }

  #stateFile(): string | undefined {
    const { stateDir, name } = this.#options;
    return stateDir === undefined ? undefined : join(stateDir, `${name}.aurora-roles.json`);
  }

  async #saveState(): Promise<void> {
    const file = this.#stateFile();
    if (file !== undefined) await saveRoleState(file, this.#state);
  }

  /** Role changes, supervision and start/close never interleave: each sees the topology the previous one left. */
  #serially<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.#exclusive.then(operation, operation);
    this.#exclusive = next.catch(() => undefined);
    return next;
  }
}

function ignoreUnreachable(error: unknown): void {
  if (!(error instanceof ReplicaUnreachableError)) throw error;
}
