import type { DynaliteClient, TableWrite } from '#local/global/dynamo-replication/dynalite-client.ts';
import { DynaliteRequestError, PeerUnavailableError, ReplicatedWriteConflictError } from '#local/global/dynamo-replication/errors.ts';
import {
  isNewerVersion,
  itemId,
  type AttributeMap,
  type ItemChange,
  type ItemVersion,
  type ReplicatedTable,
  type UnsequencedChange,
} from '#local/global/dynamo-replication/item-change.ts';
import { KeyLocks } from '#local/global/dynamo-replication/key-locks.ts';
import type { ReplicationLog } from '#local/global/dynamo-replication/replication-log.ts';
import { SyncTableRecorder, type SyncTableMetrics } from '#local/global/dynamo-replication/sync-metrics.ts';
import type { VersionStore } from '#local/global/dynamo-replication/version-store.ts';

/**
 * Ships synchronous writes to every peer that is up; rejects with PeerUnavailableError or
 * ReplicatedWriteConflictError. Resolves the peers that are down: they get the changes from the log when they return.
 */
export type SyncReplicator = (changes: readonly ItemChange[]) => Promise<void | { readonly deferredTo: readonly string[] }>;

/** A client write dynalite accepted, before it is committed to replication. */
export interface AcceptedWrite {
  readonly table: ReplicatedTable;
  readonly id: string;
  readonly key: AttributeMap;
  /** The item after the write; undefined for a delete. */
  readonly image: AttributeMap | undefined;
  /** Version before the write, read under the item's lock. */
  readonly previous: ItemVersion | undefined;
  /** Item before the write (sync tables only), put back if the peers do not confirm. */
  readonly oldImage: AttributeMap | undefined;
}

export type CommitOutcome = { committed: true } | { committed: false; reason: PeerUnavailableError | ReplicatedWriteConflictError };

export interface ApplyResult {
  readonly applied: number;
  /** Older than what the region already had (last writer wins), so left out. */
  readonly superseded: number;
}

/**
 * The region-side rules of a global table: per-item ordering, write versions, the durable log for async tables,
 * the peer round trip (with rollback) for sync tables, and last-writer-wins application of peers' changes.
 */
export class ReplicatedWrites {
  private readonly locks = new KeyLocks();
  /** Items of sync tables this region is writing right now; a peer's synchronous change to one is a conflict. */
  private readonly syncWritesInFlight = new Set<string>();
  private readonly keyNamesByTable = new Map<string, readonly string[]>();
  private readonly keyNameLookups = new Map<string, Promise<readonly string[] | undefined>>();
  private readonly syncRecorders = new Map<string, SyncTableRecorder>();
  private syncReplicator: SyncReplicator | undefined;
  private counters = { logged: 0, applied: 0, superseded: 0 };

  constructor(
    readonly region: string,
    private readonly tables: ReadonlyMap<string, ReplicatedTable>,
    private readonly client: DynaliteClient,
    private readonly versions: VersionStore,
    readonly log: ReplicationLog,
  ) {}

  /** Runs a client write with its items locked; `syncIds` are the items of sync tables among them. */
  async withWriteLocks<T>(ids: readonly string[], syncIds: readonly string[], work: () => Promise<T>): Promise<T> {
    return this.locks.withKeys(ids, async () => {
      for (const id of syncIds) this.syncWritesInFlight.add(id);
      try {
        return await work();
      } finally {
        for (const id of syncIds) this.syncWritesInFlight.delete(id);
      }
    });
  }

  /**
   * Waits out a sync write of the item in progress, so a key read never sees a write that its peers may still
   * refuse (and that would then be put back).
   */
  withReadLock<T>(id: string, work: () => Promise<T>): Promise<T> {
    return this.locks.withKeys([id], work);
  }

  setSyncReplicator(replicator: SyncReplicator | undefined): void {
    this.syncReplicator = replicator;
  }

  replicatedTable(name: unknown): ReplicatedTable | undefined {
    return typeof name === 'string' ? this.tables.get(name) : undefined;
  }

