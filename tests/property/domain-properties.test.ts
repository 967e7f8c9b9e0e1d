import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateRun } from '#domain/generator.ts';
import type { TradeLeg } from '#domain/trade-leg.ts';
import { checkAgainstTruth } from '#shared/simulation/ground-truth-check.ts';
import { simulate, type SimulationResult } from '#shared/simulation/in-memory-pipeline.ts';
import { aBrokerLeg, anImLeg, bodyOf, numbered } from '#tests/factories/trade-legs.ts';

/** Properties of the rules as a whole, over generated and arbitrary data. */

const generatedRun = fc.record({
  seed: fc.integer({ min: 0, max: 0xffffffff }),
  pairs: fc.integer({ min: 1, max: 25 }),
  mix: fc.record({ matched: fc.nat(3), mismatched: fc.nat(3), unmatched: fc.nat(3) }).filter((m) => m.matched + m.mismatched + m.unmatched > 0),
});

/** Both legs of one trade, differing (or not) in the fields that decide matching and settlement. */
const legPair = fc
  .record({
    security: fc.constantFrom('AMZN', 'AMZN', 'AAPL'),
    price: fc.constantFrom('12.5', '12.50', '12.500000', '12.51'),
    transactionIndicator: fc.constantFrom('B' as const, 'B' as const, 'S' as const),
    tradeDate: fc.constantFrom('2026-11-23', '2026-11-23', '2026-11-20'),
    firstAccount: fc.constantFrom('4410293385', '4410293385', '1234'),
    split: fc.constantFrom(600, 600, 500),
  })
  .map((broker): [TradeLeg, TradeLeg] => [
    anImLeg(),
    aBrokerLeg({
      security: broker.security,
      price: broker.price,
      transactionIndicator: broker.transactionIndicator,
      tradeDate: broker.tradeDate,
      allocations: [
        { allocationID: 1, quantity: broker.split, account: broker.firstAccount },
        { allocationID: 2, quantity: 1000 - broker.split, account: '9023311870' },
      ],
    }),
  ]);

const stateOf = ({ nacks: _nacks, ...state }: SimulationResult) => state;

describe('domain properties', () => {
  it('the arrival order of a trade’s two legs does not change the outcome', async () => {
    await fc.assert(
      fc.asyncProperty(legPair, async ([im, broker]) => {
        // Act
        const imFirst = await simulate(numbered([im, broker]));
        const brokerFirst = await simulate(numbered([broker, im]));

        // Assess
        expect(brokerFirst).toEqual(imFirst);
      }),
      { numRuns: 200 },
    );
  });

  it('any arrival order of a generated run gives the same outcome', async () => {
    await fc.assert(
      fc.asyncProperty(generatedRun, fc.integer(), async (options, shuffleSeed) => {
        // Prepare
        const legs = generateRun(options).legs.map(({ leg }) => leg);
        const reordered = fc.sample(fc.shuffledSubarray(legs, { minLength: legs.length }), { seed: shuffleSeed, numRuns: 1 })[0]!;

        // Act
        const original = await simulate(numbered(legs));
        const shuffled = await simulate(numbered(reordered));

        // Assess
        expect(shuffled).toEqual(original);
      }),
      { numRuns: 40 },
    );
  });

  it('replaying any prefix of the input again changes nothing (idempotence)', async () => {
    const invalid = ['{', bodyOf({ ...anImLeg(), quantity: 1 }), bodyOf(anImLeg({ tradeID: 'T2' })), bodyOf(anImLeg({ tradeID: 'T2', price: '9' }))];
    await fc.assert(
      fc.asyncProperty(generatedRun, fc.nat(), fc.nat(), async (options, prefixSeed, position) => {
        // Prepare: generated legs with invalid and conflicting messages mixed in
        const bodies = generateRun(options).legs.map(({ leg }) => bodyOf(leg));
        bodies.splice(position % (bodies.length + 1), 0, ...invalid);
        const prefix = bodies.slice(0, prefixSeed % (bodies.length + 1));

        // Act
        const once = await simulate(numbered(bodies));
        const replayed = await simulate(numbered([...bodies, ...prefix]));

        // Assess: same state; a replayed message that was rejected is rejected again, nothing else is
        expect(stateOf(replayed)).toEqual(stateOf(once));
        const rejectedInPrefix = once.nacks.filter((n) => n.index < prefix.length).length;
        expect(replayed.nacks.length - once.nacks.length).toBe(rejectedInPrefix);
      }),
      { numRuns: 40 },
    );
  });

  it('simulate agrees with the generator’s ground truth for every leg, with a balanced ledger', async () => {
    await fc.assert(
      fc.asyncProperty(generatedRun, async (options) => {
        // Prepare
        const run = generateRun(options);

        // Act
        const result = await simulate(numbered(run.legs.map(({ leg }) => leg)));

        // Assess
        expect(checkAgainstTruth(result, run.truth).disagreements).toEqual([]);
        expect(result.nacks).toEqual([]);
        expect(result.ledger.balanced).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('the ledger balances whatever mix of matching, mismatching and partly settling pairs arrives', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(legPair, { minLength: 1, maxLength: 8 }), async (pairs) => {
        // Prepare: a distinct trade per pair
        const legs = pairs.flatMap(([im, broker], i) => [
          { ...im, tradeID: `T${i}` },
          { ...broker, tradeID: `T${i}` },
        ]);

        // Act
        const result = await simulate(numbered(legs));

        // Assess
        expect(result.ledger.balanced).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('the ground-truth check really catches a wrong outcome', async () => {
    // Prepare
    const run = generateRun({ pairs: 30, seed: 9 });
    const result = await simulate(numbered(run.legs.map(({ leg }) => leg)));
    const [settledTrade] = Object.entries(result.trades).find(([, status]) => status === 'SETTLED')!;

    // Act
    const check = checkAgainstTruth({ ...result, trades: { ...result.trades, [settledTrade]: 'MATCHED' } }, run.truth);

    // Assess
    expect(check.agreeing).toBe(59);
    expect(check.disagreements).toHaveLength(1);
  });
});
