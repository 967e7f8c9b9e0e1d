import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { sql, type Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { DynamoDbSafeStore } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { openDatabase, type OpenedDatabase } from '#shared/adapters/postgres/database.ts';
import { jsonb } from '#shared/adapters/postgres/json-column.ts';
import { migrateSettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import { migrateTradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import type { SafeStoreItem } from '#shared/ports/safe-store.ts';
import { DIGESTED_TABLES, digestDatabase, MIGRATED_TABLES } from '#shared/operations/database-digest.ts';
import { digestApp, DigestRequest, type AppDigest, type DigestDependencies } from '#shared/operations/digest.ts';
import { drainCheck, DrainCheckRequest } from '#shared/operations/drain-check.ts';
import { topology } from '#shared/topology/index.ts';
import { anImLeg } from '#tests/factories/trade-legs.ts';
import { EAST, startSafeStoreRegions, WEST, type SafeStoreRegion, type SafeStoreRegions } from '#tests/support/safe-store-regions.ts';

const TM = DigestRequest.parse({ app: 'trade-matching', runId: 'rot-1' });

/** Safe-store items as the stages write them, with a clock per region so `recordedAt` differs between regions. */
function storeItems(): Array<[table: string, item: SafeStoreItem]> {
  return [
    ['tm-inbound-gateway-store', { id: 'msg:QAINS012-QAINS012-QABRO010-1:aa', queue: 'tm.trades', body: '{"tradeID":"1"}' }],
    ['tm-inbound-gateway-store', { id: 'msg:QABRO010-QAINS012-QABRO010-1:bb', queue: 'tm.trades', body: '{"tradeID":"1","s":"b"}' }],
    ['tm-ingestion-store', { id: 'msg:QAINS012-QAINS012-QABRO010-1:aa', outcome: 'ACCEPTED', quantities: [600, 400] }],
    ['tm-matching-store', { id: 'QAINS012-QAINS012-QABRO010-1', version: 3, status: 'MATCHED', record: { price: '12.50', allocations: [{ allocationID: 1 }] } }],
    ['tm-matching-store', { id: 'QABRO010-QAINS012-QABRO010-1', version: 4, status: 'MATCHED', record: { price: '12.5' } }],
    ['tm-egress-store', { id: 'response:QAINS012-QAINS012-QABRO010-1:MATCHED', body: '{}' }],
    ['tm-outbound-gateway-store', { id: 'response:QAINS012-QAINS012-QABRO010-1:MATCHED', body: '{}', deliveries: 1 }],
  ];
}

async function writeItems(region: SafeStoreRegion, items: Array<[string, SafeStoreItem]>, clock: () => Date): Promise<void> {
  for (const [table, item] of items) await new DynamoDbSafeStore(region.documents, table, { now: clock }).putIfAbsent(item);
}

const clockFrom = (start: string) => {
  let now = Date.parse(start);
  return () => new Date((now += 7));
};

/** Trade matching rows as matching writes them, in the order given; `relayedAt` varies by region. */
async function seedTradeMatching(db: Kysely<any>, order: 'forward' | 'backward', relayedAt: string | null): Promise<void> {
  const legs = ['1', '2', '3'].map((tradeID) => anImLeg({ tradeID }));
  const created = '2026-11-23T10:00:00.000Z';
  const steps = legs.map((leg, index) => async () => {
    const id = `${leg.senderID}-${leg.imID}-${leg.brokerID}-${leg.tradeID}`;
    await db
      .insertInto('trades')
      .values({
        id, sender_id: leg.senderID, im_id: leg.imID, broker_id: leg.brokerID, trade_id: leg.tradeID, security: leg.security,
        transaction_indicator: leg.transactionIndicator, price: leg.price, quantity: leg.quantity, trade_date: leg.tradeDate,
        settlement_date: leg.settlementDate, delivery_instructions: leg.deliveryInstructions ?? null, status: 'UNMATCHED',
        leg: jsonb(leg), canonical_leg: jsonb(leg), created_at: created, updated_at: created,
      })
      .execute();
    for (const allocation of leg.allocations) {
      await db.insertInto('allocations').values({ trade_id: id, allocation_id: allocation.allocationID, quantity: allocation.quantity, account: allocation.account, status: 'UNSETTLED', updated_at: created }).execute();
    }
    await db
      .insertInto('outbox')
      .values({ id: String(index + 1), aggregate_id: id, event_type: 'trade.unmatched', payload: jsonb({ trade: { status: 'UNMATCHED' } }), created_at: created, relayed_at: relayedAt })
      .execute();
  });
  for (const step of order === 'forward' ? steps : [...steps].reverse()) await step();
}

/** A region's PostgreSQL: one in-memory PGlite holding both apps' schemas (each keeps its own migration history). */
async function openRegionDatabase(): Promise<OpenedDatabase<any>> {
  const opened = await openDatabase<any>({ backend: 'pglite' });
  await migrateTradeMatchingDatabase(opened.db);
  await migrateSettlementDatabase(opened.db);
  return opened;
}

describe("ops-digest: safe stores on the twin's global tables, the database on PGlite", () => {
  let regions: SafeStoreRegions;
  let databases: Record<string, OpenedDatabase<any>>;

  beforeAll(async () => {
    const [east, west] = await Promise.all([openRegionDatabase(), openRegionDatabase()]);
    databases = { [EAST]: east, [WEST]: west };
  }, 120_000);

  afterAll(() => Promise.all(Object.values(databases).map((opened) => opened.close())));

  beforeEach(async () => {
    regions = await startSafeStoreRegions();
    for (const { db } of Object.values(databases)) {
      await sql`truncate allocations, trades, ledger_postings, ledger_pairs, settlements, outbox restart identity`.execute(db);
    }
  }, 60_000);

  afterEach(() => regions.close());

  const deps = (region: SafeStoreRegion): DigestDependencies => ({
    topology,
    names: (_kind, name) => name,
    region: region.region,
    dynamodb: region.dynamodb,
    database: async () => databases[region.region]!.db,
  });

  const digests = async (): Promise<[AppDigest, AppDigest]> => [await digestApp(TM, deps(regions.east)), await digestApp(TM, deps(regions.west))];

  test('replicated data digests the same in both regions; every safe store and the database are covered', async () => {
    // Prepare
    await writeItems(regions.east, storeItems(), clockFrom('2026-11-23T10:00:00Z'));
    await new DynamoDbSafeStore(regions.east.documents, 'tm-outbound-gateway-store').recordDelivery('response:QAINS012-QAINS012-QABRO010-1:MATCHED', '2026-11-23T10:00:01Z');
    await regions.replicated();
    await seedTradeMatching(databases[EAST]!.db, 'forward', '2026-11-23T10:00:02.000Z');
    await seedTradeMatching(databases[WEST]!.db, 'forward', '2026-11-23T10:00:02.000Z');

    // Act
    const [east, west] = await digests();

    // Assess
    expect(east.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(west.digest).toBe(east.digest);
    expect(west.tables).toEqual(east.tables);
    expect(east).toMatchObject({ app: 'trade-matching', region: EAST });
    expect(west.region).toBe(WEST);
    expect(Object.keys(east.tables)).toEqual(['tm-inbound-gateway-store', 'tm-ingestion-store', 'tm-matching-store', 'tm-egress-store', 'tm-outbound-gateway-store']);
    expect(east.tables['tm-inbound-gateway-store']!.items).toBe(2);
    expect(east.databases).toEqual({ 'tm-db': { rows: 3 + 6 + 3, digest: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });

  test('equal data digests equal whatever the write order, write times (recordedAt) and relay times', async () => {
    // Prepare: each region writes the same content on its own, in the opposite order, at other times.
    regions.globalTables.pause();
    await writeItems(regions.east, storeItems(), clockFrom('2026-11-23T10:00:00Z'));
    await writeItems(regions.west, storeItems().reverse(), clockFrom('2026-11-24T08:30:00Z'));
    await seedTradeMatching(databases[EAST]!.db, 'forward', '2026-11-23T10:00:02.000Z');
    await seedTradeMatching(databases[WEST]!.db, 'backward', null);

    // Act
    const [east, west] = await digests();

    // Assess
    expect(west.digest).toBe(east.digest);
    expect(west.databases).toEqual(east.databases);
  });

  test('one changed item, or one changed row, changes the digest, and only that table’s', async () => {
    // Prepare
    regions.globalTables.pause();
    const changed = storeItems().map(([table, item]): [string, SafeStoreItem] => (item.id === 'QABRO010-QAINS012-QABRO010-1' ? [table, { ...item, status: 'MISMATCHED' }] : [table, item]));
    await writeItems(regions.east, storeItems(), clockFrom('2026-11-23T10:00:00Z'));
    await writeItems(regions.west, changed, clockFrom('2026-11-23T10:00:00Z'));
    await seedTradeMatching(databases[EAST]!.db, 'forward', null);
    await seedTradeMatching(databases[WEST]!.db, 'forward', null);
    const [sameEast, sameWest] = await digests();
    await databases[WEST]!.db.updateTable('allocations').set({ status: 'SETTLED' }).where('trade_id', '=', 'QAINS012-QAINS012-QABRO010-2').where('allocation_id', '=', 1).execute();

    // Act
    const [east, west] = await digests();

    // Assess
    expect(west.digest).not.toBe(east.digest);
    const differing = Object.keys(east.tables).filter((table) => east.tables[table]!.digest !== west.tables[table]!.digest);
    expect(differing).toEqual(['tm-matching-store']);
    expect(sameWest.databases).toEqual(sameEast.databases);
    expect(west.databases['tm-db']!.rows).toBe(east.databases['tm-db']!.rows);
    expect(west.databases['tm-db']!.digest).not.toBe(east.databases['tm-db']!.digest);
  });

  test('watermark items, and attributes the 2017 global tables stamp into items, are left out', async () => {
    // Prepare
    await writeItems(regions.east, storeItems(), clockFrom('2026-11-23T10:00:00Z'));
    await regions.replicated();
    regions.globalTables.pause();
    const before = await digestApp(TM, deps(regions.west));
    await drainCheck(DrainCheckRequest.parse({ check: 'watermark-write', app: 'trade-matching', runId: 'rot-1' }), {
      ...deps(regions.west), broker: { queueDepth: async () => 0 }, documents: regions.west.documents, names: (_kind, name) => name,
    });
    await regions.west.dynamodb.send(
      new PutItemCommand({
        TableName: 'tm-egress-store',
        Item: { id: { S: 'response:QAINS012-QAINS012-QABRO010-1:MATCHED' }, body: { S: '{}' }, recordedAt: { S: 'later' }, 'aws:rep:updateregion': { S: WEST } },
      }),
    );

    // Act
    const after = await digestApp(TM, deps(regions.west));

    // Assess
    expect(after.digest).toBe(before.digest);
    expect(after.tables['tm-ingestion-store']).toEqual(before.tables['tm-ingestion-store']);
  });
  test('sets in any order and numbers in any spelling are the same content', async () => {
    // Prepare
    regions.globalTables.pause();
    const item = (tags: string[], amounts: string[], price: string) => ({
      id: { S: 'QAINS012-QAINS012-QABRO010-9' }, tags: { SS: tags }, amounts: { NS: amounts }, record: { M: { price: { N: price } } },
    });
    await regions.east.dynamodb.send(new PutItemCommand({ TableName: 'tm-matching-store', Item: item(['b', 'a'], ['1.50', '20'], '12.50') }));
    await regions.west.dynamodb.send(new PutItemCommand({ TableName: 'tm-matching-store', Item: item(['a', 'b'], ['20', '1.5'], '12.5') }));

    // Act
    const [east, west] = await digests();

    // Assess
    expect(west.tables['tm-matching-store']).toEqual(east.tables['tm-matching-store']);
  });

  test('the database is read a page at a time, by primary key, without skipping or repeating a row', async () => {
    // Prepare
    await seedTradeMatching(databases[EAST]!.db, 'backward', null);

    // Act
    const whole = await digestDatabase(databases[EAST]!.db, 'trade-matching');
    const paged = await digestDatabase(databases[EAST]!.db, 'trade-matching', { pageSize: 2 });

    // Assess
    expect(paged).toEqual(whole);
    expect(whole.rows).toBe(12);
  });
});

describe('the database digest covers the schema', () => {
  test('every business table the migrations create is digested, by its primary key', () => {
    // Assess
    for (const app of ['trade-matching', 'settlement'] as const) {
      expect(DIGESTED_TABLES[app].map((table) => table.table).sort(), app).toEqual([...MIGRATED_TABLES[app]].sort());
    }
  });
});