  /** The table's key attribute names; undefined when the table does not exist (the forwarded call then fails as usual). */
  async keyNames(table: string): Promise<readonly string[] | undefined> {
    const known = this.keyNamesByTable.get(table);
    if (known) return known;
    // The first burst of writes to a table would otherwise send one DescribeTable each.
    let lookup = this.keyNameLookups.get(table);
    if (!lookup) {
      lookup = this.describeKeyNames(table).finally(() => this.keyNameLookups.delete(table));
      this.keyNameLookups.set(table, lookup);
    }
    return lookup;
  }

  versionOf(id: string): Promise<ItemVersion | undefined> {
    return this.versions.get(id);
  }

  versionsOf(ids: readonly string[]): Promise<Map<string, ItemVersion | undefined>> {
    return this.versions.getMany(ids);
  }

  readItem(table: string, key: AttributeMap): Promise<AttributeMap | undefined> {
    return this.client.getItem(table, key);
  }

  /**
   * Makes accepted writes replicated before the client hears of them: async tables are logged durably, sync tables
   * are applied by every peer or rolled back. Called with the items' locks held.
   */
  async commit(writes: readonly AcceptedWrite[]): Promise<Map<string, CommitOutcome>> {
    const outcomes = new Map<string, CommitOutcome>();
    const stamped = writes.map((write) => ({ write, change: this.changeFor(write) }));
    const asyncWrites = stamped.filter(({ write }) => write.table.mode === 'async');
    if (asyncWrites.length > 0) {
      await this.log.append(asyncWrites.map(({ change }) => change));
      this.counters.logged += asyncWrites.length;
      // After the append: the log is the source of truth, and replayLog() restores versions a crash left unwritten.
      await this.versions.putMany(asyncWrites.map(({ write, change }) => [write.id, versionOf(change)] as const));
      for (const { write } of asyncWrites) outcomes.set(write.id, { committed: true });
    }
    const syncWrites = stamped.filter(({ write }) => write.table.mode === 'sync');
    if (syncWrites.length === 0) return outcomes;
    const startedAt = performance.now();
    try {
      const loggedAtMs = Date.now();
      const replication = await this.syncReplicator?.(syncWrites.map(({ change }) => ({ ...change, seq: 0, loggedAtMs })));
      // Confirmed by the peers that are up (with the witness, a quorum); a peer region that is down catches up from
      // the log, where the links ship it as they ship async changes (peers that have it take it again as a no-op).
      if (replication && replication.deferredTo.length > 0) {
        await this.log.append(syncWrites.map(({ change }) => change));
        this.counters.logged += syncWrites.length;
      }
    } catch (error) {
      if (!(error instanceof PeerUnavailableError || error instanceof ReplicatedWriteConflictError)) throw error;
      for (const { write, change } of syncWrites) {
        await this.rollBack(write, change.writeTimeMs);
        const recorder = this.syncRecorder(write.table.name);
        if (error instanceof ReplicatedWriteConflictError) recorder.conflicts++;
        else recorder.unavailable++;
        outcomes.set(write.id, { committed: false, reason: error });
      }
      return outcomes;
    }
    const waitedMs = Math.round(performance.now() - startedAt);
    await this.versions.putMany(syncWrites.map(({ write, change }) => [write.id, versionOf(change)] as const));
    for (const { write } of syncWrites) {
      const recorder = this.syncRecorder(write.table.name);
      recorder.committed++;
      recorder.peerWait.record(waitedMs);
      outcomes.set(write.id, { committed: true });
    }
    return outcomes;
  }

