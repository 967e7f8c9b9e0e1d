import { describe, expect, it } from 'vitest';
import { TradeLeg } from '#domain/trade-leg.ts';
import { matchTradeLeg, newTradeRecord } from '#domain/trade-matching.ts';
import { InMemoryTradeRepository } from '#shared/adapters/memory/in-memory-stores.ts';
import { aBrokerLeg, anImLeg } from '#tests/factories/trade-legs.ts';

const statusOf = async (trades: InMemoryTradeRepository, leg: TradeLeg) => (await trades.get(TradeLeg.id(leg)))?.status;

describe('trade matching (DESIGN §3.3)', () => {
  it('stores a first leg UNMATCHED to wait for its counterpart (rule 4)', async () => {
    // Prepare
    const trades = new InMemoryTradeRepository();

    // Act
    const outcome = await matchTradeLeg(anImLeg(), trades);

    // Assess
    expect(outcome.kind).toBe('unmatched');
    expect(await statusOf(trades, anImLeg())).toBe('UNMATCHED');
    expect((await trades.get(TradeLeg.id(anImLeg())))?.allocations).toEqual({ '1': 'UNSETTLED', '2': 'UNSETTLED' });
  });

  it('matches both legs when security, price and quantity agree (rule 2)', async () => {
    // Prepare
    const trades = new InMemoryTradeRepository();
    await matchTradeLeg(anImLeg(), trades);

    // Act
    const outcome = await matchTradeLeg(aBrokerLeg(), trades);

    // Assess
    expect(outcome).toMatchObject({ kind: 'matched', trade: { status: 'MATCHED' }, counterpart: { status: 'MATCHED' } });
    expect(await statusOf(trades, anImLeg())).toBe('MATCHED');
    expect(await statusOf(trades, aBrokerLeg())).toBe('MATCHED');
  });

  it('compares prices as decimals: 12.5 matches 12.50', async () => {
    // Prepare
    const trades = new InMemoryTradeRepository();
    await matchTradeLeg(anImLeg({ price: '12.5' }), trades);

    // Act
    const outcome = await matchTradeLeg(aBrokerLeg({ price: '12.50' }), trades);

    // Assess
    expect(outcome.kind).toBe('matched');
  });

  it.each([
    ['security', { security: 'AAPL' }],
    ['price', { price: '12.51' }],
    ['quantity', { quantity: 1001, allocations: [{ allocationID: 1, quantity: 1001, account: '4410293385' }] }],
  ])('mismatches both legs when %s differs (rule 3)', async (_field, difference) => {
    // Prepare
    const trades = new InMemoryTradeRepository();
    await matchTradeLeg(anImLeg(), trades);

    // Act
    const outcome = await matchTradeLeg(aBrokerLeg(difference), trades);

    // Assess
    expect(outcome.kind).toBe('mismatched');
    expect(await statusOf(trades, anImLeg())).toBe('MISMATCHED');
    expect(await statusOf(trades, aBrokerLeg())).toBe('MISMATCHED');
  });

  it('does not compare allocations when matching trades (they are compared at settlement)', async () => {
    // Prepare
    const trades = new InMemoryTradeRepository();
    await matchTradeLeg(anImLeg(), trades);

    // Act
    const outcome = await matchTradeLeg(aBrokerLeg({ allocations: [{ allocationID: 1, quantity: 1000, account: 'X1' }] }), trades);

    // Assess
    expect(outcome.kind).toBe('matched');
  });

  it.each([
    ['tradeDate', { tradeDate: '2026-11-20' }],
    ['settlementDate', { settlementDate: '2026-11-25' }],
    ['transactionIndicator (a buy leg and a sell leg)', { transactionIndicator: 'S' as const }],
  ])('leaves both legs UNMATCHED when %s differs: they are not the same trade (rule 1)', async (_field, difference) => {
    // Prepare
    const trades = new InMemoryTradeRepository();
    await matchTradeLeg(anImLeg(), trades);

    // Act
    const outcome = await matchTradeLeg(aBrokerLeg(difference), trades);

    // Assess
    expect(outcome.kind).toBe('unmatched');
    expect(await statusOf(trades, anImLeg())).toBe('UNMATCHED');
    expect(await statusOf(trades, aBrokerLeg())).toBe('UNMATCHED');
  });

  it('never pairs two legs from the same sender', async () => {
    // Prepare
    const trades = new InMemoryTradeRepository();
    await matchTradeLeg(anImLeg(), trades);

    // Act: the same party sends the trade again under another tradeID; it has no counterpart
    const outcome = await matchTradeLeg(anImLeg({ tradeID: '4821938' }), trades);

    // Assess
    expect(outcome.kind).toBe('unmatched');
  });

  it('treats an exact duplicate as a no-op, even with the price written differently', async () => {
    // Prepare
    const trades = new InMemoryTradeRepository();
    await matchTradeLeg(anImLeg(), trades);
    await matchTradeLeg(aBrokerLeg(), trades);

    // Act
    const outcome = await matchTradeLeg(anImLeg({ price: '12.500' }), trades);

    // Assess
    expect(outcome.kind).toBe('duplicate');
    expect(await statusOf(trades, anImLeg())).toBe('MATCHED');
    expect(trades.all()).toHaveLength(2);
  });

  it('NACKs the same id with different content as CONFLICTING_DUPLICATE and keeps the first version', async () => {
    // Prepare
    const trades = new InMemoryTradeRepository();
    await matchTradeLeg(anImLeg(), trades);

    // Act
    const outcome = await matchTradeLeg(anImLeg({ deliveryInstructions: 'DTC 9999' }), trades);

    // Assess
    expect(outcome).toMatchObject({ kind: 'conflict', nack: { code: 'CONFLICTING_DUPLICATE', tradeId: TradeLeg.id(anImLeg()) } });
    expect((await trades.get(TradeLeg.id(anImLeg())))?.leg.deliveryInstructions).toBe('DTC 0123');
  });

  it('never matches a third leg for a matched trade: it can only repeat one of the two ids', async () => {
    // Prepare: a trade has two ids only (the sender is one of its two parties)
    const trades = new InMemoryTradeRepository();
    await matchTradeLeg(anImLeg(), trades);
    await matchTradeLeg(aBrokerLeg(), trades);

    // Act
    const exactThird = await matchTradeLeg(aBrokerLeg(), trades);
    const differentThird = await matchTradeLeg(aBrokerLeg({ price: '13' }), trades);

    // Assess
    expect(exactThird.kind).toBe('duplicate');
    expect(differentThird).toMatchObject({ kind: 'conflict', nack: { code: 'CONFLICTING_DUPLICATE' } });
    expect(trades.all().map((t) => t.status)).toEqual(['MATCHED', 'MATCHED']);
  });

  it('leaves a leg UNMATCHED when its only counterpart is already MATCHED (rule 4), e.g. after a failover lost its partner', async () => {
    // Prepare: the broker's leg is MATCHED but the IM leg it matched is not in this store
    const trades = new InMemoryTradeRepository();
    await trades.insert(newTradeRecord(aBrokerLeg(), 'MATCHED'));

    // Act
    const outcome = await matchTradeLeg(anImLeg(), trades);

    // Assess
    expect(outcome.kind).toBe('unmatched');
    expect(await statusOf(trades, anImLeg())).toBe('UNMATCHED');
    expect(await statusOf(trades, aBrokerLeg())).toBe('MATCHED');
  });

  it('leaves a leg UNMATCHED when its only counterpart is already MISMATCHED (rule 4)', async () => {
    // Prepare
    const trades = new InMemoryTradeRepository();
    await trades.insert(newTradeRecord(aBrokerLeg(), 'MISMATCHED'));

    // Act
    const outcome = await matchTradeLeg(anImLeg(), trades);

    // Assess
    expect(outcome.kind).toBe('unmatched');
  });
});
