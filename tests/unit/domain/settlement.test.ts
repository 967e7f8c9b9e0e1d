import { describe, expect, it } from 'vitest';
import { pairSettlement, Settlement, SettlementOfUnmatchedTradeError } from '#domain/settlement.ts';
import { newTradeRecord } from '#domain/trade-matching.ts';
import { InMemorySettlementRepository } from '#shared/adapters/memory/in-memory-stores.ts';
import { aBrokerLeg, anImLeg } from '#tests/factories/trade-legs.ts';

const settlementsOf = (leg = anImLeg()) => Settlement.fromMatchedTrade(newTradeRecord(leg, 'MATCHED'));

describe('settlements (DESIGN §3.4)', () => {
  it('makes one settlement per allocation of a MATCHED leg, with the trade fields and the allocation quantity', () => {
    // Act
    const settlements = settlementsOf();

    // Assess
    expect(settlements).toHaveLength(2);
    expect(settlements[0]).toEqual({
      senderID: 'QAINS012', imID: 'QAINS012', brokerID: 'QABRO010', tradeID: '4821937', security: 'AMZN',
      transactionIndicator: 'B', price: '12.50', tradeDate: '2026-11-23', settlementDate: '2026-11-24',
      deliveryInstructions: 'DTC 0123', allocationID: 1, quantity: 600, account: '4410293385',
    });
    expect(settlements.map((s) => Settlement.id(s))).toEqual([
      'QAINS012-QAINS012-QABRO010-4821937-1',
      'QAINS012-QAINS012-QABRO010-4821937-2',
    ]);
    expect(Settlement.pairId(settlements[1]!)).toBe('QAINS012-QABRO010-4821937-2');
    expect(settlements.every((s) => Settlement.schema.safeParse(s).success)).toBe(true);
  });

  it.each(['UNMATCHED', 'MISMATCHED'] as const)('refuses to settle a %s leg', (status) => {
    // Act / Assess
    expect(() => Settlement.fromMatchedTrade(newTradeRecord(anImLeg(), status))).toThrow(SettlementOfUnmatchedTradeError);
  });

  it('pairs the two legs’ settlements of an allocation as SETTLED when every field agrees', async () => {
    // Prepare
    const store = new InMemorySettlementRepository();
    const [imFirst] = settlementsOf(anImLeg());
    const [brokerFirst] = settlementsOf(aBrokerLeg({ price: '12.5' }));

    // Act
    const waiting = await pairSettlement(imFirst!, store);
    const paired = await pairSettlement(brokerFirst!, store);

    // Assess
    expect(waiting.kind).toBe('unmatched');
    expect(paired).toMatchObject({ kind: 'settled', record: { status: 'SETTLED' }, counterpart: { status: 'SETTLED' } });
    expect(store.all().map((s) => s.status)).toEqual(['SETTLED', 'SETTLED']);
  });

  it.each([
    ['quantity', { quantity: 599 }],
    ['account', { account: '1111111111' }],
    ['security', { security: 'AAPL' }],
    ['price', { price: '12.49' }],
    ['transactionIndicator', { transactionIndicator: 'S' as const }],
    ['tradeDate', { tradeDate: '2026-11-22' }],
    ['settlementDate', { settlementDate: '2026-11-25' }],
  ])('marks both settlements MISMATCHED when %s differs, with no random drops', async (_field, difference) => {
    // Prepare
    const store = new InMemorySettlementRepository();
    const [imFirst] = settlementsOf(anImLeg());
    const [brokerFirst] = settlementsOf(aBrokerLeg());
    await pairSettlement(imFirst!, store);

    // Act
    const paired = await pairSettlement({ ...brokerFirst!, ...difference }, store);

    // Assess
    expect(paired.kind).toBe('mismatched');
    expect(store.all().map((s) => s.status)).toEqual(['MISMATCHED', 'MISMATCHED']);
  });

  it('does not pair settlements of different allocations', async () => {
    // Prepare
    const store = new InMemorySettlementRepository();
    const [imFirst] = settlementsOf(anImLeg());
    const [, brokerSecond] = settlementsOf(aBrokerLeg());
    await pairSettlement(imFirst!, store);

    // Act
    const outcome = await pairSettlement(brokerSecond!, store);

    // Assess
    expect(outcome.kind).toBe('unmatched');
  });

  it('treats a redelivered settlement as a no-op and a changed one as CONFLICTING_DUPLICATE', async () => {
    // Prepare
    const store = new InMemorySettlementRepository();
    const [imFirst] = settlementsOf(anImLeg());
    const [brokerFirst] = settlementsOf(aBrokerLeg());
    await pairSettlement(imFirst!, store);
    await pairSettlement(brokerFirst!, store);

    // Act
    const again = await pairSettlement(brokerFirst!, store);
    const changed = await pairSettlement({ ...brokerFirst!, account: 'OTHER' }, store);

    // Assess
    expect(again.kind).toBe('duplicate');
    expect(changed).toMatchObject({ kind: 'conflict', nack: { code: 'CONFLICTING_DUPLICATE' } });
    expect(store.all().map((s) => s.status)).toEqual(['SETTLED', 'SETTLED']);
  });
});
