import type { Nack } from '#domain/nack.ts';
import type { RollupOutcome, SettlementResult } from '#domain/settlement-rollup.ts';
import { Settlement, type PairingDecision, type SettlementRecord } from '#domain/settlement.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import type { MatchOutcome, TradeRecord } from '#domain/trade-matching.ts';
import type { OutboxEvent } from '#shared/adapters/postgres/outbox.ts';

/**
 * What each matching decision appends to its app's outbox, in the transaction that stored it. One event per record
 * whose state changed, carrying the whole record, so egress needs no read-back. An exact duplicate appends nothing:
 * a replay re-emits the events already in the outbox for that id.
 */

export const OutboxEventType = {
  tradeStored: (status: TradeRecord['status']) => `trade.${status.toLowerCase()}`,
  tradeRejected: 'trade.rejected',
  allocationSettled: (status: SettlementResult['status']) => `trade.allocation.${status.toLowerCase()}`,
  settlementStored: (status: SettlementRecord['status']) => `settlement.${status.toLowerCase()}`,
  settlementRejected: 'settlement.rejected',
} as const;

/** A rejection carries the id of the message it answers, when the caller knows it (the pipeline does). */
const rejected = (aggregateId: string, eventType: string, nack: Nack, messageId?: string): OutboxEvent => ({
  aggregateId,
  eventType,
  payload: messageId === undefined ? nack : { ...nack, messageId },
});

export function matchOutcomeEvents(leg: TradeLeg, outcome: MatchOutcome, messageId?: string): OutboxEvent[] {
  const stored = (trade: TradeRecord): OutboxEvent => ({
    aggregateId: trade.id,
    eventType: OutboxEventType.tradeStored(trade.status),
    payload: trade,
  });
  switch (outcome.kind) {
    case 'duplicate':
      return [];
    case 'conflict':
      return [rejected(TradeLeg.id(leg), OutboxEventType.tradeRejected, outcome.nack, messageId)];
    case 'unmatched':
      return [stored(outcome.trade)];
    case 'matched':
    case 'mismatched':
      return [stored(outcome.counterpart), stored(outcome.trade)];
  }
}

export function pairingEvents(settlement: Settlement, decision: PairingDecision, messageId?: string): OutboxEvent[] {
  const stored = (record: SettlementRecord): OutboxEvent => ({
    aggregateId: record.id,
    eventType: OutboxEventType.settlementStored(record.status),
    payload: record,
  });
  switch (decision.kind) {
    case 'duplicate':
      return [];
    case 'conflict':
      return [rejected(Settlement.id(settlement), OutboxEventType.settlementRejected, decision.nack, messageId)];
    case 'unmatched':
      return [stored(decision.record)];
    case 'settled':
    case 'mismatched':
      return [stored(decision.counterpart), stored(decision.record)];
  }
}

/** An applied roll-up: the allocation's new status, and the trade's SETTLED status when it was the last one. */
export function rollupEvents(result: SettlementResult, outcome: RollupOutcome): OutboxEvent[] {
  if (outcome.kind !== 'applied') return [];
  const { trade } = outcome;
  return [
    { aggregateId: trade.id, eventType: OutboxEventType.allocationSettled(result.status), payload: { trade, ...result } },
    ...(outcome.tradeSettled ? [{ aggregateId: trade.id, eventType: OutboxEventType.tradeStored(trade.status), payload: trade }] : []),
  ];
}
