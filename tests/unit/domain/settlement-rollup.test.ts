import { describe, expect, it } from 'vitest';
import { applySettlementResult } from '#domain/settlement-rollup.ts';
import { newTradeRecord } from '#domain/trade-matching.ts';
import { anImLeg } from '#tests/factories/trade-legs.ts';

const aMatchedTrade = () => newTradeRecord(anImLeg(), 'MATCHED');

describe('settled-status roll-up (DESIGN §3.4)', () => {
  it('settles an allocation but not the trade while another allocation is open', () => {
    // Act
    const outcome = applySettlementResult(aMatchedTrade(), { allocationID: 1, status: 'SETTLED' });

    // Assess
    expect(outcome).toMatchObject({ kind: 'applied', tradeSettled: false, trade: { status: 'MATCHED' } });
    expect(outcome.trade.allocations).toEqual({ '1': 'SETTLED', '2': 'UNSETTLED' });
  });

  it('settles the trade when its last allocation settles', () => {
    // Prepare
    const half = applySettlementResult(aMatchedTrade(), { allocationID: 1, status: 'SETTLED' }).trade;

    // Act
    const outcome = applySettlementResult(half, { allocationID: 2, status: 'SETTLED' });

    // Assess
    expect(outcome).toMatchObject({ kind: 'applied', tradeSettled: true, trade: { status: 'SETTLED' } });
  });

  it('keeps the trade MATCHED when an allocation is MISMATCHED', () => {
    // Prepare
    const half = applySettlementResult(aMatchedTrade(), { allocationID: 1, status: 'MISMATCHED' }).trade;

    // Act
    const outcome = applySettlementResult(half, { allocationID: 2, status: 'SETTLED' });

    // Assess
    expect(outcome.trade.status).toBe('MATCHED');
    expect(outcome.trade.allocations).toEqual({ '1': 'MISMATCHED', '2': 'SETTLED' });
  });

  it('ignores a repeated result, so a replay changes nothing', () => {
    // Prepare
    const once = applySettlementResult(aMatchedTrade(), { allocationID: 1, status: 'SETTLED' }).trade;

    // Act
    const again = applySettlementResult(once, { allocationID: 1, status: 'SETTLED' });

    // Assess
    expect(again).toEqual({ kind: 'unchanged', trade: once });
  });

  it.each([
    ['a terminal allocation changing status', (t = aMatchedTrade()) => applySettlementResult(applySettlementResult(t, { allocationID: 1, status: 'SETTLED' }).trade, { allocationID: 1, status: 'MISMATCHED' })],
    ['an unknown allocation', () => applySettlementResult(aMatchedTrade(), { allocationID: 9, status: 'SETTLED' })],
    ['a trade that is not MATCHED', () => applySettlementResult(newTradeRecord(anImLeg()), { allocationID: 1, status: 'SETTLED' })],
  ])('refuses %s', (_case, act) => {
    // Act
    const outcome = act();

    // Assess
    expect(outcome.kind).toBe('refused');
  });
});
