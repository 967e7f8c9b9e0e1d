import { describe, expect, it } from 'vitest';
import { settlementEgress, tradeMatchingEgress } from '#domain/egress.ts';
import { ingestTradeMatchingMessage } from '#domain/ingestion.ts';
import { InboundRecord, OutboundRecord, OutboxEventRecord, type SettlementResultBody } from '#domain/pipeline-messages.ts';
import { Settlement } from '#domain/settlement.ts';
import { newTradeRecord, type TradeRecord } from '#domain/trade-matching.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import { inboundRecordOf } from '#shared/pipeline/inbound-gateway.ts';
import { MessageId } from '#shared/pipeline/message-id.ts';
import { ReplayTargetsMissingError, UnknownPairError } from '#shared/reconciliation/errors.ts';
import { manifestNames, type ReconciliationNames } from '#shared/reconciliation/names.ts';
import { reconciliationGraph, selectPairs, type Item, type PairSpec, type Probe } from '#shared/reconciliation/pair-graph.ts';
import { aBrokerLeg, anImLeg, bodyOf } from '#tests/factories/trade-legs.ts';

// The pair graph on items built as the stages build them: what each source item must have left downstream, and
// the record a replay sends for it.

const RECEIVED = new Date('2026-11-23T10:00:00.000Z');
const RECORDED = '2026-11-23T10:00:00.050Z';
const manifest = manifestNames();
/** Queues as a region sharing its broker names them. */
const names: ReconciliationNames = { ...manifest, targets: { ...manifest.targets, interAppQueues: { 'trade-matching': 'us-east-1.tm.settlements', settlement: 'us-east-1.sm.settlements' } } };
const tm = reconciliationGraph('trade-matching', names);
const sm = reconciliationGraph('settlement', names);
const pair = (graph: PairSpec[], name: string) => graph.find((candidate) => candidate.name === name)!;

const gatewayItem = (queue: string, body: string): Item => ({ ...inboundRecordOf({ queue, body }, RECEIVED), recordedAt: RECORDED });
const tradeMirror = (trade: TradeRecord, version = 7): Item => ({ id: trade.id, version, eventType: `trade.${trade.status.toLowerCase()}`, status: trade.status, record: trade, recordedAt: RECORDED });
const matched = (leg = anImLeg()): TradeRecord => newTradeRecord(leg, 'MATCHED');
const settlementOf = (allocationID = 1) => Settlement.fromMatchedTrade(matched()).find((settlement) => settlement.allocationID === allocationID)!;
const resultBody = (status: 'SETTLED' | 'MISMATCHED', allocationID = 1): SettlementResultBody => {
  const { senderID, imID, brokerID, tradeID } = anImLeg();
  return { type: 'settlement-result', settlementId: `${TradeLeg.id(anImLeg())}-${allocationID}`, senderID, imID, brokerID, tradeID, allocationID, status };
};
const outboxItem = (eventType: string, aggregateId: string, payload: unknown): Item => {
  const record = { kind: 'event', id: `${eventType}:${aggregateId}`, outboxId: '41', eventType, aggregateId, payload };
  return { ...record, recordedAt: RECORDED };
};
const unstamped = ({ recordedAt: _recordedAt, ...record }: Item) => record;
/** Keys in reverse order: the same JSON value as another text. */
const reordered = (body: string) => JSON.stringify(Object.fromEntries(Object.entries(JSON.parse(body) as object).reverse()));

describe('the reconciliation pair graph', () => {
  it('has each app\'s four pairs upstream first, then the pair from the other app into it', () => {
    // Assess
    expect(tm.map((p) => p.name)).toEqual(['tm:fix-gateway→inbound-gateway', 'tm:inbound-gateway→ingestion', 'tm:ingestion→matching', 'tm:matching→egress', 'tm:egress→outbound-gateway', 'sm→tm']);
    expect(sm.map((p) => p.name)).toEqual(['sm:inbound-gateway→ingestion', 'sm:ingestion→matching', 'sm:matching→egress', 'sm:egress→outbound-gateway', 'tm→sm']);
    expect(pair(sm, 'tm→sm').source).toEqual({ kind: 'table', table: 'tm-outbound-gateway-store' });
    expect(pair(tm, 'tm:matching→egress').source).toEqual({ kind: 'outbox', app: 'trade-matching' });
  });

  it('selects pairs by name in graph order and refuses a name the app does not have', () => {
    // Act / Assess
    expect(selectPairs(tm, ['sm→tm', 'tm:inbound-gateway→ingestion']).map((p) => p.name)).toEqual(['tm:inbound-gateway→ingestion', 'sm→tm']);
    expect(() => selectPairs(tm, ['tm→sm'])).toThrow(UnknownPairError);
  });
});

