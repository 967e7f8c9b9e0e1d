import type { AttributeValue } from '@aws-sdk/client-dynamodb';

export type AttributeMap = Record<string, AttributeValue>;

/** How a replicated table is kept in step: `async` = MREC (last writer wins), `sync` = MRSC (peer applies before the ack). */
export type ReplicationMode = 'async' | 'sync';

export interface ReplicatedTable {
  readonly name: string;
  readonly mode: ReplicationMode;
}

/**
 * When and where an item was last written. Every replica compares versions the same way, so all of them keep the
 * same winner whatever order changes arrive in: later write time wins, and on equal times the greater region name.
 */
export interface ItemVersion {
  readonly timeMs: number;
  readonly region: string;
  /** The last write was a delete: a tombstone that stops an older put arriving late from bringing the item back. */
  readonly deleted: boolean;
}

export function isNewerVersion(candidate: Pick<ItemVersion, 'timeMs' | 'region'>, current: ItemVersion | undefined): boolean {
  if (current === undefined) return true;
  if (candidate.timeMs !== current.timeMs) return candidate.timeMs > current.timeMs;
  return candidate.region > current.region;
}

/** One write made in its origin region, as shipped to the other regions. */
export interface ItemChange {
  /** Position in the origin region's replication log. */
  readonly seq: number;
  readonly table: string;
  /** The primary key attributes only. */
  readonly key: AttributeMap;
  /** The whole item after the write; absent for a delete. */
  readonly image?: AttributeMap;
  readonly writeTimeMs: number;
  readonly originRegion: string;
  /** When the origin logged it (never earlier than a previous entry's); the link's lag counts from here. */
  readonly loggedAtMs: number;
}

export type UnsequencedChange = Omit<ItemChange, 'seq' | 'loggedAtMs'>;

/** Identifies an item across regions: the table plus its key attributes in name order. */
export function itemId(table: string, key: AttributeMap): string {
  const names = Object.keys(key).sort();
  return `${table}\u0000${JSON.stringify(names.map((name) => [name, key[name]]))}`;
}

export function keyOf(item: AttributeMap, keyNames: readonly string[]): AttributeMap {
  const key: AttributeMap = {};
  for (const name of keyNames) {
    const value = item[name];
    if (value !== undefined) key[name] = value;
  }
  return key;
}
