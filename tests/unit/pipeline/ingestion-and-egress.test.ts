import { describe, expect, it } from 'vitest';
import { settlementEgress, tradeMatchingEgress } from '#domain/egress.ts';
import { ingestSettlementMessage, ingestTradeMatchingMessage } from '#domain/ingestion.ts';
import { Settlement } from '#domain/settlement.ts';
import { newTradeRecord } from '#domain/trade-matching.ts';
import { inboundRecordOf } from '#shared/pipeline/inbound-gateway.ts';
import { MessageId, partitionKeyOfBody } from '#shared/pipeline/message-id.ts';
import { aBrokerLeg, anImLeg, aRawLeg, bodyOf } from '#tests/factories/trade-legs.ts';

const RECEIVED = new Date('2026-11-23T10:00:00.000Z');
const inbound = (queue: string, body: string) => inboundRecordOf({ queue, body }, RECEIVED);

describe('message ids', () => {
  it('are the same for the same body on the same queue, whatever the region prefix, and differ for other content', () => {
    // Prepare
    const body = bodyOf(anImLeg());

    // Act
    const plain = MessageId.of('tm.trades', body);
    const prefixed = MessageId.of('us-east-1.tm.trades', body);
    const other = MessageId.of('tm.trades', bodyOf(anImLeg({ price: '12.51' })));

    // Assess
    expect(plain).toBe(prefixed);
    expect(plain).toMatch(/^msg:QAINS012-QAINS012-QABRO010-4821937:[0-9a-f]{32}$/);
    expect(other).not.toBe(plain);
    expect(MessageId.of('tm.trades', '{not json')).toMatch(/^msg:[0-9a-f]{32}$/);
    expect(MessageId.tradeIdOf(plain)).toBe('QAINS012-QAINS012-QABRO010-4821937');
    expect(MessageId.tradeIdOf(MessageId.of('sm.settlements', JSON.stringify({ ...anImLeg(), allocationID: 2 })))).toBe('QAINS012-QAINS012-QABRO010-4821937');
    expect(MessageId.tradeIdOf(MessageId.of('tm.trades', '{not json'))).toBeUndefined();
  });

  it('partition both legs of a trade onto one key, and each allocation of a settlement onto its own', () => {
    // Act / Assess
    expect(partitionKeyOfBody('trade-matching', bodyOf(anImLeg()), 'x')).toBe(partitionKeyOfBody('trade-matching', bodyOf(aBrokerLeg()), 'y'));
    expect(partitionKeyOfBody('settlement', JSON.stringify({ ...anImLeg(), allocationID: 2 }), 'x')).toBe('QAINS012|QABRO010|4821937|2');
    expect(partitionKeyOfBody('trade-matching', 'garbage', 'fallback')).toBe('fallback');
  });
});

