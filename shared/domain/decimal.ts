/**
 * Exact decimal arithmetic for money, as a scaled bigint.
 *
 * Prices carry at most 6 decimals and fees are rounded to cents, so every amount Rotor ever computes is an
 * exact multiple of 10^-6: a fixed scale of 6 keeps all arithmetic exact with no precision setting to get wrong.
 */

const SCALE = 6;
const UNIT = 10n ** BigInt(SCALE);
const DECIMAL_PATTERN = /^(-)?(\d+)(?:\.(\d+))?$/;

export class InvalidDecimalError extends Error {
  override readonly name = 'InvalidDecimalError';
  constructor(readonly input: string, why: string) {
    super(`"${input}" is not a valid decimal: ${why}`);
  }
}

export class Decimal {
  private constructor(
    /** The value times 10^6. */
    readonly micros: bigint,
  ) {}

  static readonly ZERO = new Decimal(0n);
  static readonly MAX_DECIMALS = SCALE;

  /** Parses a plain decimal string (`"12.5"`, `"-0.000001"`); no exponents, no grouping, at most 6 decimals. */
  static parse(text: string): Decimal {
    const match = DECIMAL_PATTERN.exec(text);
    if (!match) throw new InvalidDecimalError(text, 'expected digits with an optional "." and decimals');
    const [, sign, whole = '', fraction = ''] = match;
    if (fraction.length > SCALE) throw new InvalidDecimalError(text, `more than ${SCALE} decimals`);
    const micros = BigInt(whole) * UNIT + BigInt(fraction.padEnd(SCALE, '0') || '0');
    return new Decimal(sign ? -micros : micros);
  }

  static fromInteger(value: bigint | number): Decimal {
    return new Decimal(BigInt(value) * UNIT);
  }

  static sum(values: Iterable<Decimal>): Decimal {
    let micros = 0n;
    for (const value of values) micros += value.micros;
    return new Decimal(micros);
  }

  plus(other: Decimal): Decimal {
    return new Decimal(this.micros + other.micros);
  }

  minus(other: Decimal): Decimal {
    return new Decimal(this.micros - other.micros);
  }

  negated(): Decimal {
    return new Decimal(-this.micros);
  }

  times(integer: bigint | number): Decimal {
    return new Decimal(this.micros * BigInt(integer));
  }

  /** `this × numerator / denominator`, rounded half-even to `decimals` places (0..6). */
  scaleRounded(numerator: bigint, denominator: bigint, decimals: number): Decimal {
    if (decimals < 0 || decimals > SCALE) throw new RangeError(`decimals must be 0..${SCALE}`);
    const step = 10n ** BigInt(SCALE - decimals);
    const steps = divideHalfEven(this.micros * numerator, denominator * step);
    return new Decimal(steps * step);
  }

  compare(other: Decimal): -1 | 0 | 1 {
    return this.micros < other.micros ? -1 : this.micros > other.micros ? 1 : 0;
  }

  equals(other: Decimal): boolean {
    return this.micros === other.micros;
  }

  isZero(): boolean {
    return this.micros === 0n;
  }

  isPositive(): boolean {
    return this.micros > 0n;
  }

  /** Canonical text: no trailing zeros, no exponent (`12.50` → `"12.5"`, `-3.000` → `"-3"`). */
  toString(): string {
    const negative = this.micros < 0n;
    const magnitude = negative ? -this.micros : this.micros;
    const whole = magnitude / UNIT;
    const fraction = (magnitude % UNIT).toString().padStart(SCALE, '0').replace(/0+$/, '');
    return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

function divideHalfEven(dividend: bigint, divisor: bigint): bigint {
  if (divisor <= 0n) throw new RangeError('divisor must be positive');
  const negative = dividend < 0n;
  const magnitude = negative ? -dividend : dividend;
  let quotient = magnitude / divisor;
  const twiceRemainder = (magnitude % divisor) * 2n;
  if (twiceRemainder > divisor || (twiceRemainder === divisor && quotient % 2n === 1n)) quotient += 1n;
  return negative ? -quotient : quotient;
}
