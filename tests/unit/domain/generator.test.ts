import { describe, expect, it } from 'vitest';
import { generateRun, InvalidGeneratorOptionsError } from '#domain/generator.ts';
import { SeededRandom } from '#domain/random.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import { validateTradeLeg } from '#domain/trade-leg-validation.ts';

describe('generator (DESIGN §3.6)', () => {
  it('gives the same legs, order and truth for the same seed, and different ones for another seed', () => {
    // Act
    const first = generateRun({ pairs: 50, seed: 7 });
    const again = generateRun({ pairs: 50, seed: 7 });
    const other = generateRun({ pairs: 50, seed: 8 });

    // Assess
    expect(again).toEqual(first);
    expect(other.legs.map((l) => l.leg)).not.toEqual(first.legs.map((l) => l.leg));
  });

  it('pins the sequence of the seeded PRNG, so data is the same on every machine', () => {
    // Prepare
    const random = new SeededRandom(1);

    // Act
    const draws = Array.from({ length: 4 }, () => random.nextUint32());

    // Assess: changing these numbers changes every generated data set and its ground truth
    expect(draws).toEqual([1828152527, 3394835397, 2967886022, 2251045104]);
  });

  it('splits 1,000 pairs one third each by default, two legs per pair, every id unique', () => {
    // Act
    const run = generateRun({ pairs: 1000, seed: 1 });

    // Assess
    const kinds = Object.values(run.truth.legs).map((t) => t.kind);
    expect(run.legs).toHaveLength(2000);
    expect(kinds.filter((k) => k === 'matched')).toHaveLength(668);
    expect(kinds.filter((k) => k === 'mismatched')).toHaveLength(666);
    expect(kinds.filter((k) => k === 'unmatched')).toHaveLength(666);
    expect(new Set(run.legs.map(({ leg }) => TradeLeg.id(leg))).size).toBe(2000);
  });

  it('honours a custom mix exactly', () => {
    // Act
    const run = generateRun({ pairs: 10, seed: 3, mix: { matched: 1, mismatched: 0, unmatched: 1 } });

    // Assess
    const kinds = Object.values(run.truth.legs).map((t) => t.kind);
    expect(kinds.filter((k) => k === 'matched')).toHaveLength(10);
    expect(kinds.filter((k) => k === 'unmatched')).toHaveLength(10);
  });

  it('produces only valid legs with 1 to 10 allocations', () => {
    // Act
    const run = generateRun({ pairs: 300, seed: 11 });

    // Assess
    for (const { leg } of run.legs) {
      expect(validateTradeLeg(JSON.parse(JSON.stringify(leg)))).toEqual({ ok: true, leg });
      expect(leg.allocations.length).toBeGreaterThanOrEqual(1);
      expect(leg.allocations.length).toBeLessThanOrEqual(10);
    }
  });

  it('makes mismatched pairs really differ in security, price or quantity, and unmatched pairs differ in tradeID', () => {
    // Prepare
    const run = generateRun({ pairs: 300, seed: 5 });
    const byPartitionKey = new Map<string, TradeLeg[]>();
    for (const { leg } of run.legs) {
      const key = `${leg.imID}|${leg.brokerID}|${leg.tradeID.replace(/X$/, '')}`;
      byPartitionKey.set(key, [...(byPartitionKey.get(key) ?? []), leg]);
    }

    // Act / Assess
    for (const [im, broker] of byPartitionKey.values()) {
      const kind = run.truth.legs[TradeLeg.id(im!)]!.kind;
      if (kind === 'mismatched') expect(TradeLeg.economicsAgree(im!, broker!)).toBe(false);
      if (kind === 'matched') expect(TradeLeg.economicsAgree(im!, broker!)).toBe(true);
      if (kind === 'unmatched') expect(im!.tradeID).not.toBe(broker!.tradeID);
    }
  });

  it('spaces legs by the requested rate', () => {
    // Act
    const run = generateRun({ pairs: 5, seed: 1, rate: 4 });

    // Assess
    expect(run.legs.map((l) => l.offsetMs)).toEqual([0, 250, 500, 750, 1000, 1250, 1500, 1750, 2000, 2250]);
  });

  it.each([
    [{ pairs: -1, seed: 1 }],
    [{ pairs: 1.5, seed: 1 }],
    [{ pairs: 1, seed: -1 }],
    [{ pairs: 1, seed: 2 ** 32 }],
    [{ pairs: 1, seed: 1, rate: 0 }],
    [{ pairs: 1, seed: 1, mix: { matched: 0, mismatched: 0, unmatched: 0 } }],
  ])('refuses options %j', (options) => {
    // Act / Assess
    expect(() => generateRun(options)).toThrow(InvalidGeneratorOptionsError);
  });
});
