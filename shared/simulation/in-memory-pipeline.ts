import { DEFAULT_FEE_BPS, Ledger, LedgerBalances } from '#domain/ledger.ts';
import type { NackCode } from '#domain/nack.ts';
import { applySettlementResult } from '#domain/settlement-rollup.ts';
import { pairSettlement, Settlement, type SettlementRecord } from '#domain/settlement.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import { validateTradeLegMessage } from '#domain/trade-leg-validation.ts';
import { matchTradeLeg, type TradeRecord } from '#domain/trade-matching.ts';
import {
  InMemoryLedger,
  InMemorySettlementRepository,
  InMemoryTradeRepository,
} from '#shared/adapters/memory/in-memory-stores.ts';

/**
 * The whole domain in one process, in arrival order: validation, trade matching, settlement creation and pairing,
 * the roll-up back to trade matching, and the ledger. Each leg is carried through every stage before the next
 * arrives; the pipeline on the twin runs the same functions, stage by stage, over streams.
 */

export interface SimulationNack {
  index: number;
  code: NackCode;
  reason: string;
}

/** The `rotor simulate` JSON (DESIGN §5). */
export interface SimulationResult {
  trades: Record<string, TradeRecord['status']>;
  allocations: Record<string, string>;
  settlements: Record<string, SettlementRecord['status']>;
  nacks: SimulationNack[];
  ledger: ReturnType<LedgerBalances['toJSON']>;
}

export class InMemoryPipeline {
  readonly #trades = new InMemoryTradeRepository();
  readonly #settlements = new InMemorySettlementRepository();
  readonly #ledger = new InMemoryLedger();
  readonly #balances = new LedgerBalances();
  readonly #nacks: SimulationNack[] = [];

  constructor(private readonly feeBps = DEFAULT_FEE_BPS) {}

  /** Submits one raw message body; `index` identifies it in NACKs. */
  async submit(body: string, index: number): Promise<void> {
    const validation = validateTradeLegMessage(body);
    if (!validation.ok) {
      this.#nacks.push({ index, code: validation.nack.code, reason: validation.nack.reason });
      return;
    }
    const outcome = await matchTradeLeg(validation.leg, this.#trades);
    if (outcome.kind === 'conflict') this.#nacks.push({ index, code: outcome.nack.code, reason: outcome.nack.reason });
    if (outcome.kind === 'matched') {
      await this.#settle(outcome.counterpart);
      await this.#settle(outcome.trade);
    }
  }

  async #settle(trade: TradeRecord): Promise<void> {
    for (const settlement of Settlement.fromMatchedTrade(trade)) {
      const pairing = await pairSettlement(settlement, this.#settlements);
      if (pairing.kind !== 'settled' && pairing.kind !== 'mismatched') continue;
      for (const record of [pairing.counterpart, pairing.record]) await this.#rollUp(record);
      if (pairing.kind === 'settled') {
        const postings = Ledger.postingsFor(pairing.record.settlement, this.feeBps);
        if (await this.#ledger.post(postings)) this.#balances.apply(postings);
      }
    }
  }

  async #rollUp(record: SettlementRecord): Promise<void> {
    if (record.status === 'UNMATCHED') return;
    const trade = await this.#trades.get(TradeLeg.id(record.settlement));
    if (!trade) return;
    const outcome = applySettlementResult(trade, { allocationID: record.settlement.allocationID, status: record.status });
    if (outcome.kind === 'applied') await this.#trades.replace(outcome.trade);
  }

  result(): SimulationResult {
    const trades = this.#trades.all().sort(byId);
    return {
      trades: Object.fromEntries(trades.map((t) => [t.id, t.status])),
      allocations: Object.fromEntries(
        trades.flatMap((t) =>
          Object.entries(t.allocations)
            .sort(([a], [b]) => Number(a) - Number(b))
            .map(([allocationID, status]) => [`${t.id}-${allocationID}`, status]),
        ),
      ),
      settlements: Object.fromEntries(this.#settlements.all().sort(byId).map((s) => [s.id, s.status])),
      nacks: [...this.#nacks],
      ledger: this.#balances.toJSON(),
    };
  }
}

const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** Runs every body through a fresh pipeline; `index` is each body's position (for files: its 0-based line). */
export async function simulate(
  bodies: Iterable<{ index: number; body: string }> | AsyncIterable<{ index: number; body: string }>,
  options: { feeBps?: number } = {},
): Promise<SimulationResult> {
  const pipeline = new InMemoryPipeline(options.feeBps);
  for await (const { index, body } of bodies) await pipeline.submit(body, index);
  return pipeline.result();
}