describe('ingestion', () => {
  it('accepts a valid leg for matching under its message id', () => {
    // Prepare
    const message = inbound('tm.trades', bodyOf(anImLeg()));

    // Act
    const decision = ingestTradeMatchingMessage(message);

    // Assess
    expect(decision).toMatchObject({ status: 'ACCEPTED', record: { kind: 'trade-leg', id: message.id, leg: anImLeg() } });
  });

  it.each([
    ['MALFORMED_JSON', '{"senderID":'],
    ['MISSING_FIELD', bodyOf(aRawLeg({}, ['price']))],
    ['SENDER_NOT_PARTY', bodyOf(anImLeg({ senderID: 'SOMEONE' }))],
  ])('answers %s with a NACK naming the problem', (code, body) => {
    // Act
    const decision = ingestTradeMatchingMessage(inbound('tm.trades', body));

    // Assess
    expect(decision).toMatchObject({ status: 'NACKED', nack: { code } });
  });

  it('rejects an oversized message from the head the gateway forwarded', () => {
    // Prepare
    const message = inbound('tm.trades', bodyOf({ ...anImLeg(), deliveryInstructions: 'x'.repeat(300 * 1024) }));

    // Act
    const decision = ingestTradeMatchingMessage(message);

    // Assess
    expect(message.truncated).toBe(true);
    expect(message.body.length).toBeLessThanOrEqual(1024);
    expect(decision).toMatchObject({ status: 'NACKED', nack: { code: 'OVERSIZED' } });
  });

  it('takes settlement results and settlement NACKs off tm.settlements', () => {
    // Prepare
    const result = { type: 'settlement-result', settlementId: 'QAINS012-QAINS012-QABRO010-4821937-1', senderID: 'QAINS012', imID: 'QAINS012', brokerID: 'QABRO010', tradeID: '4821937', allocationID: 1, status: 'SETTLED' };
    const nack = { type: 'settlement-nack', messageId: 'msg:abc', code: 'INVALID_FIELD', reason: 'account is wrong', tradeId: 'QAINS012-QAINS012-QABRO010-4821937' };

    // Act
    const accepted = ingestTradeMatchingMessage(inbound('us-west-2.tm.settlements', JSON.stringify(result)));
    const rejected = ingestTradeMatchingMessage(inbound('tm.settlements', JSON.stringify(nack)));

    // Assess
    expect(accepted).toMatchObject({ status: 'ACCEPTED', record: { kind: 'settlement-result', result } });
    expect(rejected).toEqual({ status: 'NACKED', nack: { code: 'INVALID_FIELD', reason: 'account is wrong', tradeId: nack.tradeId } });
  });

  it('validates settlements strictly in the settlement app', () => {
    // Prepare
    const [settlement] = Settlement.fromMatchedTrade({ ...newTradeRecord(anImLeg()), status: 'MATCHED' });

    // Act
    const accepted = ingestSettlementMessage(inbound('sm.settlements', JSON.stringify(settlement)));
    const unknownField = ingestSettlementMessage(inbound('sm.settlements', JSON.stringify({ ...settlement, extra: 1 })));

    // Assess
    expect(accepted).toMatchObject({ status: 'ACCEPTED', record: { kind: 'settlement', settlement } });
    expect(unknownField).toMatchObject({ status: 'NACKED', nack: { code: 'INVALID_FIELD', field: 'extra' } });
  });
});

describe('egress', () => {
  const matched = { ...newTradeRecord(anImLeg()), status: 'MATCHED' as const };
  const event = (eventType: string, payload: unknown) => ({ kind: 'event' as const, id: `${eventType}:x`, outboxId: '7', eventType, aggregateId: matched.id, payload });

  it('answers a MATCHED leg and sends one settlement per allocation', () => {
    // Act
    const messages = tradeMatchingEgress(event('trade.matched', matched));

    // Assess
    expect(messages.map((message) => [message.id, message.destination])).toEqual([
      [`response:${matched.id}:MATCHED`, 'RESPONSE_QUEUE'],
      [`settlement:${matched.id}-1`, 'SETTLEMENT_QUEUE'],
      [`settlement:${matched.id}-2`, 'SETTLEMENT_QUEUE'],
    ]);
    expect(JSON.parse(messages[1]!.body)).toMatchObject({ allocationID: 1, quantity: 600, account: '4410293385' });
  });

  it('answers an unmatched leg only with its status, and a rejection with a NACK under the message id', () => {
    // Act
    const unmatched = tradeMatchingEgress(event('trade.unmatched', newTradeRecord(anImLeg())));
    const rejected = tradeMatchingEgress(event('trade.rejected', { code: 'CONFLICTING_DUPLICATE', reason: 'differs', tradeId: matched.id, messageId: 'msg:m1' }));

    // Assess
    expect(unmatched.map((message) => message.id)).toEqual([`response:${matched.id}:UNMATCHED`]);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.id).toBe('nack:msg:m1');
    expect(JSON.parse(rejected[0]!.body)).toEqual({ type: 'nack', messageId: 'msg:m1', code: 'CONFLICTING_DUPLICATE', reason: 'differs', tradeId: matched.id });
  });

  it('sends a settled settlement back to trade matching and nothing for one still waiting', () => {
    // Prepare
    const [settlement] = Settlement.fromMatchedTrade(matched);
    const record = { id: Settlement.id(settlement!), settlement: settlement!, status: 'SETTLED' as const };

    // Act
    const settled = settlementEgress(event('settlement.settled', record));
    const waiting = settlementEgress(event('settlement.unmatched', { ...record, status: 'UNMATCHED' }));

    // Assess
    expect(settled.map((message) => [message.id, message.destination])).toEqual([[`result:${record.id}:SETTLED`, 'SETTLEMENT_RESULT_QUEUE']]);
    expect(JSON.parse(settled[0]!.body)).toMatchObject({ type: 'settlement-result', allocationID: 1, status: 'SETTLED' });
    expect(waiting).toEqual([]);
  });
});
