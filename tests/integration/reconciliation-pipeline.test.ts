import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Settlement } from '#domain/settlement.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import type { TradeLeg as Leg } from '#domain/trade-leg.ts';
import { sql } from 'kysely';
import { PostgresSettlementRecords, PostgresTradeRecords } from '#shared/adapters/postgres/matching-records.ts';
import { PostgresOutbox } from '#shared/adapters/postgres/outbox.ts';
import { MessageId } from '#shared/pipeline/message-id.ts';
import { reconcile } from '#shared/reconciliation/compare.ts';
import type { AppStores } from '#shared/reconciliation/names.ts';
import { reconciliationGraph } from '#shared/reconciliation/pair-graph.ts';
import { replay } from '#shared/reconciliation/replay.ts';
import { StoreReads } from '#shared/reconciliation/store-reads.ts';
import type { ReconcileOutput } from '#shared/reconciliation/schemas.ts';
import type { AppName } from '#shared/topology/schema.ts';
import { aBrokerLeg, anImLeg, bodyOf } from '#tests/factories/trade-legs.ts';
import { startReconciliationHarness, type ArrivedRecord, type ReconciliationHarness, type StreamName } from './reconciliation-harness.ts';

// Reconciliation over both apps' real stores: a load run through every stage, then one store at a time broken the
// way an outage breaks it. Each pass must name exactly the source item whose trace is gone, the replay must put
// the right record on the right stream or queue, and once the stages have taken it the next pass finds nothing.
// The cases run in order on one load; each leaves the stores whole again.

let h: ReconciliationHarness;
let runs = 0;

const legs = {
  aIm: anImLeg({ tradeID: 'A1' }),
  aBroker: aBrokerLeg({ tradeID: 'A1' }),
  bIm: anImLeg({ tradeID: 'B1' }),
  bBroker: aBrokerLeg({ tradeID: 'B1', price: '12.60' }),
  cIm: anImLeg({ tradeID: 'C1' }),
  // Accounts differ between the legs: the trade matches, its settlements do not.
  dIm: anImLeg({ tradeID: 'D1', allocations: [{ allocationID: 1, quantity: 1000, account: 'ACC1' }] }),
  dBroker: aBrokerLeg({ tradeID: 'D1', allocations: [{ allocationID: 1, quantity: 1000, account: 'ACC2' }] }),
} satisfies Record<string, Leg>;
const conflicting = bodyOf(anImLeg({ tradeID: 'C1', price: '13.00' }));
const malformed = '{"senderID": "QAINS012"';
const legMessage = (leg: Leg) => MessageId.of('tm.trades', bodyOf(leg));

const deps = () => ({ graph: (app: AppName) => reconciliationGraph(app, h.names), reads: h.reads, audit: h.audit, publisher: h.publisher, broker: h.broker });
const reconcileApp = (app: AppName, extra: { until?: string } = {}) => reconcile({ app, runId: `run-${++runs}`, pass: 1, ...extra }, deps());
const replayAll = (output: ReconcileOutput) => replay({ app: output.app, runId: output.runId, pass: output.pass, pairs: output.pairs }, deps());
/** Pair → sorted missing ids, for the pairs that miss anything. */
const missingOf = (output: ReconcileOutput) => Object.fromEntries(output.pairs.filter((pair) => pair.missing > 0).map((pair) => [pair.pair, [...pair.missingIds].sort()]));

/** The body an outbound gateway recorded sending, and the id the receiving gateway gives it. */
async function sent(app: AppName, outboundId: string, queue: string) {
  const item = await h.item(app, 'outboundGateway', outboundId);
  const body = String(item?.body);
  return { body, messageId: MessageId.of(queue, body) };
}

