import { describe, expect, it } from 'vitest';
import type { TradeLeg } from '#domain/trade-leg.ts';
import { validateTradeLegMessage } from '#domain/trade-leg-validation.ts';
import { allocationInstructionOf, legBody, legOfAllocationInstruction, outcomeAck, receivedAck, rejectedAck } from '#shared/fix/allocation-instruction.ts';
import { decodeFix, encodeFix, FixMessage } from '#shared/fix/codec.ts';

const leg: TradeLeg = {
  senderID: 'QABRO010', imID: 'QAINS012', brokerID: 'QABRO010', tradeID: '4821937', security: 'AMZN', transactionIndicator: 'B',
  price: '12.50', quantity: 1000, tradeDate: '2026-11-23', settlementDate: '2026-11-24', deliveryInstructions: 'DTC 0123',
  allocations: [{ allocationID: 1, quantity: 600, account: '4410293385' }, { allocationID: 2, quantity: 400, account: '9023311870' }],
};

/** The message as it arrives: encoded and decoded, so the test reads what the wire carries. */
const onTheWire = (message: FixMessage) => decodeFix(encodeFix(message)).message;
const replaced = (message: FixMessage, tag: number, value: string) => new FixMessage(message.fields.map(([t, v]) => [t, t === tag ? value : v] as const));
const without = (message: FixMessage, tag: number) => new FixMessage(message.fields.filter(([t]) => t !== tag));

describe('AllocationInstruction ⇄ trade leg', () => {
  it('maps every tag of the contract to the leg, the price as the exact text sent', () => {
    // Prepare
    const message = onTheWire(allocationInstructionOf(leg, 'ALLOC-1'));

    // Act
    const mapped = legOfAllocationInstruction(message, 'QABRO010');

    // Assess
    expect(mapped).toMatchObject({ ok: true, allocId: 'ALLOC-1', leg });
    if (!mapped.ok) throw new Error('unreachable');
    expect(JSON.parse(mapped.body)).toEqual(leg);
    expect(validateTradeLegMessage(mapped.body)).toEqual({ ok: true, leg });
  });

  it('reads NoExecs in FIX 4.4 form (LastQty first, as QuickFIX sends it) and as ExecID alone', () => {
    // Prepare: the standard form this client sends, and the same message with LastQty(32) left out.
    const standard = onTheWire(allocationInstructionOf(leg, 'ALLOC-2'));
    const bare = without(standard, 32);
    const noExecId = without(standard, 17);

    // Act
    const mapped = [standard, bare].map((message) => legOfAllocationInstruction(message, 'QABRO010'));
    const refused = legOfAllocationInstruction(noExecId, 'QABRO010');

    // Assess
    expect(standard.fields.map(([tag]) => tag).join(',')).toContain('124,32,17');
    for (const each of mapped) expect(each).toMatchObject({ ok: true, leg: { tradeID: '4821937' } });
    expect(refused).toMatchObject({ ok: false, nack: { code: 'INVALID_FIELD', field: 'tradeID' } });
  });

  it('gives the same body bytes for the same leg, whatever order the allocations arrived in', () => {
    // Act
    const first = legBody(leg);
    const again = legBody({ ...leg });

    // Assess
    expect(first).toBe(again);
    expect(first.startsWith('{"senderID":"QABRO010","imID":"QAINS012","brokerID":"QABRO010","tradeID":"4821937"')).toBe(true);
  });

  it.each([
    ['a sender that is neither party', (m: FixMessage) => m, 'QAOTHER1', 'SENDER_NOT_PARTY'],
    ['allocations not summing to the block', (m: FixMessage) => replaced(m, 53, '999'), 'QABRO010', 'ALLOCATION_SUM_MISMATCH'],
    ['settlement before trade', (m: FixMessage) => replaced(m, 64, '20261122'), 'QABRO010', 'SETTLEMENT_BEFORE_TRADE'],
    ['a missing Symbol', (m: FixMessage) => without(m, 55), 'QABRO010', 'MISSING_FIELD'],
    ['a fractional quantity', (m: FixMessage) => replaced(m, 53, '1000.5'), 'QABRO010', 'INVALID_FIELD'],
    ['an unknown side', (m: FixMessage) => replaced(m, 54, '7'), 'QABRO010', 'INVALID_FIELD'],
    ['a price with seven decimals', (m: FixMessage) => replaced(m, 6, '12.1234567'), 'QABRO010', 'INVALID_FIELD'],
    ['a trade date that is not a date', (m: FixMessage) => replaced(m, 75, '20261341'), 'QABRO010', 'INVALID_FIELD'],
    ['AllocTransType Replace', (m: FixMessage) => replaced(m, 71, '1'), 'QABRO010', 'INVALID_FIELD'],
    ['a party id source other than D', (m: FixMessage) => replaced(m, 447, 'C'), 'QABRO010', 'INVALID_FIELD'],
  ])('refuses %s with the pipeline NACK code', (_case, change, senderParty, code) => {
    // Prepare
    const message = onTheWire(change(allocationInstructionOf(leg, 'ALLOC-2')));

    // Act
    const mapped = legOfAllocationInstruction(message, senderParty);

    // Assess
    expect(mapped.ok).toBe(false);
    if (mapped.ok) throw new Error('unreachable');
    expect(mapped.nack.code).toBe(code);
    expect(mapped.allocId).toBe('ALLOC-2');
  });

  it('writes acks and outcomes as the contract says', () => {
    // Prepare
    const now = new Date('2026-12-07T10:00:00Z');

    // Act
    const received = receivedAck('A1', now);
    const rejected = rejectedAck('A2', { code: 'SENDER_NOT_PARTY', reason: 'no' }, now);
    const matched = outcomeAck('A1', 'MATCHED', now);
    const allocation = outcomeAck('A1', 'MISMATCHED', now, 2);

    // Assess
    expect(received.toString()).toBe('35=P|70=A1|60=20261207-10:00:00.000|87=3');
    expect(rejected.toString()).toBe('35=P|70=A2|60=20261207-10:00:00.000|87=1|88=7|58=SENDER_NOT_PARTY: no');
    expect([matched.get(87), matched.get(58)]).toEqual(['0', 'MATCHED']);
    expect([allocation.get(87), allocation.get(58)]).toEqual(['1', 'ALLOCATION 2 MISMATCHED']);
  });
});
