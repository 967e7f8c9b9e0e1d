import { type AllocationStatus, Transitions } from './status.ts';
import type { TradeRecord } from './trade-matching.ts';

/**
 * Settlement results flowing back to Trade Matching (DESIGN §3.4): each allocation takes its settlement's status,
 * and a MATCHED leg becomes SETTLED once every allocation is SETTLED.
 */

export type SettlementResult = { allocationID: number; status: Exclude<AllocationStatus, 'UNSETTLED'> };

export type RollupOutcome =
  | { kind: 'applied'; trade: TradeRecord; tradeSettled: boolean }
  | { kind: 'unchanged'; trade: TradeRecord }
  | { kind: 'refused'; trade: TradeRecord; reason: string };

export function applySettlementResult(trade: TradeRecord, result: SettlementResult): RollupOutcome {
  const key = String(result.allocationID);
  const current = trade.allocations[key];
  if (current === undefined) {
    return { kind: 'refused', trade, reason: `trade ${trade.id} has no allocation ${key}` };
  }
  if (current === result.status) return { kind: 'unchanged', trade };
  if (trade.status !== 'MATCHED' || !Transitions.allocation(current, result.status)) {
    return {
      kind: 'refused',
      trade,
      reason: `allocation ${key} of trade ${trade.id} (${trade.status}) is ${current}; cannot become ${result.status}`,
    };
  }
  const allocations = { ...trade.allocations, [key]: result.status };
  const tradeSettled = Object.values(allocations).every((status) => status === 'SETTLED');
  return {
    kind: 'applied',
    trade: { ...trade, allocations, status: tradeSettled ? 'SETTLED' : trade.status },
    tradeSettled,
  };
}