beforeAll(async () => {
  h = await startReconciliationHarness();
  const trades = [legs.aIm, legs.bIm, legs.cIm, legs.dIm].map(bodyOf);
  const answers = [legs.aBroker, legs.bBroker, legs.dBroker].map(bodyOf);
  await h.accept('trade-matching', [...trades, conflicting, malformed].map((body) => ({ queue: 'tm.trades', body })));
  await h.flow();
  await h.accept('trade-matching', answers.map((body) => ({ queue: 'tm.trades', body })));
  await h.flow();
}, 120_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

describe('a load the stages took whole', () => {
  it.each<AppName>(['trade-matching', 'settlement'])('leaves %s nothing missing in any pair, with something checked in each', async (app) => {
    // Act
    const output = await reconcileApp(app);

    // Assess
    expect(missingOf(output)).toEqual({});
    // This load comes in over MQ only: the FIX gateway's store is empty, and its pair checks nothing.
    for (const pair of output.pairs.filter((each) => each.pair === 'tm:fix-gateway→inbound-gateway')) expect(pair.checked).toBe(0);
    for (const pair of output.pairs.filter((each) => each.pair !== 'tm:fix-gateway→inbound-gateway')) expect(pair.checked, pair.pair).toBeGreaterThan(0);
    expect(output.checked).toBe(output.pairs.reduce((sum, pair) => sum + pair.checked, 0));
  });

  it.each<AppName>(['trade-matching', 'settlement'])('pages through %s\'s stores and outbox a few items at a time to the same result', async (app) => {
    // Prepare
    const smallPages = new StoreReads({
      documents: h.documents,
      outboxes: { 'trade-matching': new PostgresOutbox(h.tradeMatching), settlement: new PostgresOutbox(h.settlement) },
      records: { 'trade-matching': new PostgresTradeRecords(h.tradeMatching), settlement: new PostgresSettlementRecords(h.settlement) },
      pageSize: 3,
    });
    const until = new Date().toISOString();

    // Act
    const paged = await reconcile({ app, runId: `run-${++runs}`, pass: 1, until }, { ...deps(), reads: smallPages });
    const whole = await reconcileApp(app, { until });

    // Assess
    expect(paged.pairs).toEqual(whole.pairs);
    expect(paged.checked).toBeGreaterThan(3 * paged.pairs.length);
  });

  it('reached the end states the load calls for', async () => {
    // Act
    const trade = async (leg: Leg) => (await h.item('trade-matching', 'matching', TradeLeg.id(leg)))?.status;

    // Assess
    expect([await trade(legs.aIm), await trade(legs.bIm), await trade(legs.cIm), await trade(legs.dIm)]).toEqual(['SETTLED', 'MISMATCHED', 'UNMATCHED', 'MATCHED']);
    expect(await h.item('trade-matching', 'egress', `allocation:${TradeLeg.id(legs.dIm)}-1:MISMATCHED`)).toBeDefined();
    expect(await h.item('trade-matching', 'egress', `nack:${MessageId.of('tm.trades', malformed)}`)).toBeDefined();
  });
});

interface BrokenStore {
  readonly app: AppName;
  readonly pair: string;
  /** Breaks the store; resolves the source ids the pass must name. */
  readonly breakIt: () => Promise<string[]>;
  readonly verdict: 'absent' | 'differs';
  /** Where the replay must put what it sends. */
  readonly arrives: { stream: StreamName; count: number; shape: (arrived: ArrivedRecord) => void } | { queue: 'sm.settlements' | 'tm.settlements'; count: number };
}

const cases: Array<[string, BrokenStore]> = [
  ['the ingestion verdict of a leg', {
    app: 'trade-matching',
    pair: 'tm:inbound-gateway→ingestion',
    breakIt: async () => {
      await h.remove('trade-matching', 'ingestion', legMessage(legs.cIm));
      return [legMessage(legs.cIm)];
    },
    verdict: 'absent',
    arrives: { stream: 'tm-ingestion', count: 1, shape: ({ partitionKey, record }) => {
      expect(partitionKey).toBe(TradeLeg.partitionKey(legs.cIm));
      expect(record).toEqual({ kind: 'inbound', id: legMessage(legs.cIm), queue: 'tm.trades', body: bodyOf(legs.cIm), bodyBytes: bodyOf(legs.cIm).length, truncated: false, receivedAt: expect.any(String) });
    } },
  }],
  ['the matching mirror of an unmatched leg', {
    app: 'trade-matching',
    pair: 'tm:ingestion→matching',
    breakIt: async () => {
      await h.remove('trade-matching', 'matching', TradeLeg.id(legs.cIm));
      return [legMessage(legs.cIm)];
    },
    verdict: 'absent',
    arrives: { stream: 'tm-ingestion', count: 1, shape: ({ record }) => expect(record).toMatchObject({ kind: 'inbound', id: legMessage(legs.cIm) }) },
  }],
  ['a mismatched trade the promoted database never received (the old writer\'s tail was lost; the mirror had replicated)', {
    app: 'trade-matching',
    pair: 'tm:ingestion→matching',
    breakIt: async () => {
      const tradeIds = [TradeLeg.id(legs.bIm), TradeLeg.id(legs.bBroker)];
      await sql`delete from outbox where aggregate_id in (${sql.join(tradeIds)})`.execute(h.tradeMatching);
      await sql`delete from trades where id in (${sql.join(tradeIds)})`.execute(h.tradeMatching);
      return [legMessage(legs.bIm), legMessage(legs.bBroker)];
    },
    verdict: 'absent',
    arrives: { stream: 'tm-ingestion', count: 2, shape: ({ record }) => expect(record).toMatchObject({ kind: 'inbound', queue: 'tm.trades' }) },
  }],
  ['the settled allocations of a trade (its mirror rolled back to MATCHED)', {
    app: 'trade-matching',
    pair: 'tm:ingestion→matching',
    breakIt: async () => {
      const tradeId = TradeLeg.id(legs.aIm);
      const row = (await new PostgresOutbox(h.tradeMatching).eventsFor(tradeId)).find((event) => event.eventType === 'trade.matched')!;
      await h.put('trade-matching', 'matching', { id: tradeId, version: Number(row.id), eventType: row.eventType, status: 'MATCHED', record: row.payload });
      const results = await Promise.all([1, 2].map((allocation) => sent('settlement', `result:${tradeId}-${allocation}:SETTLED`, 'tm.settlements')));
      return results.map((result) => result.messageId);
    },
    verdict: 'differs',
    arrives: { stream: 'tm-ingestion', count: 2, shape: ({ record }) => expect(record).toMatchObject({ kind: 'inbound', queue: 'tm.settlements' }) },
  }],
  ['a response egress made of an outbox row', {
    app: 'trade-matching',
    pair: 'tm:matching→egress',
    breakIt: async () => {
      await h.remove('trade-matching', 'egress', `response:${TradeLeg.id(legs.bIm)}:MISMATCHED`);
      return [`trade.mismatched:${TradeLeg.id(legs.bIm)}`];
    },
    verdict: 'absent',
    arrives: { stream: 'tm-egress', count: 1, shape: ({ partitionKey, record }) => {
      expect(partitionKey).toBe(TradeLeg.id(legs.bIm));
      expect(record).toMatchObject({ kind: 'event', id: `trade.mismatched:${TradeLeg.id(legs.bIm)}`, eventType: 'trade.mismatched', aggregateId: TradeLeg.id(legs.bIm), payload: { status: 'MISMATCHED' } });
    } },
  }],
  ['a response the outbound gateway recorded sending', {
    app: 'trade-matching',
    pair: 'tm:egress→outbound-gateway',
    breakIt: async () => {
      await h.remove('trade-matching', 'outboundGateway', `response:${TradeLeg.id(legs.cIm)}:UNMATCHED`);
      return [`response:${TradeLeg.id(legs.cIm)}:UNMATCHED`];
    },
    verdict: 'absent',
    arrives: { stream: 'tm-outbound', count: 1, shape: ({ partitionKey, record }) => {
      expect(partitionKey).toBe(TradeLeg.id(legs.cIm));
      expect(Object.keys(record).sort()).toEqual(['body', 'destination', 'id', 'kind', 'tradeId']);
      expect(record).toMatchObject({ kind: 'outbound', destination: 'RESPONSE_QUEUE', id: `response:${TradeLeg.id(legs.cIm)}:UNMATCHED` });
    } },
  }],
  ['a settlement result TM\'s gateway received', {
    app: 'trade-matching',
    pair: 'sm→tm',
    breakIt: async () => {
      const { messageId } = await sent('settlement', `result:${TradeLeg.id(legs.dIm)}-1:MISMATCHED`, 'tm.settlements');
      await h.remove('trade-matching', 'inboundGateway', messageId);
      return [`result:${TradeLeg.id(legs.dIm)}-1:MISMATCHED`];
    },
    verdict: 'absent',
    arrives: { queue: 'tm.settlements', count: 1 },
  }],
  ['a settlement the settlement app\'s gateway received', {
    app: 'settlement',
    pair: 'tm→sm',
    breakIt: async () => {
      const { messageId } = await sent('trade-matching', `settlement:${TradeLeg.id(legs.aIm)}-1`, 'sm.settlements');
      await h.remove('settlement', 'inboundGateway', messageId);
      return [`settlement:${TradeLeg.id(legs.aIm)}-1`];
    },
    verdict: 'absent',
    arrives: { queue: 'sm.settlements', count: 1 },
  }],
  ['the settlement app\'s mirror of a settlement', {
    app: 'settlement',
    pair: 'sm:ingestion→matching',
    breakIt: async () => {
      const settlementId = `${TradeLeg.id(legs.dBroker)}-1`;
      await h.remove('settlement', 'matching', settlementId);
      return [(await sent('trade-matching', `settlement:${settlementId}`, 'sm.settlements')).messageId];
    },
    verdict: 'absent',
    arrives: { stream: 'sm-ingestion', count: 1, shape: ({ partitionKey, record }) => {
      expect(partitionKey).toBe(Settlement.partitionKey({ ...legs.dBroker, allocationID: 1 }));
      expect(record).toMatchObject({ kind: 'inbound', queue: 'sm.settlements' });
    } },
  }],
  ['a mismatched settlement pair the promoted database never received', {
    app: 'settlement',
    pair: 'sm:ingestion→matching',
    breakIt: async () => {
      const settlementIds = [`${TradeLeg.id(legs.dIm)}-1`, `${TradeLeg.id(legs.dBroker)}-1`];
      await sql`delete from outbox where aggregate_id in (${sql.join(settlementIds)})`.execute(h.settlement);
      await sql`delete from settlements where id in (${sql.join(settlementIds)})`.execute(h.settlement);
      return Promise.all(settlementIds.map(async (id) => (await sent('trade-matching', `settlement:${id}`, 'sm.settlements')).messageId));
    },
    verdict: 'absent',
    arrives: { stream: 'sm-ingestion', count: 2, shape: ({ record }) => expect(record).toMatchObject({ kind: 'inbound', queue: 'sm.settlements' }) },
  }],
  ['a settlement result egress made of a settled pair', {
    app: 'settlement',
    pair: 'sm:matching→egress',
    breakIt: async () => {
      await h.remove('settlement', 'egress', `result:${TradeLeg.id(legs.aIm)}-1:SETTLED`);
      return [`settlement.settled:${TradeLeg.id(legs.aIm)}-1`];
    },
    verdict: 'absent',
    arrives: { stream: 'sm-egress', count: 1, shape: ({ partitionKey, record }) => {
      expect(partitionKey).toBe(`${TradeLeg.id(legs.aIm)}-1`);
      expect(record).toMatchObject({ kind: 'event', eventType: 'settlement.settled', payload: { status: 'SETTLED' } });
    } },
  }],
];

describe('a store that lost what a stage wrote', () => {
  it.each(cases)('%s: the pass names it, the replay resends it, and the next pass finds it back', async (_case, broken) => {
    // Prepare
    const missing = await broken.breakIt();

    // Act
    const found = await reconcileApp(broken.app);
    const replayed = await replayAll(found);
    const arrived = 'stream' in broken.arrives ? await h.take(broken.arrives.stream) : await h.receive(broken.arrives.queue);
    if ('stream' in broken.arrives) await h.process(broken.arrives.stream, arrived as ArrivedRecord[]);
    else await h.accept(broken.app, (arrived as Array<{ queue: string; body: string }>).map(({ queue, body }) => ({ queue, body })));
    await h.flow();
    const after = await Promise.all([reconcileApp('trade-matching'), reconcileApp('settlement')]);

    // Assess
    expect(missingOf(found)).toEqual({ [broken.pair]: [...missing].sort() });
    expect(found.pairs.find((pair) => pair.pair === broken.pair)).toMatchObject({ missing: missing.length, [broken.verdict]: missing.length });
    expect(replayed.pairs.find((pair) => pair.pair === broken.pair)).toEqual({ pair: broken.pair, replayed: missing.length, skipped: 0 });
    expect(arrived).toHaveLength(broken.arrives.count);
    if ('shape' in broken.arrives) for (const record of arrived as ArrivedRecord[]) broken.arrives.shape(record);
    expect(after.map(missingOf)).toEqual([{}, {}]);
  });
});

describe("a rotation's drain check", () => {
  it("compares only the app's own stages, leaving out the other app's messages (they follow the edge)", async () => {
    // Act
    const drain = await reconcile({ app: 'trade-matching', runId: `run-${++runs}`, pass: 1, ownStagesOnly: true }, deps());
    const full = await reconcileApp('trade-matching');

    // Assess
    // The FIX gateway's store is the app's own first stage: legs it stored and has not forwarded must drain too.
    expect(drain.pairs.map((pair) => pair.pair)).toEqual(['tm:fix-gateway→inbound-gateway', 'tm:inbound-gateway→ingestion', 'tm:ingestion→matching', 'tm:matching→egress', 'tm:egress→outbound-gateway']);
    expect(full.pairs.map((pair) => pair.pair)).toContain('sm→tm');
  });
});

describe('replaying what is not missing, or twice', () => {
  it('changes nothing downstream: every store, database row and sent response stays as the first replay left it', async () => {
    // Prepare
    const store = (app: AppName, name: keyof AppStores, id: string) => ({ app, name, id });
    const broken = [store('trade-matching', 'ingestion', legMessage(legs.bIm)), store('trade-matching', 'outboundGateway', `response:${TradeLeg.id(legs.aIm)}:SETTLED`)];
    const { messageId } = await sent('trade-matching', `settlement:${TradeLeg.id(legs.aBroker)}-2`, 'sm.settlements');
    broken.push(store('settlement', 'inboundGateway', messageId));
    for (const { app, name, id } of broken) await h.remove(app, name, id);
    const [tmPass, smPass] = await Promise.all([reconcileApp('trade-matching'), reconcileApp('settlement')]);

    // Act
    await Promise.all([replayAll(tmPass), replayAll(smPass)]);
    await h.flow();
    const once = await h.snapshot();
    const again = await Promise.all([replayAll(tmPass), replayAll(smPass)]);
    const movedAgain = await h.flow();
    const twice = await h.snapshot();

    // Assess
    expect(tmPass.missing + smPass.missing).toBe(3);
    expect(again.reduce((sum, output) => sum + output.replayed, 0)).toBe(3);
    expect(movedAgain).toBeGreaterThan(0);
    expect(twice).toEqual(once);
    for (const { app, name, id } of broken) expect(await h.item(app, name, id), `${name} ${id}`).toBeDefined();
    expect((await h.item('trade-matching', 'outboundGateway', `response:${TradeLeg.id(legs.aIm)}:SETTLED`))?.deliveries).toBe(1);
  });
});

describe('the window', () => {
  it('leaves out what was recorded after `until`, so a pass converges while load continues', async () => {
    // Prepare
    const until = new Date().toISOString();
    const before = await reconcileApp('trade-matching', { until });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const late = anImLeg({ tradeID: 'LATE1' });
    await h.accept('trade-matching', [{ queue: 'tm.trades', body: bodyOf(late) }]);
    await h.take('tm-ingestion');

    // Act
    const windowed = await reconcileApp('trade-matching', { until });
    const now = await reconcileApp('trade-matching');
    await h.process('tm-ingestion', (await replayAll(now), await h.take('tm-ingestion')));
    await h.flow();
    const afterTheLateOneFlowed = await reconcileApp('trade-matching', { until });

    // Assess
    expect(missingOf(windowed)).toEqual({});
    expect(missingOf(now)).toEqual({ 'tm:inbound-gateway→ingestion': [legMessage(late)], 'tm:ingestion→matching': [legMessage(late)] });
    expect(afterTheLateOneFlowed.pairs.map((pair) => [pair.pair, pair.checked])).toEqual(before.pairs.map((pair) => [pair.pair, pair.checked]));
    expect(missingOf(await reconcileApp('trade-matching'))).toEqual({});
  });
});
