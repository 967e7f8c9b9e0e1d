import {
  type EgressInput,
  type NackRecord,
  type OutboundRecord,
  OutboundId,
  type ResponseBody,
  type SettlementNackBody,
  type SettlementResultBody,
} from './pipeline-messages.ts';
import type { Nack } from './nack.ts';
import { Settlement, type SettlementRecord } from './settlement.ts';
import type { TradeRecord } from './trade-matching.ts';

/**
 * Egress (DESIGN §2, §3.4): what each app sends out for a change matching recorded or a message ingestion
 * rejected. Trade matching answers every trade status on the response queue and sends one settlement per allocation
 * of each MATCHED leg to the settlement app; the settlement app sends every settled or mismatched settlement's
 * outcome back. Pure: the same input always yields the same messages under the same ids.
 */

type RejectionPayload = Nack & { messageId?: string };

const outbound = (id: string, destination: OutboundRecord['destination'], body: object, tradeId?: string): OutboundRecord => ({
  kind: 'outbound',
  id,
  destination,
  body: JSON.stringify(body),
  ...(tradeId === undefined ? {} : { tradeId }),
});

function nackResponse(messageId: string, nack: Nack): ResponseBody {
  return { type: 'nack', messageId, ...nack };
}

const rejectionOf = (input: EgressInput): { messageId: string; nack: Nack } | undefined => {
  if (input.kind === 'nack') return { messageId: (input as NackRecord).messageId, nack: input.nack };
  if (!input.eventType.endsWith('.rejected')) return undefined;
  const { messageId, ...nack } = input.payload as RejectionPayload;
  return { messageId: messageId ?? input.id, nack };
};

export function tradeMatchingEgress(input: EgressInput): OutboundRecord[] {
  const rejection = rejectionOf(input);
  if (rejection) {
    return [outbound(OutboundId.nack(rejection.messageId), 'RESPONSE_QUEUE', nackResponse(rejection.messageId, rejection.nack), rejection.nack.tradeId)];
  }
  if (input.kind !== 'event') return [];
  if (input.eventType.startsWith('trade.allocation.')) {
    const { trade, allocationID, status } = input.payload as { trade: TradeRecord; allocationID: number; status: string };
    if (status !== 'MISMATCHED') return [];
    const settlementId = `${trade.id}-${allocationID}`;
    return [outbound(OutboundId.allocation(settlementId, status), 'RESPONSE_QUEUE', { type: 'allocation-status', tradeId: trade.id, allocationID, status }, trade.id)];
  }
  if (!input.eventType.startsWith('trade.')) return [];
  const trade = input.payload as TradeRecord;
  const response = outbound(
    OutboundId.response(trade.id, trade.status),
    'RESPONSE_QUEUE',
    { type: 'trade-status', tradeId: trade.id, status: trade.status, allocations: trade.allocations },
    trade.id,
  );
  if (trade.status !== 'MATCHED') return [response];
  const settlements = Settlement.fromMatchedTrade(trade).map((settlement) =>
    outbound(OutboundId.settlement(Settlement.id(settlement)), 'SETTLEMENT_QUEUE', settlement, trade.id),
  );
  return [response, ...settlements];
}

export function settlementEgress(input: EgressInput): OutboundRecord[] {
  const rejection = rejectionOf(input);
  if (rejection) {
    const body: SettlementNackBody = { type: 'settlement-nack', messageId: rejection.messageId, ...rejection.nack };
    return [outbound(OutboundId.nack(rejection.messageId), 'SETTLEMENT_RESULT_QUEUE', body, rejection.nack.tradeId)];
  }
  if (input.kind !== 'event' || !input.eventType.startsWith('settlement.')) return [];
  const record = input.payload as SettlementRecord;
  if (record.status === 'UNMATCHED') return [];
  const { settlement } = record;
  const body: SettlementResultBody = {
    type: 'settlement-result',
    settlementId: record.id,
    senderID: settlement.senderID,
    imID: settlement.imID,
    brokerID: settlement.brokerID,
    tradeID: settlement.tradeID,
    allocationID: settlement.allocationID,
    status: record.status,
  };
  const tradeId = `${settlement.senderID}-${settlement.imID}-${settlement.brokerID}-${settlement.tradeID}`;
  return [outbound(OutboundId.result(record.id, record.status), 'SETTLEMENT_RESULT_QUEUE', body, tradeId)];
}
