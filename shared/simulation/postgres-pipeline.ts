import type { Kysely } from 'kysely';
import { DEFAULT_FEE_BPS, Ledger } from '#domain/ledger.ts';
import { applySettlementResult, type SettlementResult } from '#domain/settlement-rollup.ts';
import { pairSettlement, Settlement, type SettlementRecord } from '#domain/settlement.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import { validateTradeLegMessage } from '#domain/trade-leg-validation.ts';
import { matchTradeLeg, type TradeRecord } from '#domain/trade-matching.ts';
import { PostgresLedgerRepository } from '#shared/adapters/postgres/ledger-repository.ts';
import type { SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import type { TradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import { matchOutcomeEvents, pairingEvents, rollupEvents } from '#shared/adapters/postgres/outbox-events.ts';
import { withSettlementTransaction, withTradeMatchingTransaction } from '#shared/adapters/postgres/unit-of-work.ts';
import type { SimulationNack, SimulationResult } from '#shared/simulation/in-memory-pipeline.ts';

/**
 * The domain over the two apps' PostgreSQL databases, one transaction per stage and input as the matching
 * functions run it: trade matching (match + counterpart + outbox), settlement pairing (pairing + ledger + outbox),
 * and the roll-up back into trade matching. Legs are carried through every stage before the next arrives, as in
 * `InMemoryPipeline`, so both answer the same question and their `SimulationResult`s can be compared.
 */
export class PostgresPipeline {
  readonly #nacks: SimulationNack[] = [];

  constructor(
    private readonly tradeMatching: Kysely<TradeMatchingDatabase>,
    private readonly settlement: Kysely<SettlementDatabase>,
    private readonly feeBps = DEFAULT_FEE_BPS,
  ) {}

  async submit(body: string, index: number): Promise<void> {
    const validation = validateTradeLegMessage(body);
    if (!validation.ok) {
      this.#nacks.push({ index, code: validation.nack.code, reason: validation.nack.reason });
      return;
    }
    const { leg } = validation;
    const outcome = await withTradeMatchingTransaction(
      this.tradeMatching,
      { serializeOn: TradeLeg.partitionKey(leg) },
      async ({ trades, outbox }) => {
        const decision = await matchTradeLeg(leg, trades);
        await outbox.append(matchOutcomeEvents(leg, decision));
        return decision;
      },
    );
    if (outcome.kind === 'conflict') this.#nacks.push({ index, code: outcome.nack.code, reason: outcome.nack.reason });
    if (outcome.kind === 'matched') {
      await this.#settle(outcome.counterpart);
      await this.#settle(outcome.trade);
    }
  }

  async #settle(trade: TradeRecord): Promise<void> {
    for (const settlement of Settlement.fromMatchedTrade(trade)) {
      const pairing = await withSettlementTransaction(
        this.settlement,
        { serializeOn: Settlement.partitionKey(settlement) },
        async ({ settlements, ledger, outbox }) => {
          const decision = await pairSettlement(settlement, settlements);
          if (decision.kind === 'settled') await ledger.post(Ledger.postingsFor(decision.record.settlement, this.feeBps));
          await outbox.append(pairingEvents(settlement, decision));
          return decision;
        },
      );
      if (pairing.kind !== 'settled' && pairing.kind !== 'mismatched') continue;
      for (const record of [pairing.counterpart, pairing.record]) await this.#rollUp(record);
    }
  }

  async #rollUp(record: SettlementRecord): Promise<void> {
    if (record.status === 'UNMATCHED') return;
    const result: SettlementResult = { allocationID: record.settlement.allocationID, status: record.status };
    await withTradeMatchingTransaction(
      this.tradeMatching,
      { serializeOn: TradeLeg.partitionKey(record.settlement) },
      async ({ trades, outbox }) => {
        const trade = await trades.get(TradeLeg.id(record.settlement));
        if (!trade) return;
        const outcome = applySettlementResult(trade, result);
        if (outcome.kind !== 'applied') return;
        await trades.applyRollup(trade, outcome.trade);
        await outbox.append(rollupEvents(result, outcome));
      },
    );
  }

  /** What the databases hold now, in the `rotor simulate` shape. */
  async result(): Promise<SimulationResult> {
    const trades = await this.tradeMatching.selectFrom('trades').select(['id', 'status']).execute();
    const allocations = await this.tradeMatching
      .selectFrom('allocations')
      .select(['trade_id', 'allocation_id', 'status'])
      .execute();
    const settlements = await this.settlement.selectFrom('settlements').select(['id', 'status']).execute();
    const balances = await new PostgresLedgerRepository(this.settlement).balances();
    allocations.sort((a, b) => compareText(a.trade_id, b.trade_id) || a.allocation_id - b.allocation_id);
    return {
      trades: Object.fromEntries(trades.sort(byId).map((t) => [t.id, t.status])),
      allocations: Object.fromEntries(allocations.map((a) => [`${a.trade_id}-${a.allocation_id}`, a.status])),
      settlements: Object.fromEntries(settlements.sort(byId).map((s) => [s.id, s.status])),
      nacks: [...this.#nacks],
      ledger: balances.toJSON(),
    };
  }
}

// Sorted in JavaScript, not by the database's collation, so the order is the in-memory pipeline's on any server.
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byId = (a: { id: string }, b: { id: string }) => compareText(a.id, b.id);

/** `simulate()` over PostgreSQL: every body through the pipeline in order; the databases must start empty. */
export async function simulateOnPostgres(
  databases: { tradeMatching: Kysely<TradeMatchingDatabase>; settlement: Kysely<SettlementDatabase> },
  bodies: Iterable<{ index: number; body: string }>,
  options: { feeBps?: number } = {},
): Promise<SimulationResult> {
  const pipeline = new PostgresPipeline(databases.tradeMatching, databases.settlement, options.feeBps);
  for (const { index, body } of bodies) await pipeline.submit(body, index);
  return pipeline.result();
}