describe('inbound-gateway→ingestion', () => {
  const gatewayToIngestion = pair(tm, 'tm:inbound-gateway→ingestion');

  it.each([
    ['a valid leg', bodyOf(anImLeg()), 'ACCEPTED'],
    ['a malformed message', '{"senderID": "QAINS012"', 'NACKED'],
  ])('expects %s in the ingestion store with the status ingestion gives it', (_case, body, status) => {
    // Prepare
    const item = gatewayItem('tm.trades', body);

    // Act
    const [expectation, ...more] = gatewayToIngestion.expected(item);
    const probe = expectation!.anyOf[0]!;

    // Assess
    expect(more).toEqual([]);
    expect(probe).toMatchObject({ table: 'tm-ingestion-store', id: item.id });
    expect(probe.matches({ id: item.id, status })).toBe(true);
    expect(probe.matches({ id: item.id, status: status === 'ACCEPTED' ? 'NACKED' : 'ACCEPTED' })).toBe(false);
  });

  it('replays the gateway\'s record, without the store\'s own attributes, onto ingestion under the match key', () => {
    // Prepare
    const item = gatewayItem('us-east-1.tm.trades', bodyOf(aBrokerLeg()));

    // Act
    const action = gatewayToIngestion.replay(item);

    // Assess
    expect(action).toEqual({ kind: 'stream', stream: 'tm-ingestion', partitionKey: 'QAINS012|QABRO010|4821937', record: inboundRecordOf({ queue: 'us-east-1.tm.trades', body: bodyOf(aBrokerLeg()) }, RECEIVED) });
    expect(InboundRecord.safeParse(action?.kind === 'stream' && action.record).success).toBe(true);
  });

  it('replays a settlement result last, after the trade legs it reports on', () => {
    // Prepare
    const result = gatewayItem('tm.settlements', JSON.stringify(resultBody('SETTLED', 2)));
    const leg = gatewayItem('tm.trades', bodyOf(anImLeg()));

    // Act
    const [resultAction, legAction] = [gatewayToIngestion.replay(result), gatewayToIngestion.replay(leg)];

    // Assess
    expect(resultAction).toMatchObject({ kind: 'stream', stream: 'tm-ingestion', last: true });
    expect(legAction).toMatchObject({ kind: 'stream', stream: 'tm-ingestion' });
    expect(legAction).not.toHaveProperty('last');
  });
});

