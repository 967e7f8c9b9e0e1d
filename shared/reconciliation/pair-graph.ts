import type { StreamRecord } from '#domain/pipeline-messages.ts';
import type { AppName } from '#shared/topology/schema.ts';
import { UnknownPairError } from './errors.ts';
import type { ReconciliationNames } from './names.ts';
import { fixGatewayPair } from './fix-gateway-pair.ts';
import { interAppPair, pipelinePairs } from './pipeline-pairs.ts';

/**
 * The reconciliation pair graph (docs/reconciliation.md): for one app, every pair of adjacent stores, declared as
 * data the generic engine (compare.ts, replay.ts) runs. A pair says where its source items are, what each source
 * item must have left in the destination store(s), and how to send it downstream again when it did not.
 *
 * Pairs come upstream first. A replay of an upstream pair makes the downstream stages redo their part too, and a
 * settlement result is only worth replaying once the trade it reports on is back.
 */

/** An item of a store: a DynamoDB item, or an outbox row as the stream record egress receives. */
export type Item = Readonly<Record<string, unknown>> & { readonly id: string };

/** Where a pair's source items live: a safe store, or the outbox of an app's matching database. */
export type SourceRef = { readonly kind: 'table'; readonly table: string } | { readonly kind: 'outbox'; readonly app: AppName };

/** One item a source item should have produced, and the test the stored item must pass. */
export interface Probe {
  readonly table: string;
  readonly id: string;
  matches(found: Item): boolean;
}

/** Met when any of its probes finds an item that matches (a leg is either stored or rejected). */
export interface Expectation {
  readonly anyOf: readonly Probe[];
}

/** How a source item is sent downstream again: onto the consuming stage's stream, or onto the receiving queue. */
export type ReplayAction =
  | {
      readonly kind: 'stream';
      readonly stream: string;
      readonly partitionKey: string;
      readonly record: StreamRecord;
      /** Sent after the pair's other records: a settlement result after the trade legs it reports on. */
      readonly last?: boolean;
    }
  | { readonly kind: 'queue'; readonly queue: string; readonly body: string };

export interface PairSpec {
  /** `tm:inbound-gateway→ingestion`, `sm→tm`, … */
  readonly name: string;
  /** The app whose reconciliation owns the pair: for an inter-app pair, the receiving one. */
  readonly app: AppName;
  readonly source: SourceRef;
  /** What the report calls the source and destination stores. */
  readonly sourceName: string;
  readonly destinationName: string;
  /** Messages from the other app into this one: they follow the edge to wherever this app is served. */
  readonly interApp?: boolean;
  /** Which of the source's items the pair is about; all when absent. */
  includes?(item: Item): boolean;
  /** Every expectation must be met, or the source item is missing downstream. */
  expected(item: Item): readonly Expectation[];
  /** Undefined for an item that cannot be sent again (its stored form no longer parses as a record). */
  replay(item: Item): ReplayAction | undefined;
}

/** The app's pairs, upstream first: its own four, then the one from the other app into it. */
export function reconciliationGraph(app: AppName, names: ReconciliationNames): PairSpec[] {
  const fix = app === 'trade-matching' && names.stores[app].fixGateway ? [fixGatewayPair(names)] : [];
  return [...fix, ...pipelinePairs(app, names), interAppPair(app, names)];
}

/** The named pairs in graph order, or all of them; an unknown name is refused rather than silently skipped. */
export function selectPairs(graph: readonly PairSpec[], names: readonly string[] | undefined): PairSpec[] {
  if (names === undefined) return [...graph];
  const known = graph.map((pair) => pair.name);
  for (const name of names) if (!known.includes(name)) throw new UnknownPairError(name, known);
  return graph.filter((pair) => names.includes(pair.name));
}

/** When the source item was recorded, if it says: the safe store's stamp, the gateway's receipt, the outbox row's. */
export function recordedTime(item: Item): Date | undefined {
  const stamp = item.recordedAt ?? item.receivedAt;
  if (typeof stamp !== 'string') return undefined;
  const time = new Date(stamp);
  return Number.isNaN(time.getTime()) ? undefined : time;
}

/** Items recorded after `until` belong to a later pass; items that do not say when are in every window. */
export const inWindow = (item: Item, until: Date) => {
  const time = recordedTime(item);
  return time === undefined || time.getTime() <= until.getTime();
};
