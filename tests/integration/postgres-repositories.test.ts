import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Ledger, type LedgerRepository, type PostingSet } from '#domain/ledger.ts';
import { Settlement, type SettlementRecord, type SettlementRepository } from '#domain/settlement.ts';
import { newTradeRecord, type TradeRecord, type TradeRepository } from '#domain/trade-matching.ts';
import {
  DuplicateIdError,
  InMemoryLedger,
  InMemorySettlementRepository,
  InMemoryTradeRepository,
  StaleStatusError,
} from '#shared/adapters/memory/in-memory-stores.ts';
import { PostgresLedgerRepository } from '#shared/adapters/postgres/ledger-repository.ts';
import {
  migrateSettlementDatabase,
  SETTLEMENT_SCHEMA,
  SETTLEMENT_TABLES,
} from '#shared/adapters/postgres/migrations/settlement.ts';
import {
  migrateTradeMatchingDatabase,
  TRADE_MATCHING_SCHEMA,
  TRADE_MATCHING_TABLES,
} from '#shared/adapters/postgres/migrations/trade-matching.ts';
import { describeTable } from '#local/global/aurora/change-capture.ts';
import { OUTBOX_ID_GAP_AFTER_PROMOTION } from '#shared/adapters/postgres/migrations/outbox-table.ts';
import { withSettlementTransaction, withTradeMatchingTransaction } from '#shared/adapters/postgres/unit-of-work.ts';
import { anImLeg } from '#tests/factories/trade-legs.ts';
import { POSTGRES_TEST_BACKENDS, type AppDatabases } from '#tests/support/postgres-app-databases.ts';

/**
 * One contract for the repository ports, run against the in-memory stores (`rotor simulate`) and the PostgreSQL
 * adapters (the pipeline), so the two cannot drift apart.
 */

interface RepositoryHarness {
  inTrades<T>(work: (trades: TradeRepository) => Promise<T>): Promise<T>;
  inSettlements<T>(work: (stores: { settlements: SettlementRepository; ledger: LedgerRepository }) => Promise<T>): Promise<T>;
  postedSets(): Promise<PostingSet[]>;
  reset(): Promise<void>;
}

function inMemoryHarness(): RepositoryHarness {
  let trades = new InMemoryTradeRepository();
  let settlements = new InMemorySettlementRepository();
  let ledger = new InMemoryLedger();
  return {
    inTrades: (work) => work(trades),
    inSettlements: (work) => work({ settlements, ledger }),
    postedSets: async () => ledger.all(),
    reset: async () => {
      trades = new InMemoryTradeRepository();
      settlements = new InMemorySettlementRepository();
      ledger = new InMemoryLedger();
    },
  };
}

/** Every call runs in its own transaction, as the matching stages use the adapters. */
function postgresHarness(databases: () => AppDatabases): RepositoryHarness {
  const serializeOn = 'repository-contract';
  return {
    inTrades: (work) => withTradeMatchingTransaction(databases().tradeMatching, { serializeOn }, ({ trades }) => work(trades)),
    inSettlements: (work) => withSettlementTransaction(databases().settlement, { serializeOn }, work),
    postedSets: () => new PostgresLedgerRepository(databases().settlement).postingSets(),
    reset: () => databases().truncate(),
  };
}

const aTrade = (overrides: Parameters<typeof anImLeg>[0] = {}): TradeRecord => newTradeRecord(anImLeg(overrides));

const aSettlementRecord = (overrides: Partial<Settlement> = {}): SettlementRecord => {
  const settlement = { ...Settlement.fromMatchedTrade(newTradeRecord(anImLeg(), 'MATCHED'))[0]!, ...overrides };
  return { id: Settlement.id(settlement), settlement, status: 'UNMATCHED' };
};