describe('ingestion→matching', () => {
  const tmToMatching = pair(tm, 'tm:ingestion→matching');
  const smToMatching = pair(sm, 'sm:ingestion→matching');

  it('expects a leg stored with its content in the matching database and in its mirror, or rejected as a conflicting duplicate', () => {
    // Prepare
    const item = gatewayItem('tm.trades', bodyOf(anImLeg({ price: '12.5' })));

    // Act
    const expectations = tmToMatching.expected(item) as Array<{ anyOf: [Probe, Probe] }>;

    // Assess
    expect(expectations.map(({ anyOf }) => anyOf.map((probe) => probe.table))).toEqual([
      ['tm-db/trades', 'tm-matching-store'],
      ['tm-matching-store', 'tm-matching-store'],
    ]);
    for (const { anyOf: [stored, rejected] } of expectations) {
      expect(stored.id).toBe(TradeLeg.id(anImLeg()));
      expect(stored.matches(tradeMirror(matched(anImLeg({ price: '12.50' }))))).toBe(true);
      expect(stored.matches(tradeMirror(matched(anImLeg({ quantity: 1001, allocations: [{ allocationID: 1, quantity: 1001, account: 'A1' }] }))))).toBe(false);
      expect(rejected).toMatchObject({ table: 'tm-matching-store', id: `trade.rejected:${TradeLeg.id(anImLeg())}:${item.id}` });
    }
  });

  it('expects a settlement result rolled up in the database and the mirror: the trade\'s allocation in the reported status', () => {
    // Prepare
    const item = gatewayItem('tm.settlements', JSON.stringify(resultBody('SETTLED', 2)));
    const settledTwo = { ...matched(), allocations: { '1': 'UNSETTLED' as const, '2': 'SETTLED' as const } };

    // Act
    const expectations = tmToMatching.expected(item) as Array<{ anyOf: [Probe] }>;

    // Assess
    expect(expectations.map(({ anyOf }) => anyOf.map((probe) => probe.table))).toEqual([['tm-db/trades'], ['tm-matching-store']]);
    for (const { anyOf: [rolledUp] } of expectations) {
      expect(rolledUp.id).toBe(TradeLeg.id(anImLeg()));
      expect(rolledUp.matches(tradeMirror(settledTwo))).toBe(true);
      expect(rolledUp.matches(tradeMirror(matched()))).toBe(false);
    }
  });

  it('expects a NACKed message\'s answer in the egress store, whatever the key order of its body there', () => {
    // Prepare
    const item = gatewayItem('tm.trades', bodyOf({ ...anImLeg(), price: '-1' }));
    const decision = ingestTradeMatchingMessage(inboundRecordOf({ queue: 'tm.trades', body: bodyOf({ ...anImLeg(), price: '-1' }) }, RECEIVED));
    if (decision.status !== 'NACKED') throw new Error('the factory leg should be refused');
    const [answer] = tradeMatchingEgress({ kind: 'nack', id: `nack:${item.id}`, messageId: item.id, queue: 'tm.trades', nack: decision.nack });

    // Act
    const expectations = tmToMatching.expected(item);
    const probe = expectations[0]!.anyOf[0]!;

    // Assess
    expect(expectations).toHaveLength(1);
    expect(probe).toMatchObject({ table: 'tm-egress-store', id: `nack:${item.id}` });
    expect(probe.matches({ id: probe.id, body: reordered(answer!.body) })).toBe(true);
    expect(probe.matches({ id: probe.id, body: answer!.body.replace(decision.nack.code, 'MISSING_FIELD') })).toBe(false);
  });

  it('expects a settlement stored with its content in the database and the mirror, or rejected', () => {
    // Prepare
    const settlement = settlementOf(2);
    const item = gatewayItem('sm.settlements', JSON.stringify(settlement));
    const mirror: Item = { id: Settlement.id(settlement), version: 3, status: 'UNMATCHED', record: { id: Settlement.id(settlement), settlement, status: 'UNMATCHED' } };

    // Act
    const expectations = smToMatching.expected(item) as Array<{ anyOf: [Probe, Probe] }>;

    // Assess
    expect(expectations.map(({ anyOf }) => anyOf[0].table)).toEqual(['sm-db/settlements', 'sm-matching-store']);
    for (const { anyOf: [stored, rejected] } of expectations) {
      expect(stored.id).toBe(`${TradeLeg.id(anImLeg())}-2`);
      expect(stored.matches(mirror)).toBe(true);
      expect(stored.matches({ ...mirror, record: { ...(mirror.record as object), settlement: { ...settlement, account: 'OTHER' } } })).toBe(false);
      expect(rejected.id).toBe(`settlement.rejected:${Settlement.id(settlement)}:${item.id}`);
    }
  });
});

describe('matching→egress', () => {
  const matchingToEgress = pair(tm, 'tm:matching→egress');

  it('expects every message egress makes of an outbox row, with a body saying the same', () => {
    // Prepare
    const trade = matched();
    const item = outboxItem('trade.matched', trade.id, JSON.parse(JSON.stringify(trade)));
    const messages = tradeMatchingEgress(OutboxEventRecord.parse(unstamped(item)));

    // Act
    const expectations = matchingToEgress.expected(item);

    // Assess
    expect(expectations.map((e) => e.anyOf.map((probe) => `${probe.table} ${probe.id}`))).toEqual([
      [`tm-egress-store response:${trade.id}:MATCHED`],
      [`tm-egress-store settlement:${trade.id}-1`],
      [`tm-egress-store settlement:${trade.id}-2`],
    ]);
    expect(expectations[1]!.anyOf[0]!.matches({ id: 'x', body: reordered(messages[1]!.body) })).toBe(true);
    expect(expectations[1]!.anyOf[0]!.matches({ id: 'x', body: messages[2]!.body })).toBe(false);
  });

  it('expects nothing of an event egress sends no message for', () => {
    // Prepare
    const settled = { trade: matched(), allocationID: 1, status: 'SETTLED' };

    // Act / Assess
    expect(matchingToEgress.expected(outboxItem('trade.allocation.settled', settled.trade.id, settled))).toEqual([]);
  });

  it('replays the outbox row as the record egress receives, keyed by its aggregate', () => {
    // Prepare
    const item = outboxItem('trade.unmatched', TradeLeg.id(anImLeg()), newTradeRecord(anImLeg()));

    // Act
    const action = matchingToEgress.replay(item);

    // Assess
    expect(action).toMatchObject({ kind: 'stream', stream: 'tm-egress', partitionKey: TradeLeg.id(anImLeg()) });
    expect(action?.kind === 'stream' && action.record).toEqual(OutboxEventRecord.parse(unstamped(item)));
    expect(action?.kind === 'stream' && action.record).not.toHaveProperty('recordedAt');
  });
});

