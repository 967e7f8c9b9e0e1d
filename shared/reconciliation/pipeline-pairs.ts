import { settlementEgress, tradeMatchingEgress } from '#domain/egress.ts';
import { ingestSettlementMessage, ingestTradeMatchingMessage, type IngestionDecision } from '#domain/ingestion.ts';
import {
  InboundRecord,
  type MatchingInput,
  type NackRecord,
  type OutboundRecord as OutboundRecordType,
  OutboundRecord,
  OutboxEventRecord,
} from '#domain/pipeline-messages.ts';
import { Settlement } from '#domain/settlement.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import { OutboxEventType } from '#shared/adapters/postgres/outbox-events.ts';
import { outboxRecordId } from '#shared/pipeline/matching-stage.ts';
import { MessageId, partitionKeyOfBody } from '#shared/pipeline/message-id.ts';
import type { AppName } from '#shared/topology/schema.ts';
import { memberAt, recordOf, sameBody } from './content.ts';
import { ReplayTargetsMissingError } from './errors.ts';
import { APP_PREFIX, DATABASE_RECORDS, INTER_APP_QUEUE, otherApp, type ReconciliationNames, type ReplayTargets } from './names.ts';
import type { Expectation, Item, PairSpec, Probe, ReplayAction } from './pair-graph.ts';

/**
 * The pairs themselves (docs/reconciliation.md has them as a table). Expectations are derived with the same pure
 * domain functions the stages run — ingestion's decision, egress's messages — so "what should be there" can never
 * drift from what the stages do.
 */

const egressOf = { 'trade-matching': tradeMatchingEgress, settlement: settlementEgress } as const;

/** What every stage but the gateways receives, by the record's kind; what sits in a store carries more. */
type Decision = IngestionDecision<MatchingInput>;

const decisions = new WeakMap<Item, { inbound: InboundRecord; decision: Decision } | null>();

/**
 * The in-gateway item as the record the gateway forwarded, and the decision ingestion makes of it. Null for an
 * item that no longer parses as a gateway record, which no stage could have taken either. Two pairs read the same
 * in-gateway page, so the decision is kept per item object.
 */
function ingested(app: AppName, item: Item): { inbound: InboundRecord; decision: Decision } | null {
  const cached = decisions.get(item);
  if (cached !== undefined) return cached;
  const inbound = recordOf(InboundRecord, item);
  const result = inbound ? { inbound, decision: app === 'trade-matching' ? ingestTradeMatchingMessage(inbound) : ingestSettlementMessage(inbound) } : null;
  decisions.set(item, result);
  return result;
}

/** Expected of an item nothing can be derived from: never met, so it is reported rather than passed over. */
const UNREADABLE: readonly Expectation[] = [{ anyOf: [] }];

const exists = (): boolean => true;

function targetsOf(names: ReconciliationNames, pair: string): ReplayTargets {
  if (!names.targets) throw new ReplayTargetsMissingError(pair);
  return names.targets;
}

/** Each outgoing message under its own id in `table`, with a body saying the same. */
const messagesIn = (table: string, messages: readonly OutboundRecordType[]): Expectation[] =>
  messages.map((message) => ({ anyOf: [{ table, id: message.id, matches: (found: Item) => sameBody(found.body, message.body) }] }));

/** The rejection matching records for a message under an id it already holds with other content. */
const rejectionProbe = (table: string, eventType: string, aggregateId: string, messageId: string): Probe => ({
  table,
  id: outboxRecordId({ eventType, aggregateId, payload: { messageId } }),
  matches: exists,
});

/**
 * What matching (or, for a NACK, egress) must hold for one accepted or rejected message: the record in the app's
 * matching database, which decides, and the same in its safe-store mirror, which the rest of Rotor reads. Both are
 * asked for: after an Aurora failover the mirror (a global table) can show a match the promoted database never
 * received, and a crash between the commit and the mirror write leaves the opposite. Replaying the message mends
 * either: matching redoes what the database lacks and re-mirrors what it holds.
 */
function matchingExpectations(app: AppName, names: ReconciliationNames, inbound: InboundRecord, decision: Decision): Expectation[] {
  const stores = names.stores[app];
  if (decision.status === 'NACKED') {
    const nack: NackRecord = { kind: 'nack', id: `nack:${inbound.id}`, messageId: inbound.id, queue: inbound.queue, nack: decision.nack };
    return messagesIn(stores.egress, egressOf[app](nack));
  }
  const inBoth = (probe: Omit<Probe, 'table'>, rejection?: Probe): Expectation[] =>
    [DATABASE_RECORDS[app], stores.matching].map((table) => ({ anyOf: [{ ...probe, table }, ...(rejection ? [rejection] : [])] }));
  const { record } = decision;
  switch (record.kind) {
    case 'trade-leg': {
      const tradeId = TradeLeg.id(record.leg);
      const stored = {
        id: tradeId,
        matches: (found: Item) => {
          const leg = TradeLeg.schema.safeParse(memberAt(found, 'record', 'leg'));
          return leg.success && TradeLeg.sameContent(leg.data, record.leg);
        },
      };
      return inBoth(stored, rejectionProbe(stores.matching, OutboxEventType.tradeRejected, tradeId, inbound.id));
    }
    case 'settlement-result': {
      const { result } = record;
      // The status digest: the trade shows the allocation in the status the settlement app reported.
      return inBoth({ id: TradeLeg.id(result), matches: (found) => memberAt(found, 'record', 'allocations', String(result.allocationID)) === result.status });
    }
    case 'settlement': {
      const settlementId = Settlement.id(record.settlement);
      const stored = {
        id: settlementId,
        matches: (found: Item) => {
          const settlement = Settlement.schema.safeParse(memberAt(found, 'record', 'settlement'));
          return settlement.success && Settlement.sameContent(settlement.data, record.settlement);
        },
      };
      return inBoth(stored, rejectionProbe(stores.matching, OutboxEventType.settlementRejected, settlementId, inbound.id));
    }
  }
}