  /**
   * Applies peers' changes, last writer wins by (write time, region). A synchronous change for an item this region
   * is itself writing is refused, as MRSC refuses concurrent writes to one item from two regions.
   *
   * Of several changes to one item in the call only the newest is written; the others count as superseded, as
   * they would have been had they arrived after it. Items are written before their versions: a crash in between
   * leaves the old version, so the re-shipped batch is applied again rather than taken for already applied.
   */
  async applyReplicated(changes: readonly ItemChange[], { synchronous = false } = {}): Promise<ApplyResult> {
    const newest = new Map<string, { change: ItemChange; version: ItemVersion }>();
    let superseded = 0;
    for (const change of changes) {
      const id = itemId(change.table, change.key);
      if (synchronous && this.syncWritesInFlight.has(id)) {
        throw new ReplicatedWriteConflictError(`${this.region} is writing the same item of ${change.table}`);
      }
      const version = versionOf(change);
      const held = newest.get(id);
      if (held) {
        superseded++;
        if (!isNewerVersion(version, held.version)) continue;
      }
      newest.set(id, { change, version });
    }
    const ids = [...newest.keys()];
    const applied = await this.locks.withKeys(ids, async () => {
      const current = await this.versions.getMany(ids);
      const winners = [...newest].filter(([id, { version }]) => isNewerVersion(version, current.get(id)));
      await this.client.batchWrite(winners.map(([, { change }]) => writeOf(change.table, change.key, change.image)));
      await this.versions.putMany(winners.map(([id, { version }]) => [id, version] as const));
      return winners.length;
    });
    superseded += ids.length - applied;
    this.counters.applied += applied;
    this.counters.superseded += superseded;
    return { applied, superseded };
  }

  /** Brings the version store up to date with logged changes a crash may have left unrecorded there. */
  async replayLog(): Promise<void> {
    const newest = new Map<string, ItemVersion>();
    for (const change of this.log.retained()) {
      const id = itemId(change.table, change.key);
      const version = versionOf(change);
      const held = newest.get(id);
      if (!held || isNewerVersion(version, held)) newest.set(id, version);
    }
    const current = await this.versions.getMany([...newest.keys()]);
    await this.versions.putMany([...newest].filter(([id, version]) => isNewerVersion(version, current.get(id))));
  }

  metrics(): { logged: number; applied: number; superseded: number; syncTables: Record<string, SyncTableMetrics> } {
    const syncTables: Record<string, SyncTableMetrics> = {};
    for (const [table, recorder] of this.syncRecorders) syncTables[table] = recorder.summary();
    return { ...this.counters, syncTables };
  }

  private async describeKeyNames(table: string): Promise<readonly string[] | undefined> {
    try {
      const { KeySchema } = await this.client.describeTable(table);
      const names = (KeySchema ?? []).map((element) => element.AttributeName ?? '');
      this.keyNamesByTable.set(table, names);
      return names;
    } catch (error) {
      if (error instanceof DynaliteRequestError && error.type === 'ResourceNotFoundException') return undefined;
      throw error;
    }
  }

  private syncRecorder(table: string): SyncTableRecorder {
    let recorder = this.syncRecorders.get(table);
    if (!recorder) this.syncRecorders.set(table, (recorder = new SyncTableRecorder()));
    return recorder;
  }

  private changeFor(write: AcceptedWrite): UnsequencedChange {
    // Never at or before the version it replaces, so a write made after seeing a peer's change always wins over it.
    const writeTimeMs = Math.max(Date.now(), (write.previous?.timeMs ?? 0) + 1);
    return { table: write.table.name, key: write.key, ...(write.image ? { image: write.image } : {}), writeTimeMs, originRegion: this.region };
  }

  /**
   * Puts the item back as it was, as a new write logged for async shipment: if a peer applied the failed write but
   * its confirmation was lost, this later version undoes it there too once the link is back.
   */
  private async rollBack(write: AcceptedWrite, failedWriteTimeMs: number): Promise<void> {
    await this.writeItem(write.table.name, write.key, write.oldImage);
    const writeTimeMs = Math.max(Date.now(), failedWriteTimeMs + 1);
    const [logged] = await this.log.append([
      { table: write.table.name, key: write.key, ...(write.oldImage ? { image: write.oldImage } : {}), writeTimeMs, originRegion: this.region },
    ]);
    if (logged) await this.versions.put(write.id, versionOf(logged));
  }

  private async writeItem(table: string, key: AttributeMap, image: AttributeMap | undefined): Promise<void> {
    if (image) await this.client.putItem(table, image);
    else await this.client.deleteItem(table, key);
  }
}

function writeOf(table: string, key: AttributeMap, image: AttributeMap | undefined): TableWrite {
  return { table, request: image ? { PutRequest: { Item: image } } : { DeleteRequest: { Key: key } } };
}

function versionOf(change: Pick<ItemChange, 'writeTimeMs' | 'originRegion' | 'image'>): ItemVersion {
  return { timeMs: change.writeTimeMs, region: change.originRegion, deleted: change.image === undefined };
}
