import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal, InvalidDecimalError } from '#domain/decimal.ts';

describe('Decimal', () => {
  it.each([
    ['12.50', '12.5'],
    ['12.5', '12.5'],
    ['0012', '12'],
    ['0.000001', '0.000001'],
    ['-3.000', '-3'],
    ['0.0', '0'],
  ])('parses %s exactly and prints it canonically as %s', (text, canonical) => {
    // Act
    const value = Decimal.parse(text);

    // Assess
    expect(value.toString()).toBe(canonical);
  });

  it.each(['1e3', '12,5', '.5', '5.', ' 1', '1.0000001', '', 'NaN', '+1'])('refuses "%s"', (text) => {
    // Act / Assess
    expect(() => Decimal.parse(text)).toThrow(InvalidDecimalError);
  });

  it('compares by value, so 12.5 equals 12.50', () => {
    // Assess
    expect(Decimal.parse('12.5').equals(Decimal.parse('12.50'))).toBe(true);
    expect(Decimal.parse('12.5').compare(Decimal.parse('12.51'))).toBe(-1);
  });

  it('multiplies large quantities by prices with no float error', () => {
    // Prepare
    const price = Decimal.parse('0.1');

    // Act
    const amount = price.times(3);

    // Assess: 0.1 × 3 is 0.30000000000000004 in floating point
    expect(amount.toString()).toBe('0.3');
    expect(Decimal.parse('1999.999999').times(9_007_199_254_740_991n).toString()).toBe('18014398500474782745.259009');
  });

  it.each([
    ['2.5', '1', '1', 0, '2'],
    ['3.5', '1', '1', 0, '4'],
    ['-2.5', '1', '1', 0, '-2'],
    ['0.125', '1', '1', 2, '0.12'],
    ['0.135', '1', '1', 2, '0.14'],
    ['0.1251', '1', '1', 2, '0.13'],
    ['12500', '2', '10000', 2, '2.5'],
    ['0.06', '2', '10000', 2, '0'],
  ])('rounds %s × %s / %s half-even to %i decimals: %s', (value, numerator, denominator, decimals, expected) => {
    // Act
    const rounded = Decimal.parse(value).scaleRounded(BigInt(numerator), BigInt(denominator), decimals);

    // Assess
    expect(rounded.toString()).toBe(expected);
  });

  it('round-trips every value through its canonical text', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 24n), max: 10n ** 24n }), (micros) => {
        // Prepare
        const whole = (micros < 0n ? -micros : micros) / 1_000_000n;
        const fraction = ((micros < 0n ? -micros : micros) % 1_000_000n).toString().padStart(6, '0');
        const text = `${micros < 0n ? '-' : ''}${whole}.${fraction}`;

        // Act
        const value = Decimal.parse(text);

        // Assess
        expect(value.micros).toBe(micros);
        expect(Decimal.parse(value.toString()).equals(value)).toBe(true);
      }),
    );
  });
});
