import { z } from 'zod';
import { Decimal } from './decimal.ts';
import { SeededRandom } from './random.ts';
import { AllocationStatus, SettlementStatus, TradeStatus } from './status.ts';
import { type Allocation, TradeLeg } from './trade-leg.ts';

/**
 * The load generator's data (DESIGN §3.6): seeded and deterministic, a configurable mix of matched, mismatched and
 * unmatched pairs, and the ground truth of every leg, stated from what each pair was built to be (not by running
 * the matching rules), so `rotor simulate` and `rotor verify` are judged against an independent answer.
 */

export const PairKind = z.enum(['matched', 'mismatched', 'unmatched']);
export type PairKind = z.infer<typeof PairKind>;

export const PairMix = z.record(PairKind, z.number().nonnegative());
export type PairMix = z.infer<typeof PairMix>;
export const DEFAULT_MIX: PairMix = { matched: 1, mismatched: 1, unmatched: 1 };

export const LegTruth = z.strictObject({
  kind: PairKind,
  status: TradeStatus,
  allocations: z.record(z.string(), AllocationStatus),
  settlements: z.record(z.string(), SettlementStatus),
});
export type LegTruth = z.infer<typeof LegTruth>;

export const GroundTruth = z.strictObject({
  seed: z.int(),
  pairs: z.int(),
  mix: PairMix,
  legs: z.record(z.string(), LegTruth),
});
export type GroundTruth = z.infer<typeof GroundTruth>;

export interface GeneratorOptions {
  pairs: number;
  seed: number;
  mix?: PairMix;
  /** Legs per second for live sending; sets each leg's `offsetMs`. Omitted: all at offset 0. */
  rate?: number;
  maxAllocations?: number;
  /** First trade date; trade dates spread over the following 30 days. */
  startDate?: string;
}

export interface GeneratedLeg {
  leg: TradeLeg;
  /** When to send it, relative to the start of the run. */
  offsetMs: number;
}

export interface GeneratedRun {
  legs: GeneratedLeg[];
  truth: GroundTruth;
}

export class InvalidGeneratorOptionsError extends Error {
  override readonly name = 'InvalidGeneratorOptionsError';
}

const INVESTMENT_MANAGERS = ['QAINS012', 'QAINS047', 'NBIM0001', 'PIMCO22', 'VANGRD9', 'BLKRCK3', 'FIDLTY5', 'SCHRDR8'];
const BROKERS = ['QABRO010', 'QABRO077', 'GSCO0001', 'MSCO0002', 'JPMS0003', 'CITI0004', 'BARC0005', 'UBSS0006'];
const SECURITIES = ['AMZN', 'AAPL', 'MSFT', 'GOOGL', 'BRK.B', 'JPM', 'NVDA', 'V', 'XOM', 'TSLA'];

export function generateRun(options: GeneratorOptions): GeneratedRun {
  const { pairs, seed, mix = DEFAULT_MIX, rate, maxAllocations = 10, startDate = '2026-11-23' } = options;
  if (!Number.isInteger(pairs) || pairs < 0) throw new InvalidGeneratorOptionsError(`pairs must be a whole number >= 0, got ${pairs}`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new InvalidGeneratorOptionsError(`seed must be a whole number from 0 to 4294967295, got ${seed}`);
  }
  if (rate !== undefined && !(rate > 0)) throw new InvalidGeneratorOptionsError(`rate must be > 0 legs/s, got ${rate}`);
  if (!Number.isInteger(maxAllocations) || maxAllocations < 1 || maxAllocations > 100) {
    throw new InvalidGeneratorOptionsError(`maxAllocations must be 1..100, got ${maxAllocations}`);
  }
  const random = new SeededRandom(seed);
  const kinds = random.shuffled(pairKinds(pairs, mix));
  const truth: GroundTruth = { seed, pairs, mix, legs: {} };
  const legs: TradeLeg[] = [];

  kinds.forEach((kind, index) => {
    const { im, broker } = buildPair(random, kind, `S${seed.toString(36)}P${index.toString(36)}`, maxAllocations, startDate);
    for (const leg of [im, broker]) {
      legs.push(leg);
      truth.legs[TradeLeg.id(leg)] = expectedFinalState(leg, kind);
    }
  });
  const arrival = random.shuffled(legs);
  return {
    legs: arrival.map((leg, index) => ({ leg, offsetMs: rate ? Math.round((index * 1000) / rate) : 0 })),
    truth,
  };
}

