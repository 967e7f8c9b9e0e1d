import type { DynaliteClient } from '#local/global/dynamo-replication/dynalite-client.ts';
import { DynaliteRequestError } from '#local/global/dynamo-replication/errors.ts';
import { GroupCommit } from '#local/global/dynamo-replication/group-commit.ts';
import type { AttributeMap, ItemVersion } from '#local/global/dynamo-replication/item-change.ts';

/** Hidden from ListTables by the endpoint; Rotor's own tables never start with `rotor-replication-`. */
export const VERSIONS_TABLE = 'rotor-replication-versions';

/**
 * The write-time metadata of every replicated item (and every tombstone), kept beside the items in the region's own
 * dynalite instead of inside them, so no handler ever sees it and no write has to be rewritten to carry it.
 * The endpoint is the only writer, so a read-through cache stays exact.
 *
 * Callers hold the item's lock around get and put, so a read and a write of one id never overlap. Concurrent reads
 * that miss the cache share BatchGetItem calls and concurrent writes share BatchWriteItem calls (group commit).
 */
export class VersionStore {
  private readonly cache = new Map<string, ItemVersion | null>();
  private readonly reads = new GroupCommit<string, ItemVersion | undefined>((ids) => this.fetch(ids));
  private readonly writes = new GroupCommit<readonly [string, ItemVersion], void>((entries) => this.store(entries));

  constructor(private readonly client: DynaliteClient) {}

  async ensureTable(): Promise<void> {
    try {
      await this.client.describeTable(VERSIONS_TABLE);
      return;
    } catch (error) {
      if (!isErrorOfType(error, 'ResourceNotFoundException')) throw error;
    }
    try {
      await this.client.createTable({
        TableName: VERSIONS_TABLE,
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      });
    } catch (error) {
      // Another endpoint on the same dynalite created it first.
      if (!isErrorOfType(error, 'ResourceInUseException')) throw error;
    }
    for (;;) {
      const table = await this.client.describeTable(VERSIONS_TABLE);
      if (table.TableStatus === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async get(id: string): Promise<ItemVersion | undefined> {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const [version] = await this.reads.submit([id]);
    return version;
  }

  /** The versions of several items; an item never written has none. */
  async getMany(ids: readonly string[]): Promise<Map<string, ItemVersion | undefined>> {
    const versions = new Map<string, ItemVersion | undefined>();
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const cached = this.cache.get(id);
      if (cached === undefined) missing.push(id);
      else versions.set(id, cached ?? undefined);
    }
    const fetched = await this.reads.submit(missing);
    missing.forEach((id, index) => versions.set(id, fetched[index]));
    return versions;
  }

  put(id: string, version: ItemVersion): Promise<void> {
    return this.putMany([[id, version]]);
  }

  /** Resolves once every version is stored in dynalite and in the cache. */
  async putMany(entries: readonly (readonly [string, ItemVersion])[]): Promise<void> {
    try {
      await this.writes.submit(entries);
    } catch (error) {
      // The group's write may have landed in part; the next read asks dynalite instead of trusting the cache.
      for (const [id] of entries) this.cache.delete(id);
      throw error;
    }
    for (const [id, version] of entries) this.cache.set(id, version);
  }

  private async fetch(ids: string[]): Promise<(ItemVersion | undefined)[]> {
    const unique = [...new Set(ids)];
    const items = await this.client.batchGet(
      VERSIONS_TABLE,
      unique.map((id) => ({ id: { S: id } })),
    );
    const found = new Map<string, ItemVersion>();
    for (const item of items) {
      if (item.id?.S !== undefined) found.set(item.id.S, fromItem(item));
    }
    for (const id of unique) this.cache.set(id, found.get(id) ?? null);
    return ids.map((id) => found.get(id));
  }

  private async store(entries: (readonly [string, ItemVersion])[]): Promise<void[]> {
    // One request per id: a batch may not name a key twice, and the later submission is the later version.
    const latest = new Map<string, ItemVersion>();
    for (const [id, version] of entries) latest.set(id, version);
    await this.client.batchWrite([...latest].map(([id, version]) => ({ table: VERSIONS_TABLE, request: { PutRequest: { Item: toItem(id, version) } } })));
    return entries.map(() => undefined);
  }
}

function toItem(id: string, version: ItemVersion): AttributeMap {
  return { id: { S: id }, t: { N: String(version.timeMs) }, r: { S: version.region }, d: { BOOL: version.deleted } };
}

function fromItem(item: AttributeMap): ItemVersion {
  return { timeMs: Number(item.t?.N), region: item.r?.S ?? '', deleted: item.d?.BOOL === true };
}

function isErrorOfType(error: unknown, type: string): boolean {
  return error instanceof DynaliteRequestError && error.type === type;
}