function repositoryContract(title: string, harness: () => RepositoryHarness): void {
  describe(`repository contract: ${title}`, () => {
    beforeEach(() => harness().reset());

    it('finds nothing under an id never stored', async () => {
      // Act
      const found = await harness().inTrades((trades) => trades.get('QAINS012-QAINS012-QABRO010-nothing'));

      // Assess
      expect(found).toBeUndefined();
    });

    it('hands a trade back exactly as stored: price text, allocation order, delivery instructions', async () => {
      // Prepare
      const trade = aTrade({
        price: '123456789012.500000',
        quantity: 1000,
        allocations: [
          { allocationID: 3, quantity: 100, account: '7000000003' },
          { allocationID: 1, quantity: 600, account: '4410293385' },
          { allocationID: 2, quantity: 300, account: '9023311870' },
        ],
      });

      // Act
      await harness().inTrades((trades) => trades.insert(trade));
      const stored = await harness().inTrades((trades) => trades.get(trade.id));

      // Assess
      expect(stored).toEqual(trade);
      expect(stored?.leg.price).toBe('123456789012.500000');
      expect(stored?.leg.allocations.map((a) => a.allocationID)).toEqual([3, 1, 2]);
      expect(Object.keys(stored!.allocations)).toEqual(['1', '2', '3']);
    });

    it('keeps absent delivery instructions absent, not null or empty', async () => {
      // Prepare
      const { deliveryInstructions: _omitted, ...leg } = anImLeg();
      const trade = newTradeRecord(leg);

      // Act
      await harness().inTrades((trades) => trades.insert(trade));
      const stored = await harness().inTrades((trades) => trades.get(trade.id));

      // Assess
      expect(stored).toEqual(trade);
      expect(stored && 'deliveryInstructions' in stored.leg).toBe(false);
    });

    it('moves a trade from its current status and changes nothing else', async () => {
      // Prepare
      const trade = aTrade();
      await harness().inTrades((trades) => trades.insert(trade));

      // Act
      await harness().inTrades((trades) => trades.updateStatus(trade.id, 'UNMATCHED', 'MATCHED'));
      const stored = await harness().inTrades((trades) => trades.get(trade.id));

      // Assess
      expect(stored).toEqual({ ...trade, status: 'MATCHED' });
    });

    it('refuses to move a trade whose stored status is not the expected one, and keeps the stored one', async () => {
      // Prepare
      const trade = aTrade();
      await harness().inTrades((trades) => trades.insert(trade));
      await harness().inTrades((trades) => trades.updateStatus(trade.id, 'UNMATCHED', 'MISMATCHED'));

      // Act
      const stale = harness().inTrades((trades) => trades.updateStatus(trade.id, 'UNMATCHED', 'MATCHED'));

      // Assess
      await expect(stale).rejects.toThrow(StaleStatusError);
      await expect(stale).rejects.toMatchObject({ id: trade.id, expected: 'UNMATCHED', actual: 'MISMATCHED' });
      expect((await harness().inTrades((trades) => trades.get(trade.id)))?.status).toBe('MISMATCHED');
    });

    it('refuses to move a trade that is not stored', async () => {
      // Act
      const missing = harness().inTrades((trades) => trades.updateStatus('QAINS012-QAINS012-QABRO010-1', 'UNMATCHED', 'MATCHED'));

      // Assess
      await expect(missing).rejects.toMatchObject({ name: 'StaleStatusError', actual: undefined });
    });

    it('refuses a second trade under a stored id, and the first stands', async () => {
      // Prepare
      const first = aTrade();
      await harness().inTrades((trades) => trades.insert(first));

      // Act
      const second = harness().inTrades((trades) => trades.insert(aTrade({ price: '13' })));

      // Assess
      await expect(second).rejects.toThrow(DuplicateIdError);
      expect(await harness().inTrades((trades) => trades.get(first.id))).toEqual(first);
    });

    it('hands a settlement back exactly as stored and moves it only from its current status', async () => {
      // Prepare
      const record = aSettlementRecord({ price: '0.000001' });
      await harness().inSettlements(({ settlements }) => settlements.insert(record));

      // Act
      await harness().inSettlements(({ settlements }) => settlements.updateStatus(record.id, 'UNMATCHED', 'SETTLED'));
      const stale = harness().inSettlements(({ settlements }) => settlements.updateStatus(record.id, 'UNMATCHED', 'MISMATCHED'));

      // Assess
      await expect(stale).rejects.toMatchObject({ name: 'StaleStatusError', actual: 'SETTLED' });
      expect(await harness().inSettlements(({ settlements }) => settlements.get(record.id))).toEqual({ ...record, status: 'SETTLED' });
    });

    it('refuses a second settlement under a stored id, and the first stands', async () => {
      // Prepare
      const first = aSettlementRecord();
      await harness().inSettlements(({ settlements }) => settlements.insert(first));

      // Act
      const second = harness().inSettlements(({ settlements }) => settlements.insert(aSettlementRecord({ account: '1111111111' })));

      // Assess
      await expect(second).rejects.toThrow(DuplicateIdError);
      expect(await harness().inSettlements(({ settlements }) => settlements.get(first.id))).toEqual(first);
    });

    it('posts a settlement pair once: a second posting of the pair records nothing', async () => {
      // Prepare
      const settlement = aSettlementRecord({ price: '1999.999999', quantity: 4300 }).settlement;
      const postings = Ledger.postingsFor(settlement);
      const repriced = Ledger.postingsFor({ ...settlement, price: '1' });

      // Act
      const first = await harness().inSettlements(({ ledger }) => ledger.post(postings));
      const second = await harness().inSettlements(({ ledger }) => ledger.post(repriced));

      // Assess
      expect([first, second]).toEqual([true, false]);
      expect(await harness().postedSets()).toEqual([postings]);
    });
  });
}