/** Exact counts per kind by largest remainder, so 1,000 pairs at 1:1:1 give 334/333/333. */
function pairKinds(pairs: number, mix: PairMix): PairKind[] {
  const entries = PairKind.options.map((kind) => [kind, mix[kind] ?? 0] as const);
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  if (!(total > 0)) throw new InvalidGeneratorOptionsError('the mix must give some pair kind a weight > 0');
  const shares = entries.map(([kind, weight]) => ({ kind, exact: (pairs * weight) / total }));
  const counts = shares.map((share) => ({ ...share, count: Math.floor(share.exact) }));
  let missing = pairs - counts.reduce((sum, c) => sum + c.count, 0);
  for (const entry of [...counts].sort((a, b) => b.exact - Math.floor(b.exact) - (a.exact - Math.floor(a.exact)))) {
    if (missing-- <= 0) break;
    entry.count += 1;
  }
  return counts.flatMap(({ kind, count }) => Array<PairKind>(count).fill(kind));
}

function buildPair(random: SeededRandom, kind: PairKind, tradeID: string, maxAllocations: number, startDate: string) {
  const imID = random.pick(INVESTMENT_MANAGERS);
  const brokerID = random.pick(BROKERS);
  const tradeDate = addDays(startDate, random.int(0, 30));
  const allocations = randomAllocations(random, random.int(1, maxAllocations));
  const price = randomPrice(random);
  const im: TradeLeg = {
    senderID: imID,
    imID,
    brokerID,
    tradeID,
    security: random.pick(SECURITIES),
    transactionIndicator: random.pick(['B', 'S'] as const),
    price: price.toString(),
    quantity: allocations.reduce((sum, a) => sum + a.quantity, 0),
    tradeDate,
    settlementDate: addDays(tradeDate, random.int(0, 3)),
    deliveryInstructions: `DTC ${String(random.int(0, 9999)).padStart(4, '0')}`,
    allocations,
  };
  // The broker writes the same price its own way: trailing zeros must not stop a match.
  const broker: TradeLeg = { ...im, senderID: brokerID, price: withTrailingZeros(random, price) };
  if (kind === 'unmatched') return { im, broker: { ...broker, tradeID: `${tradeID}X` } };
  if (kind === 'mismatched') return { im, broker: withOneEconomicDifference(random, broker) };
  return { im, broker };
}

function withOneEconomicDifference(random: SeededRandom, leg: TradeLeg): TradeLeg {
  switch (random.pick(['security', 'price', 'quantity'] as const)) {
    case 'security':
      return { ...leg, security: random.pick(SECURITIES.filter((s) => s !== leg.security)) };
    case 'price':
      return { ...leg, price: Decimal.parse(leg.price).plus(Decimal.parse(`0.0${random.int(1, 9)}`)).toString() };
    case 'quantity': {
      let allocations = randomAllocations(random, leg.allocations.length);
      const quantity = (a: Allocation[]) => a.reduce((sum, x) => sum + x.quantity, 0);
      if (quantity(allocations) === leg.quantity) {
        allocations = allocations.map((a, i) => (i === 0 ? { ...a, quantity: a.quantity + 1 } : a));
      }
      return { ...leg, allocations, quantity: quantity(allocations) };
    }
  }
}

function randomAllocations(random: SeededRandom, count: number): Allocation[] {
  return Array.from({ length: count }, (_, i) => ({
    allocationID: i + 1,
    quantity: random.int(1, 50) * 100,
    account: String(random.int(1_000_000_000, 4_294_967_295)),
  }));
}

function randomPrice(random: SeededRandom): Decimal {
  const decimals = random.int(0, 6);
  const whole = random.int(1, 2_000);
  const fraction = decimals === 0 ? '' : `.${String(random.int(0, 10 ** decimals - 1)).padStart(decimals, '0')}`;
  return Decimal.parse(`${whole}${fraction}`);
}

function withTrailingZeros(random: SeededRandom, price: Decimal): string {
  const text = price.toString();
  const decimals = text.includes('.') ? text.split('.')[1]!.length : 0;
  const extra = random.int(0, Decimal.MAX_DECIMALS - decimals);
  if (extra === 0) return text;
  return `${text}${decimals === 0 ? '.' : ''}${'0'.repeat(extra)}`;
}

function addDays(isoDate: string, days: number): string {
  const date = new Date(`${isoDate}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
}

function expectedFinalState(leg: TradeLeg, kind: PairKind): LegTruth {
  const tradeId = TradeLeg.id(leg);
  const settles = kind === 'matched';
  const allocationIds = leg.allocations.map((a) => `${tradeId}-${a.allocationID}`);
  return {
    kind,
    status: settles ? 'SETTLED' : kind === 'mismatched' ? 'MISMATCHED' : 'UNMATCHED',
    allocations: Object.fromEntries(allocationIds.map((id) => [id, settles ? 'SETTLED' : 'UNSETTLED'])),
    settlements: settles ? Object.fromEntries(allocationIds.map((id) => [id, 'SETTLED'])) : {},
  };
}
