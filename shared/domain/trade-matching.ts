import { type Nack, repeatedId } from './nack.ts';
import type { AllocationStatus, TradeStatus } from './status.ts';
import { TradeLeg } from './trade-leg.ts';

/** Trade matching (DESIGN §3.3): a pure decision over what the store holds, applied through a small port. */

export interface TradeRecord {
  id: string;
  leg: TradeLeg;
  status: TradeStatus;
  /** Keyed by allocationID. */
  allocations: Record<string, AllocationStatus>;
}

/**
 * The store the matching stage works against: in memory for `rotor simulate`, PostgreSQL in the pipeline.
 * Callers run one `matchTradeLeg` inside one transaction, so the reads and writes below are atomic together.
 */
export interface TradeRepository {
  get(id: string): Promise<TradeRecord | undefined>;
  insert(record: TradeRecord): Promise<void>;
  /** Moves `id` from `from` to `to`; implementations refuse the write if the stored status is not `from`. */
  updateStatus(id: string, from: TradeStatus, to: TradeStatus): Promise<void>;
}

export type MatchDecision =
  | { kind: 'duplicate'; existing: TradeRecord }
  | { kind: 'conflict'; nack: Nack }
  | { kind: 'unmatched'; trade: TradeRecord }
  | { kind: 'matched' | 'mismatched'; trade: TradeRecord; counterpart: TradeRecord };

export type MatchOutcome = MatchDecision;

export const newTradeRecord = (leg: TradeLeg, status: TradeStatus = 'UNMATCHED'): TradeRecord => ({
  id: TradeLeg.id(leg),
  leg,
  status,
  allocations: Object.fromEntries(leg.allocations.map((a) => [String(a.allocationID), 'UNSETTLED' as const])),
});

/**
 * Decides what an incoming valid leg does, given the record already stored under its own id (if any) and the
 * record stored under its counterpart's id (if any). Only two ids can exist per trade (the sender is one of the
 * two parties), so the counterpart is found by id and then checked against the match key and its status.
 */
export function decideMatch(
  leg: TradeLeg,
  existing: TradeRecord | undefined,
  counterpartCandidate: TradeRecord | undefined,
): MatchDecision {
  const id = TradeLeg.id(leg);
  if (existing) return repeatedId('trade', id, id, existing, TradeLeg.sameContent(existing.leg, leg));
  const counterpart =
    counterpartCandidate &&
    counterpartCandidate.status === 'UNMATCHED' &&
    TradeLeg.matchKey(counterpartCandidate.leg) === TradeLeg.matchKey(leg)
      ? counterpartCandidate
      : undefined;
  if (!counterpart) return { kind: 'unmatched', trade: newTradeRecord(leg) };

  const status = TradeLeg.economicsAgree(leg, counterpart.leg) ? 'MATCHED' : 'MISMATCHED';
  return {
    kind: status === 'MATCHED' ? 'matched' : 'mismatched',
    trade: newTradeRecord(leg, status),
    counterpart: { ...counterpart, status },
  };
}

/** Looks up, decides and writes: the counterpart update and the insert together, or nothing. */
export async function matchTradeLeg(leg: TradeLeg, trades: TradeRepository): Promise<MatchOutcome> {
  const [existing, candidate] = await Promise.all([
    trades.get(TradeLeg.id(leg)),
    trades.get(TradeLeg.counterpartId(leg)),
  ]);
  const decision = decideMatch(leg, existing, candidate);
  switch (decision.kind) {
    case 'duplicate':
    case 'conflict':
      break;
    case 'unmatched':
      await trades.insert(decision.trade);
      break;
    case 'matched':
    case 'mismatched':
      await trades.updateStatus(decision.counterpart.id, 'UNMATCHED', decision.counterpart.status);
      await trades.insert(decision.trade);
      break;
  }
  return decision;
}