/** The gateway's record, back onto ingestion's stream under the key the gateway gave it. */
function replayInbound(app: AppName, names: ReconciliationNames, pair: string, item: Item): ReplayAction | undefined {
  const targets = targetsOf(names, pair);
  const inbound = recordOf(InboundRecord, item);
  if (!inbound) return undefined;
  const taken = ingested(app, item);
  const result = taken?.decision.status === 'ACCEPTED' && taken.decision.record.kind === 'settlement-result';
  return { kind: 'stream', stream: targets.streams[app].ingestion, partitionKey: partitionKeyOfBody(app, inbound.body, inbound.id), record: inbound, ...(result ? { last: true } : {}) };
}

export function pipelinePairs(app: AppName, names: ReconciliationNames): PairSpec[] {
  const p = APP_PREFIX[app];
  const stores = names.stores[app];
  const gatewayToIngestion = `${p}:inbound-gateway→ingestion`;
  const ingestionToMatching = `${p}:ingestion→matching`;
  const matchingToEgress = `${p}:matching→egress`;
  const egressToOutbound = `${p}:egress→outbound-gateway`;
  return [
    {
      name: gatewayToIngestion,
      app,
      source: { kind: 'table', table: stores.inboundGateway },
      sourceName: stores.inboundGateway,
      destinationName: stores.ingestion,
      expected(item) {
        const taken = ingested(app, item);
        if (!taken) return UNREADABLE;
        return [{ anyOf: [{ table: stores.ingestion, id: item.id, matches: (found) => found.status === taken.decision.status }] }];
      },
      replay: (item) => replayInbound(app, names, gatewayToIngestion, item),
    },
    {
      // The ingestion store keeps only the verdict, not the record it forwarded, so the source is the gateway's
      // record again and the record is derived from it as ingestion derives it.
      name: ingestionToMatching,
      app,
      source: { kind: 'table', table: stores.inboundGateway },
      sourceName: stores.ingestion,
      destinationName: `${DATABASE_RECORDS[app]} and ${stores.matching} (NACKs: ${stores.egress})`,
      expected(item) {
        const taken = ingested(app, item);
        return taken ? matchingExpectations(app, names, taken.inbound, taken.decision) : UNREADABLE;
      },
      replay: (item) => replayInbound(app, names, ingestionToMatching, item),
    },
    {
      name: matchingToEgress,
      app,
      source: { kind: 'outbox', app },
      sourceName: `${p}-db outbox`,
      destinationName: stores.egress,
      expected(item) {
        const record = recordOf(OutboxEventRecord, item);
        return record ? messagesIn(stores.egress, egressOf[app](record)) : UNREADABLE;
      },
      replay(item) {
        const targets = targetsOf(names, matchingToEgress);
        const record = recordOf(OutboxEventRecord, item);
        return record && { kind: 'stream', stream: targets.streams[app].egress, partitionKey: record.aggregateId, record };
      },
    },
    {
      name: egressToOutbound,
      app,
      source: { kind: 'table', table: stores.egress },
      sourceName: stores.egress,
      destinationName: stores.outboundGateway,
      expected(item) {
        const matches = (found: Item) => sameBody(found.body, String(item.body)) && Number(found.deliveries ?? 0) >= 1;
        return [{ anyOf: [{ table: stores.outboundGateway, id: item.id, matches }] }];
      },
      replay(item) {
        const targets = targetsOf(names, egressToOutbound);
        const record = recordOf(OutboundRecord, item);
        return record && { kind: 'stream', stream: targets.streams[app].outbound, partitionKey: record.tradeId ?? record.id, record };
      },
    },
  ];
}

/**
 * Messages one app delivered to the other's inbound queue must be in the receiver's in-gateway store, under the
 * id its gateway gives that body. Owned by the receiving app's reconciliation: it is the receiver that misses them.
 */
export function interAppPair(app: AppName, names: ReconciliationNames): PairSpec {
  const from = otherApp(app);
  const name = `${APP_PREFIX[from]}→${APP_PREFIX[app]}`;
  const queue = INTER_APP_QUEUE[app];
  const destination: OutboundRecordType['destination'] = app === 'settlement' ? 'SETTLEMENT_QUEUE' : 'SETTLEMENT_RESULT_QUEUE';
  const receiving = names.stores[app].inboundGateway;
  return {
    name,
    app,
    source: { kind: 'table', table: names.stores[from].outboundGateway },
    sourceName: names.stores[from].outboundGateway,
    destinationName: receiving,
    interApp: true,
    // Undelivered messages are the sender's egress→outbound-gateway pair's to replay.
    includes: (item) => item.destination === destination && typeof item.body === 'string' && Number(item.deliveries ?? 0) >= 1,
    expected: (item) => [{ anyOf: [{ table: receiving, id: MessageId.of(queue, String(item.body)), matches: exists }] }],
    replay: (item) => (typeof item.body === 'string' ? { kind: 'queue', queue: targetsOf(names, name).interAppQueues[app], body: item.body } : undefined),
  };
}
