import { z } from 'zod';
import { Decimal } from './decimal.ts';

/** One side's report of a block trade and its allocations: the wire format of the TM `trades` queue (DESIGN §3.1). */

const PARTY_ID = /^[A-Za-z0-9]{1,20}$/;
const SECURITY = /^[A-Z0-9.]{1,12}$/;
const DECIMAL_TEXT = /^\d+(\.\d{1,6})?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export const MAX_ALLOCATIONS = 100;
export const MAX_BODY_BYTES = 256 * 1024;

/** What each field must look like, in words an operator reads in a NACK reason. */
export const FIELD_RULES = {
  senderID: 'must be 1-20 letters or digits',
  imID: 'must be 1-20 letters or digits',
  brokerID: 'must be 1-20 letters or digits',
  tradeID: 'must be 1-20 letters or digits',
  security: 'must be 1-12 characters of A-Z, 0-9 or "."',
  transactionIndicator: 'must be "B" or "S"',
  price: 'must be a decimal string greater than 0 with at most 6 decimals, e.g. "12.50"',
  quantity: 'must be a whole number greater than 0',
  tradeDate: 'must be a calendar date YYYY-MM-DD',
  settlementDate: 'must be a calendar date YYYY-MM-DD',
  deliveryInstructions: 'must be text of 1-256 characters without control characters',
  allocations: `must be a list of 1-${MAX_ALLOCATIONS} allocations`,
  allocationID: 'must be a whole number greater than 0, unique within the leg',
  account: 'must be 1-20 letters or digits',
} as const satisfies Record<string, string>;

const isCalendarDate = (text: string) => {
  if (!ISO_DATE.test(text)) return false;
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(text);
};

const partyId = z.string().regex(PARTY_ID);
const calendarDate = z.string().refine(isCalendarDate);
const positiveInt = z.int().positive();

const allocationSchema = z.strictObject({
  allocationID: positiveInt,
  quantity: positiveInt,
  account: partyId,
});
export type Allocation = z.infer<typeof allocationSchema>;

const schema = z.strictObject({
  senderID: partyId,
  imID: partyId,
  brokerID: partyId,
  tradeID: partyId,
  security: z.string().regex(SECURITY),
  transactionIndicator: z.enum(['B', 'S']),
  price: z
    .string()
    .regex(DECIMAL_TEXT)
    .refine((text) => DECIMAL_TEXT.test(text) && Decimal.parse(text).isPositive()),
  quantity: positiveInt,
  tradeDate: calendarDate,
  settlementDate: calendarDate,
  deliveryInstructions: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[^\p{Cc}]*$/u)
    .optional(),
  allocations: z.array(allocationSchema).min(1).max(MAX_ALLOCATIONS),
});
export type TradeLeg = z.infer<typeof schema>;

export type LegSide = 'IM' | 'BROKER';

/** The fields that must agree for two legs to be the same trade (DESIGN §3.3 rule 1). */
const matchKeyOf = (leg: TradeLeg) =>
  [leg.imID, leg.brokerID, leg.tradeID, leg.transactionIndicator, leg.tradeDate, leg.settlementDate].join('|');

export const TradeLeg = {
  schema,
  allocationSchema,

  /** `senderID-imID-brokerID-tradeID` (DESIGN §3.2); ids are alphanumeric, so `-` never appears inside a part. */
  id: (leg: Pick<TradeLeg, 'senderID' | 'imID' | 'brokerID' | 'tradeID'>) =>
    `${leg.senderID}-${leg.imID}-${leg.brokerID}-${leg.tradeID}`,

  side: (leg: TradeLeg): LegSide => (leg.senderID === leg.imID ? 'IM' : 'BROKER'),

  /** The id the other side's leg of the same trade would carry. */
  counterpartId: (leg: TradeLeg) =>
    TradeLeg.id({ ...leg, senderID: leg.senderID === leg.imID ? leg.brokerID : leg.imID }),

  /** Stream partition key: both legs of a trade share it, so they meet on one shard, in order. */
  partitionKey: (leg: Pick<TradeLeg, 'imID' | 'brokerID' | 'tradeID'>) => `${leg.imID}|${leg.brokerID}|${leg.tradeID}`,

  matchKey: matchKeyOf,

  /** True when the economic fields agree: security, price (as a decimal) and quantity (DESIGN §3.3 rule 2). */
  economicsAgree: (a: TradeLeg, b: TradeLeg) =>
    a.security === b.security && Decimal.parse(a.price).equals(Decimal.parse(b.price)) && a.quantity === b.quantity,

  /**
   * The leg in one canonical form: price without trailing zeros, allocations by id. Two messages with the same
   * canonical form say the same thing, so a second one is an exact duplicate rather than a conflict.
   */
  canonical: (leg: TradeLeg): TradeLeg => ({
    ...leg,
    price: Decimal.parse(leg.price).toString(),
    allocations: [...leg.allocations].sort((x, y) => x.allocationID - y.allocationID),
  }),

  sameContent: (a: TradeLeg, b: TradeLeg) =>
    stableJson(TradeLeg.canonical(a)) === stableJson(TradeLeg.canonical(b)),
} as const;

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