describe('egress→outbound-gateway', () => {
  const egressToOutbound = pair(sm, 'sm:egress→outbound-gateway');
  const settlementRecord = { id: Settlement.id(settlementOf(1)), settlement: settlementOf(1), status: 'SETTLED' };
  const [result] = settlementEgress({ kind: 'event', id: 'e', outboxId: '9', eventType: 'settlement.settled', aggregateId: settlementRecord.id, payload: settlementRecord });
  const egressItem: Item = { ...result!, sourceId: `settlement.settled:${settlementRecord.id}`, recordedAt: RECORDED };

  it('expects the message in the outbound store, delivered at least once', () => {
    // Act
    const [{ anyOf: [probe] }] = egressToOutbound.expected(egressItem) as [{ anyOf: [Probe] }];
    const stored = { ...result!, queue: 'tm.settlements', deliveries: 1 };

    // Assess
    expect(probe).toMatchObject({ table: 'sm-outbound-gateway-store', id: `result:${settlementRecord.id}:SETTLED` });
    expect(probe.matches(stored)).toBe(true);
    expect(probe.matches({ ...stored, deliveries: 0 })).toBe(false);
    expect(probe.matches({ ...stored, body: result!.body.replace('SETTLED', 'MISMATCHED') })).toBe(false);
  });

  it('replays only the outbound record\'s own fields, keyed by its trade', () => {
    // Act
    const action = egressToOutbound.replay(egressItem);

    // Assess
    expect(action).toEqual({ kind: 'stream', stream: 'sm-outbound', partitionKey: TradeLeg.id(anImLeg()), record: result });
    expect(OutboundRecord.safeParse(action?.kind === 'stream' && action.record).success).toBe(true);
  });
});

describe('between the apps', () => {
  const settlement = settlementOf(1);
  const sentSettlement: Item = { kind: 'outbound', id: `settlement:${Settlement.id(settlement)}`, destination: 'SETTLEMENT_QUEUE', body: JSON.stringify(settlement), tradeId: TradeLeg.id(anImLeg()), queue: 'sm.settlements', deliveries: 1 };

  it('expects each settlement TM delivered in the settlement app\'s in-gateway store, under the id its gateway gives the body', () => {
    // Prepare
    const tmToSm = pair(sm, 'tm→sm');

    // Act
    const [{ anyOf: [probe] }] = tmToSm.expected(sentSettlement) as [{ anyOf: [Probe] }];

    // Assess
    expect(probe).toMatchObject({ table: 'sm-inbound-gateway-store', id: MessageId.of('sm.settlements', sentSettlement.body as string) });
    expect(tmToSm.includes!(sentSettlement)).toBe(true);
    expect(tmToSm.includes!({ ...sentSettlement, deliveries: 0 })).toBe(false);
    expect(tmToSm.includes!({ ...sentSettlement, destination: 'RESPONSE_QUEUE' })).toBe(false);
    expect(tmToSm.replay(sentSettlement)).toEqual({ kind: 'queue', queue: 'us-east-1.sm.settlements', body: sentSettlement.body });
  });

  it('expects each result the settlement app delivered in TM\'s in-gateway store, and replays it to tm.settlements', () => {
    // Prepare
    const smToTm = pair(tm, 'sm→tm');
    const body = JSON.stringify(resultBody('MISMATCHED'));
    const sentResult: Item = { kind: 'outbound', id: `result:${Settlement.id(settlement)}:MISMATCHED`, destination: 'SETTLEMENT_RESULT_QUEUE', body, queue: 'tm.settlements', deliveries: 2 };

    // Act
    const [{ anyOf: [probe] }] = smToTm.expected(sentResult) as [{ anyOf: [Probe] }];

    // Assess
    expect(smToTm.source).toEqual({ kind: 'table', table: 'sm-outbound-gateway-store' });
    expect(probe).toMatchObject({ table: 'tm-inbound-gateway-store', id: MessageId.of('tm.settlements', body) });
    expect(smToTm.includes!(sentSettlement)).toBe(false);
    expect(smToTm.replay(sentResult)).toEqual({ kind: 'queue', queue: 'us-east-1.tm.settlements', body });
  });

  it('cannot replay without replay targets: the reconcile function is deployed without them', () => {
    // Prepare
    const compareOnly = reconciliationGraph('settlement', { stores: manifest.stores });

    // Act / Assess
    expect(() => pair(compareOnly, 'tm→sm').replay(sentSettlement)).toThrow(ReplayTargetsMissingError);
    expect(pair(compareOnly, 'tm→sm').expected(sentSettlement)).toHaveLength(1);
  });
});
