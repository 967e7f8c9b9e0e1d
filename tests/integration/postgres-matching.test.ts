import { setTimeout as delay } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateRun } from '#domain/generator.ts';
import { Ledger } from '#domain/ledger.ts';
import { pairSettlement, Settlement } from '#domain/settlement.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import { matchTradeLeg, newTradeRecord, type MatchOutcome } from '#domain/trade-matching.ts';
import { matchOutcomeEvents, pairingEvents } from '#shared/adapters/postgres/outbox-events.ts';
import { withSettlementTransaction, withTradeMatchingTransaction } from '#shared/adapters/postgres/unit-of-work.ts';
import { simulate } from '#shared/simulation/in-memory-pipeline.ts';
import { simulateOnPostgres } from '#shared/simulation/postgres-pipeline.ts';
import { aBrokerLeg, anImLeg, bodyOf, numbered } from '#tests/factories/trade-legs.ts';
import { POSTGRES_TEST_BACKENDS, type AppDatabases } from '#tests/support/postgres-app-databases.ts';

/** The domain over PostgreSQL answers as it does in memory, atomically, and with both legs of a trade in flight at once. */

class DeliberateFailure extends Error {
  override readonly name = 'DeliberateFailure';
}

for (const backend of POSTGRES_TEST_BACKENDS) {
  describe.skipIf(backend.open === undefined)(`matching over ${backend.title}`, () => {
    let databases: AppDatabases;
    beforeAll(async () => {
      databases = await backend.open!();
    });
    afterAll(() => databases?.close());
    beforeEach(() => databases.truncate());

    const matchInTransaction = (leg: TradeLeg, during?: () => Promise<void>): Promise<MatchOutcome> =>
      withTradeMatchingTransaction(databases.tradeMatching, { serializeOn: TradeLeg.partitionKey(leg) }, async ({ trades, outbox }) => {
        const outcome = await matchTradeLeg(leg, trades);
        await outbox.append(matchOutcomeEvents(leg, outcome));
        await during?.();
        return outcome;
      });

    const storedStatus = async (leg: TradeLeg) =>
      (await databases.tradeMatching.selectFrom('trades').select('status').where('id', '=', TradeLeg.id(leg)).executeTakeFirst())?.status;

    it('gives the same statuses and ledger as the in-memory pipeline for a generated run with repeats and bad input', async () => {
      // Prepare: 150 pairs in shuffled arrival, then exact repeats, a conflicting repeat and a malformed message.
      const { legs } = generateRun({ pairs: 150, seed: 20261123 });
      const arrivals = legs.map(({ leg }) => leg);
      const repeated = arrivals.filter((_, index) => index % 25 === 0);
      const conflicting = { ...arrivals[1]!, price: '0.5' };
      const bodies = numbered([...arrivals, ...repeated, conflicting, '{"senderID":']);

      // Act
      const inMemory = await simulate(bodies);
      const onPostgres = await simulateOnPostgres(databases, bodies);

      // Assess
      expect(onPostgres).toEqual(inMemory);
      const statuses = new Set(Object.values(onPostgres.trades));
      expect(statuses).toEqual(new Set(['SETTLED', 'MISMATCHED', 'UNMATCHED']));
      expect(onPostgres.ledger.balanced).toBe(true);
      expect(onPostgres.nacks.map((nack) => nack.code)).toEqual(['CONFLICTING_DUPLICATE', 'MALFORMED_JSON']);
      const { rows } = await sql<{ settled: string }>`
        select count(*) as settled from outbox where event_type = 'trade.settled'`.execute(databases.tradeMatching);
      const settledTrades = Object.values(onPostgres.trades).filter((status) => status === 'SETTLED').length;
      expect(rows).toEqual([{ settled: String(settledTrades) }]);
    });

    it('leaves neither the trade nor its outbox row when the transaction rolls back', async () => {
      // Prepare
      await matchInTransaction(anImLeg());

      // Act
      const failed = matchInTransaction(aBrokerLeg(), () => Promise.reject(new DeliberateFailure('egress unavailable')));

      // Assess
      await expect(failed).rejects.toThrow(DeliberateFailure);
      expect(await storedStatus(aBrokerLeg())).toBeUndefined();
      expect(await storedStatus(anImLeg())).toBe('UNMATCHED');
      const events = await databases.tradeMatching.selectFrom('outbox').select(['aggregate_id', 'event_type']).execute();
      expect(events).toEqual([{ aggregate_id: TradeLeg.id(anImLeg()), event_type: 'trade.unmatched' }]);
    });

    it('matches both legs when the second arrives while the first is still uncommitted', async () => {
      // Prepare
      let secondOutcome: Promise<MatchOutcome> | undefined;
      let secondFinished = false;

      // Act: the second leg's transaction starts after the first has written its leg, and the first commits only
      // once the second waits for it (or has finished without waiting: the race this guards against).
      const firstOutcome = await matchInTransaction(anImLeg(), async () => {
        secondOutcome = matchInTransaction(aBrokerLeg()).finally(() => (secondFinished = true));
        await untilWaitingOrDone(databases, () => secondFinished);
      });

      // Assess
      expect(firstOutcome.kind).toBe('unmatched');
      expect((await secondOutcome!).kind).toBe('matched');
      expect([await storedStatus(anImLeg()), await storedStatus(aBrokerLeg())]).toEqual(['MATCHED', 'MATCHED']);
    });

    it('matches every trade when many pairs arrive with both legs at once', async () => {
      // Prepare
      const tradeIDs = Array.from({ length: 30 }, (_, index) => `C${index}`);

      // Act
      await Promise.all(tradeIDs.flatMap((tradeID) => [matchInTransaction(anImLeg({ tradeID })), matchInTransaction(aBrokerLeg({ tradeID }))]));

      // Assess
      const statuses = await databases.tradeMatching.selectFrom('trades').select('status').execute();
      expect(statuses).toHaveLength(60);
      expect(new Set(statuses.map((row) => row.status))).toEqual(new Set(['MATCHED']));
    });

    it('settles and posts each allocation pair once when both legs\' settlements arrive at once', async () => {
      // Prepare
      const settlements = [anImLeg(), aBrokerLeg({ price: '12.5' })].flatMap((leg) =>
        Settlement.fromMatchedTrade(newTradeRecord(leg, 'MATCHED')),
      );

      // Act
      await Promise.all(
        settlements.map((settlement) =>
          withSettlementTransaction(
            databases.settlement,
            { serializeOn: Settlement.partitionKey(settlement) },
            async ({ settlements: repository, ledger, outbox }) => {
              const decision = await pairSettlement(settlement, repository);
              if (decision.kind === 'settled') await ledger.post(Ledger.postingsFor(decision.record.settlement));
              await outbox.append(pairingEvents(settlement, decision));
            },
          ),
        ),
      );

      // Assess
      const stored = await databases.settlement.selectFrom('settlements').select('status').execute();
      expect(stored.map((row) => row.status)).toEqual(['SETTLED', 'SETTLED', 'SETTLED', 'SETTLED']);
      const { rows } = await sql<{ pairs: string; postings: string; cash: string }>`
        select (select count(*) from ledger_pairs) as pairs, count(*) as postings,
               sum(amount) filter (where kind = 'cash')::text as cash
        from ledger_postings`.execute(databases.settlement);
      expect(rows).toEqual([{ pairs: '2', postings: '8', cash: '0.000000' }]);
    });
  });
}

/**
 * Holds the first transaction open until the second is blocked on the match-key lock or has finished. PostgreSQL
 * shows the wait in `pg_locks`. PGlite has one session, which its dialect hands to one transaction at a time, so
 * there the second cannot even begin until the first ends; a short pause is all it needs.
 */
async function untilWaitingOrDone(databases: AppDatabases, finished: () => boolean): Promise<void> {
  if (databases.backend === 'pglite') {
    await delay(50);
    return;
  }
  const deadline = Date.now() + 10_000;
  while (!finished() && Date.now() < deadline) {
    const { rows } = await sql<{ waiting: string }>`
      select count(*) as waiting from pg_locks
      where locktype = 'advisory' and not granted
        and database = (select oid from pg_database where datname = current_database())`.execute(databases.tradeMatching);
    if (rows[0]?.waiting !== '0') return;
    await delay(10);
  }
}
