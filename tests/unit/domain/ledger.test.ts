import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidFeeError, Ledger, LedgerBalances } from '#domain/ledger.ts';
import { Settlement } from '#domain/settlement.ts';
import { newTradeRecord } from '#domain/trade-matching.ts';
import { anImLeg } from '#tests/factories/trade-legs.ts';

const aSettlement = (overrides: Partial<Settlement> = {}): Settlement => ({
  ...Settlement.fromMatchedTrade(newTradeRecord(anImLeg(), 'MATCHED'))[0]!,
  ...overrides,
});

const view = (postings: ReturnType<typeof Ledger.postingsFor>['postings']) =>
  postings.map((p) => (p.kind === 'cash' ? [p.account, 'cash', p.amount.toString()] : [p.account, p.security, p.quantity]));

describe('ledger postings (DESIGN §3.5)', () => {
  it('on a buy, moves the security to the client and amount plus fee to the broker', () => {
    // Act: 600 × 12.50 = 7500; fee 2 bps = 1.50
    const set = Ledger.postingsFor(aSettlement());

    // Assess
    expect(set.pairId).toBe('QAINS012-QABRO010-4821937-1');
    expect(view(set.postings)).toEqual([
      ['4410293385', 'AMZN', 600n],
      ['broker:QABRO010', 'AMZN', -600n],
      ['4410293385', 'cash', '-7501.5'],
      ['broker:QABRO010', 'cash', '7501.5'],
    ]);
    expect(Ledger.isBalanced(set.postings)).toBe(true);
  });

  it('on a sell, moves the security to the broker and the amount to the client; the client still pays the fee', () => {
    // Act
    const set = Ledger.postingsFor(aSettlement({ transactionIndicator: 'S' }));

    // Assess
    expect(view(set.postings)).toEqual([
      ['4410293385', 'AMZN', -600n],
      ['broker:QABRO010', 'AMZN', 600n],
      ['4410293385', 'cash', '7498.5'],
      ['broker:QABRO010', 'cash', '-7498.5'],
    ]);
  });

  it.each([
    ['6.25', 100, 2, '625', '0.12'],
    ['6.75', 100, 2, '675', '0.14'],
    ['0.000001', 1, 2, '0.000001', '0'],
    ['123.456789', 777, 2, '95925.925053', '19.19'],
    ['12.50', 600, 0, '7500', '0'],
    ['12.50', 600, 25, '7500', '18.75'],
  ])('price %s × %i at %i bps: amount %s, fee %s (half-even to cents)', (price, quantity, feeBps, amount, fee) => {
    // Act
    const result = Ledger.amounts(aSettlement({ price, quantity }), feeBps);

    // Assess
    expect(result.amount.toString()).toBe(amount);
    expect(result.fee.toString()).toBe(fee);
  });

  it.each([-1, 1.5, 10_001])('refuses a fee of %s bps', (feeBps) => {
    // Act / Assess
    expect(() => Ledger.amounts(aSettlement(), feeBps)).toThrow(InvalidFeeError);
  });

  it('balances every posting set: cash and each security sum to zero', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 0, max: 6 }),
        fc.constantFrom('B' as const, 'S' as const),
        fc.integer({ min: 0, max: 10_000 }),
        (micros, quantity, decimals, side, feeBps) => {
          // Prepare
          const price = (micros / 10 ** decimals).toFixed(decimals);
          fc.pre(Number(price) > 0);

          // Act
          const set = Ledger.postingsFor(aSettlement({ price, quantity, transactionIndicator: side }), feeBps);

          // Assess
          expect(Ledger.isBalanced(set.postings)).toBe(true);
        },
      ),
    );
  });

  it('detects an unbalanced set', () => {
    // Prepare
    const set = Ledger.postingsFor(aSettlement());

    // Act / Assess
    expect(Ledger.isBalanced(set.postings.slice(1))).toBe(false);
  });

  it('accumulates balances per account and reports them as exact decimals', () => {
    // Prepare
    const balances = new LedgerBalances();

    // Act
    balances.apply(Ledger.postingsFor(aSettlement()));
    balances.apply(Ledger.postingsFor(aSettlement({ allocationID: 2, transactionIndicator: 'S', quantity: 400, price: '0.1' })));

    // Assess: 400 × 0.1 = 40, fee 0.008 → 0.01
    expect(balances.toJSON()).toEqual({
      cash: { '4410293385': '-7461.51', 'broker:QABRO010': '7461.51' },
      securities: { '4410293385': { AMZN: 200 }, 'broker:QABRO010': { AMZN: -200 } },
      balanced: true,
    });
  });
});
