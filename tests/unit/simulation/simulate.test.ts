import { describe, expect, it } from 'vitest';
import { simulate } from '#shared/simulation/in-memory-pipeline.ts';
import { aBrokerLeg, anImLeg, bodyOf, numbered } from '#tests/factories/trade-legs.ts';

const IM_ID = 'QAINS012-QAINS012-QABRO010-4821937';
const BROKER_ID = 'QABRO010-QAINS012-QABRO010-4821937';

describe('rotor simulate: the whole domain in arrival order', () => {
  it('settles a matched pair end to end: trades, allocations, settlements and a balanced ledger', async () => {
    // Act
    const result = await simulate(numbered([anImLeg(), aBrokerLeg()]));

    // Assess
    expect(result).toEqual({
      trades: { [BROKER_ID]: 'SETTLED', [IM_ID]: 'SETTLED' },
      allocations: {
        [`${BROKER_ID}-1`]: 'SETTLED', [`${BROKER_ID}-2`]: 'SETTLED',
        [`${IM_ID}-1`]: 'SETTLED', [`${IM_ID}-2`]: 'SETTLED',
      },
      settlements: {
        [`${BROKER_ID}-1`]: 'SETTLED', [`${BROKER_ID}-2`]: 'SETTLED',
        [`${IM_ID}-1`]: 'SETTLED', [`${IM_ID}-2`]: 'SETTLED',
      },
      nacks: [],
      // 600 × 12.50 = 7500 + fee 1.50; 400 × 12.50 = 5000 + fee 1.00
      ledger: {
        cash: { '4410293385': '-7501.5', '9023311870': '-5001', 'broker:QABRO010': '12502.5' },
        securities: { '4410293385': { AMZN: 600 }, '9023311870': { AMZN: 400 }, 'broker:QABRO010': { AMZN: -1000 } },
        balanced: true,
      },
    });
  });

  it('turns a malformed line into a NACK with its index and carries on', async () => {
    // Act
    const result = await simulate(numbered(['{not json', anImLeg(), '', aBrokerLeg()]));

    // Assess
    expect(result.nacks.map((n) => [n.index, n.code])).toEqual([
      [0, 'MALFORMED_JSON'],
      [2, 'MALFORMED_JSON'],
    ]);
    expect(result.trades[IM_ID]).toBe('SETTLED');
  });

  it('keeps a third leg for a matched trade from changing anything', async () => {
    // Act
    const result = await simulate(numbered([anImLeg(), aBrokerLeg(), aBrokerLeg({ price: '12.75' })]));

    // Assess
    expect(result.trades).toEqual({ [BROKER_ID]: 'SETTLED', [IM_ID]: 'SETTLED' });
    expect(result.nacks).toEqual([{ index: 2, code: 'CONFLICTING_DUPLICATE', reason: expect.stringContaining(BROKER_ID) }]);
  });

  it('treats an exact duplicate as a no-op: no second settlement, no second posting', async () => {
    // Prepare
    const once = await simulate(numbered([anImLeg(), aBrokerLeg()]));

    // Act
    const twice = await simulate(numbered([anImLeg(), aBrokerLeg(), anImLeg(), aBrokerLeg({ price: '12.5' })]));

    // Assess
    expect(twice).toEqual(once);
  });

  it('NACKs a conflicting duplicate and keeps the first version', async () => {
    // Act
    const result = await simulate(numbered([anImLeg(), anImLeg({ quantity: 900, allocations: [{ allocationID: 1, quantity: 900, account: 'A1' }] })]));

    // Assess
    expect(result.trades).toEqual({ [IM_ID]: 'UNMATCHED' });
    expect(result.nacks).toMatchObject([{ index: 1, code: 'CONFLICTING_DUPLICATE' }]);
  });

  it('matches price 12.5 against 12.50', async () => {
    // Act
    const result = await simulate(numbered([anImLeg({ price: '12.5' }), aBrokerLeg({ price: '12.50' })]));

    // Assess
    expect(Object.values(result.trades)).toEqual(['SETTLED', 'SETTLED']);
  });

  it('leaves both legs UNMATCHED when their trade dates differ', async () => {
    // Act
    const result = await simulate(numbered([anImLeg(), aBrokerLeg({ tradeDate: '2026-11-22' })]));

    // Assess
    expect(result.trades).toEqual({ [BROKER_ID]: 'UNMATCHED', [IM_ID]: 'UNMATCHED' });
    expect(result.settlements).toEqual({});
    expect(result.ledger).toEqual({ cash: {}, securities: {}, balanced: true });
  });

  it('NACKs allocations that sum to one more than the block quantity', async () => {
    // Act
    const result = await simulate(numbered([anImLeg({ quantity: 999 })]));

    // Assess
    expect(result.nacks).toMatchObject([{ index: 0, code: 'ALLOCATION_SUM_MISMATCH' }]);
    expect(result.trades).toEqual({});
  });

  it('leaves a buy leg and a sell leg for the same trade UNMATCHED', async () => {
    // Act
    const result = await simulate(numbered([anImLeg({ transactionIndicator: 'B' }), aBrokerLeg({ transactionIndicator: 'S' })]));

    // Assess
    expect(result.trades).toEqual({ [BROKER_ID]: 'UNMATCHED', [IM_ID]: 'UNMATCHED' });
  });

  it('mismatches both legs when the economics differ, with no settlements', async () => {
    // Act
    const result = await simulate(numbered([anImLeg(), aBrokerLeg({ security: 'AAPL' })]));

    // Assess
    expect(result.trades).toEqual({ [BROKER_ID]: 'MISMATCHED', [IM_ID]: 'MISMATCHED' });
    expect(result.allocations[`${IM_ID}-1`]).toBe('UNSETTLED');
    expect(result.settlements).toEqual({});
  });

  it('keeps a matched trade MATCHED when an allocation’s account differs, and posts only the settled one', async () => {
    // Prepare
    const brokerAllocations = [
      { allocationID: 1, quantity: 600, account: '4410293385' },
      { allocationID: 2, quantity: 400, account: '0000000000' },
    ];

    // Act
    const result = await simulate(numbered([anImLeg(), aBrokerLeg({ allocations: brokerAllocations })]));

    // Assess
    expect(result.trades).toEqual({ [BROKER_ID]: 'MATCHED', [IM_ID]: 'MATCHED' });
    expect(result.allocations).toMatchObject({ [`${IM_ID}-1`]: 'SETTLED', [`${IM_ID}-2`]: 'MISMATCHED' });
    expect(result.settlements).toMatchObject({ [`${BROKER_ID}-2`]: 'MISMATCHED', [`${IM_ID}-2`]: 'MISMATCHED' });
    expect(result.ledger.securities).toEqual({ '4410293385': { AMZN: 600 }, 'broker:QABRO010': { AMZN: -600 } });
  });

  it('applies the configured fee', async () => {
    // Act
    const result = await simulate(numbered([anImLeg(), aBrokerLeg()]), { feeBps: 0 });

    // Assess
    expect(result.ledger.cash['broker:QABRO010']).toBe('12500');
  });

  it('accepts bodies from an async source, as it reads files and standard input', async () => {
    // Prepare
    async function* lines() {
      yield { index: 0, body: bodyOf(anImLeg()) };
      yield { index: 1, body: bodyOf(aBrokerLeg()) };
    }

    // Act
    const result = await simulate(lines());

    // Assess
    expect(result.trades[IM_ID]).toBe('SETTLED');
  });
});