const inMemory = inMemoryHarness();
repositoryContract('in memory', () => inMemory);

for (const backend of POSTGRES_TEST_BACKENDS) {
  describe.skipIf(backend.open === undefined)(`PostgreSQL adapters on ${backend.title}`, () => {
    let databases: AppDatabases;
    beforeAll(async () => {
      databases = await backend.open!();
    });
    afterAll(() => databases?.close());

    repositoryContract(backend.title, () => postgresHarness(() => databases));
    postgresOnly(() => databases);
  });
}

function postgresOnly(databases: () => AppDatabases): void {
  describe('what only the PostgreSQL adapters have', () => {
    beforeEach(() => databases().truncate());

    it('sets up again without effect, and gives every replicated table the primary key replication needs', async () => {
      // Prepare
      const { tradeMatching, settlement } = databases();

      // Act: the global database's schema statements on a migrated database, then the migrations once more.
      for (const statement of TRADE_MATCHING_SCHEMA) await sql.raw(statement).execute(tradeMatching);
      for (const statement of SETTLEMENT_SCHEMA) await sql.raw(statement).execute(settlement);
      const migratedAgain = [await migrateTradeMatchingDatabase(tradeMatching), await migrateSettlementDatabase(settlement)];
      const shapes = [
        ...(await Promise.all(TRADE_MATCHING_TABLES.map((table) => describeTable(tradeMatching, table)))),
        ...(await Promise.all(SETTLEMENT_TABLES.map((table) => describeTable(settlement, table)))),
      ];

      // Assess
      expect(migratedAgain).toEqual([[], []]);
      expect(shapes.map((shape) => [shape.qualifiedName, shape.primaryKey])).toEqual([
        ['public.trades', ['id']],
        ['public.allocations', ['trade_id', 'allocation_id']],
        ['public.outbox', ['id']],
        ['public.settlements', ['id']],
        ['public.ledger_pairs', ['pair_id']],
        ['public.ledger_postings', ['pair_id', 'posting_index']],
        ['public.outbox', ['id']],
      ]);
    });

    it('keeps a price exact in its numeric column, with no floating-point rounding', async () => {
      // Prepare
      const trade = aTrade({ price: '9007199254740993.000001' });

      // Act
      await withTradeMatchingTransaction(databases().tradeMatching, { serializeOn: trade.id }, ({ trades }) => trades.insert(trade));

      // Assess
      const { rows } = await sql<{ price: string }>`select price::text as price from trades`.execute(databases().tradeMatching);
      expect(rows).toEqual([{ price: '9007199254740993.000001' }]);
    });

    it('refuses a status the schema does not know, even from plain SQL', async () => {
      // Prepare
      const trade = aTrade();
      const { tradeMatching } = databases();
      await withTradeMatchingTransaction(tradeMatching, { serializeOn: trade.id }, ({ trades }) => trades.insert(trade));

      // Act
      const update = sql`update trades set status = 'SETTLING' where id = ${trade.id}`.execute(tradeMatching);

      // Assess
      await expect(update).rejects.toThrow(/check constraint/);
    });

    it('moves an allocation only from its current status, for the settlement roll-up', async () => {
      // Prepare
      const trade = newTradeRecord(anImLeg(), 'MATCHED');
      const { tradeMatching } = databases();
      const inTrades = <T>(work: Parameters<typeof withTradeMatchingTransaction<T>>[2]) =>
        withTradeMatchingTransaction(tradeMatching, { serializeOn: trade.id }, work);
      await inTrades(({ trades }) => trades.insert(trade));
      const settled = { ...trade, status: 'SETTLED' as const, allocations: { '1': 'SETTLED' as const, '2': 'SETTLED' as const } };

      // Act
      await inTrades(({ trades }) => trades.applyRollup(trade, settled));
      const again = inTrades(({ trades }) => trades.updateAllocationStatus(trade.id, 1, 'UNSETTLED', 'MISMATCHED'));

      // Assess
      await expect(again).rejects.toMatchObject({ name: 'StaleStatusError', id: `${trade.id}-1`, actual: 'SETTLED' });
      expect(await inTrades(({ trades }) => trades.get(trade.id))).toEqual(settled);
    });

    it('relays outbox events in order and marks each relayed once', async () => {
      // Prepare
      const { tradeMatching } = databases();
      const ids = await withTradeMatchingTransaction(tradeMatching, { serializeOn: 'outbox' }, ({ outbox }) =>
        outbox.append([
          { aggregateId: 'A', eventType: 'trade.unmatched', payload: { price: '12.50' } },
          { aggregateId: 'B', eventType: 'trade.matched', payload: { price: '1' } },
          { aggregateId: 'A', eventType: 'trade.matched', payload: { price: '12.5' } },
        ]),
      );

      // Act
      const pending = await withTradeMatchingTransaction(tradeMatching, { serializeOn: 'outbox' }, ({ outbox }) => outbox.unrelayed(2));
      const marked = await withTradeMatchingTransaction(tradeMatching, { serializeOn: 'outbox' }, ({ outbox }) =>
        outbox.markRelayed([ids[0]!, ids[0]!, ids[1]!]),
      );
      const markedAgain = await withTradeMatchingTransaction(tradeMatching, { serializeOn: 'outbox' }, ({ outbox }) =>
        outbox.markRelayed([ids[0]!]),
      );
      const history = await withTradeMatchingTransaction(tradeMatching, { serializeOn: 'outbox' }, ({ outbox }) => outbox.eventsFor('A'));
      const remaining = await withTradeMatchingTransaction(tradeMatching, { serializeOn: 'outbox' }, ({ outbox }) => outbox.unrelayed(10));

      // Assess
      expect(ids.map(BigInt)).toEqual([1n, 2n, 3n]);
      expect(pending.map((event) => [event.id, event.aggregateId, event.payload])).toEqual([
        [ids[0], 'A', { price: '12.50' }],
        [ids[1], 'B', { price: '1' }],
      ]);
      expect([marked, markedAgain]).toEqual([2, 0]);
      expect(history.map((event) => [event.eventType, event.relayedAt === null])).toEqual([
        ['trade.unmatched', false],
        ['trade.matched', true],
      ]);
      expect(remaining.map((event) => event.id)).toEqual([ids[2]]);
    });

    it('gives new outbox ids a gap past rows that arrived by replication, as after a promotion to writer: a lost tail\'s ids are never reused', async () => {
      // Prepare: replication writes rows with their ids and never advances this database's sequence.
      const { settlement } = databases();
      await sql`insert into outbox (id, aggregate_id, event_type, payload) values
        (41, 'X', 'settlement.settled', '{}'), (42, 'Y', 'settlement.settled', '{}')`.execute(settlement);

      // Act
      const ids = await withSettlementTransaction(settlement, { serializeOn: 'outbox' }, ({ outbox }) =>
        outbox.append([
          { aggregateId: 'Z', eventType: 'settlement.unmatched', payload: {} },
          { aggregateId: 'Z', eventType: 'settlement.settled', payload: {} },
        ]),
      );

      // Assess
      expect(ids).toEqual([String(42 + OUTBOX_ID_GAP_AFTER_PROMOTION + 1), String(42 + OUTBOX_ID_GAP_AFTER_PROMOTION + 2)]);
    });
  });
}
