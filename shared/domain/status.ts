import { z } from 'zod';

/** Lifecycle states and their allowed transitions (DESIGN §3.2). Anything not listed is refused. */

export const TradeStatus = z.enum(['UNMATCHED', 'MATCHED', 'MISMATCHED', 'SETTLED']);
export type TradeStatus = z.infer<typeof TradeStatus>;

export const AllocationStatus = z.enum(['UNSETTLED', 'SETTLED', 'MISMATCHED']);
export type AllocationStatus = z.infer<typeof AllocationStatus>;

export const SettlementStatus = z.enum(['UNMATCHED', 'SETTLED', 'MISMATCHED']);
export type SettlementStatus = z.infer<typeof SettlementStatus>;

const tradeTransitions: Record<TradeStatus, readonly TradeStatus[]> = {
  UNMATCHED: ['MATCHED', 'MISMATCHED'],
  MATCHED: ['SETTLED'],
  MISMATCHED: [],
  SETTLED: [],
};

const allocationTransitions: Record<AllocationStatus, readonly AllocationStatus[]> = {
  UNSETTLED: ['SETTLED', 'MISMATCHED'],
  SETTLED: [],
  MISMATCHED: [],
};

const settlementTransitions: Record<SettlementStatus, readonly SettlementStatus[]> = {
  UNMATCHED: ['SETTLED', 'MISMATCHED'],
  SETTLED: [],
  MISMATCHED: [],
};

export class IllegalTransitionError extends Error {
  override readonly name = 'IllegalTransitionError';
  constructor(readonly entity: string, readonly id: string, readonly from: string, readonly to: string) {
    super(`${entity} ${id} cannot go from ${from} to ${to}`);
  }
}

export const Transitions = {
  trade: (from: TradeStatus, to: TradeStatus) => tradeTransitions[from].includes(to),
  allocation: (from: AllocationStatus, to: AllocationStatus) => allocationTransitions[from].includes(to),
  settlement: (from: SettlementStatus, to: SettlementStatus) => settlementTransitions[from].includes(to),
} as const;
