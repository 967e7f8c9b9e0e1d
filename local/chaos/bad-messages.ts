import fc from 'fast-check';
import { ingestTradeMatchingMessage } from '#domain/ingestion.ts';
import { MessageId } from '#shared/pipeline/message-id.ts';

/**
 * Adversarial bodies for the trade-matching inbound queue, from fast-check: each starts from a valid leg with a
 * trade id of its own (so no two collapse into one message) and breaks it — truncated or garbage JSON, JSON that is
 * not an object, a missing, unknown or mistyped field, bad prices, quantities, dates, allocations, a sender who is
 * not a party, a body over 256 KiB, odd characters. Ingestion itself is the oracle: a body it would accept is not
 * kept, so every one sent must come back as a NACK.
 */

export const BAD_INPUT_QUEUE = 'tm.trades';

type Leg = Record<string, unknown> & { allocations: Array<Record<string, unknown>> };
type Mutation = (leg: Leg, nonce: string) => string;

export function baseLeg(tradeID: string): Leg {
  return {
    senderID: 'FUZZIM', imID: 'FUZZIM', brokerID: 'FUZZBRO', tradeID, security: 'AMZN', transactionIndicator: 'B', price: '12.50', quantity: 1000,
    tradeDate: '2026-11-23', settlementDate: '2026-11-24', deliveryInstructions: 'DTC 0123',
    allocations: [{ allocationID: 1, quantity: 600, account: '4410293385' }, { allocationID: 2, quantity: 400, account: '9023311870' }],
  };
}

const FIELDS = ['senderID', 'imID', 'brokerID', 'tradeID', 'security', 'transactionIndicator', 'price', 'quantity', 'tradeDate', 'settlementDate', 'allocations'];
const json = (value: unknown) => JSON.stringify(value);
const withField = (leg: Leg, field: string, value: unknown) => json({ ...leg, [field]: value });

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 15, arbitrary: fc.double({ min: 0.05, max: 0.95, noNaN: true }).map((cut): Mutation => (leg) => json(leg).slice(0, Math.max(1, Math.floor(json(leg).length * cut)))) },
  { weight: 10, arbitrary: fc.string({ maxLength: 60 }).map((text): Mutation => (_, nonce) => `${text}<${nonce}`) },
  { weight: 5, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((value): Mutation => (_, nonce) => json([nonce, value])) },
  // Valid JSON that is not an object: a string, a number, null, true.
  { weight: 5, arbitrary: fc.constantFrom('string', 'number', 'null', 'true').map((shape): Mutation => (_, nonce) => (shape === 'string' ? json(nonce) : shape === 'number' ? String(nonce.replace(/\D/g, '')) : shape)) },
  { weight: 15, arbitrary: fc.constantFrom(...FIELDS).map((field): Mutation => (leg) => json(Object.fromEntries(Object.entries(leg).filter(([key]) => key !== field)))) },
  { weight: 10, arbitrary: fc.string({ minLength: 1, maxLength: 12 }).map((name): Mutation => (leg) => json({ ...leg, [`x${name}`]: 1 })) },
  { weight: 15, arbitrary: fc.tuple(fc.constantFrom(...FIELDS), fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.constant({}), fc.constant([]))).map(([field, value]): Mutation => (leg) => withField(leg, field, value)) },
  { weight: 10, arbitrary: fc.constantFrom<unknown>('-1', '0', 'abc', '1.1234567', '1e5', 12.5, '', ' 12.50').map((price): Mutation => (leg) => withField(leg, 'price', price)) },
  { weight: 10, arbitrary: fc.constantFrom<unknown>(0, -5, 1.5, '1000', 1e300).map((quantity): Mutation => (leg) => withField(leg, 'quantity', quantity)) },
  { weight: 10, arbitrary: fc.integer({ min: 1, max: 500 }).map((delta): Mutation => (leg) => json({ ...leg, allocations: [{ ...leg.allocations[0], quantity: 600 + delta }, leg.allocations[1]] })) },
  { weight: 5, arbitrary: fc.constant<Mutation>((leg) => json({ ...leg, tradeDate: '2026-11-24', settlementDate: '2026-11-23' })) },
  { weight: 5, arbitrary: fc.constantFrom('2026-13-45', '26-11-23', '2026/11/23', '').map((date): Mutation => (leg) => withField(leg, 'tradeDate', date)) },
  { weight: 5, arbitrary: fc.constant<Mutation>((leg, nonce) => json({ ...leg, senderID: `OTHER${nonce}`.slice(0, 20) })) },
  { weight: 5, arbitrary: fc.constant<Mutation>((leg) => json({ ...leg, allocations: [] })) },
  { weight: 5, arbitrary: fc.constant<Mutation>((leg) => json({ ...leg, quantity: 101, allocations: Array.from({ length: 101 }, (_, index) => ({ allocationID: index + 1, quantity: 1, account: 'A1' })) })) },
  { weight: 5, arbitrary: fc.constant<Mutation>((leg) => json({ ...leg, allocations: [{ ...leg.allocations[0] }, { ...leg.allocations[1], allocationID: 1 }] })) },
  { weight: 5, arbitrary: fc.string({ minLength: 1, maxLength: 8, unit: 'binary' }).map((odd): Mutation => (leg) => withField(leg, 'security', `A${odd}`)) },
  { weight: 5, arbitrary: fc.constantFrom('B', 'S').map((side): Mutation => (leg) => json({ ...leg, transactionIndicator: side === 'B' ? 'BUY' : 's' })) },
  // Rare on purpose: each is over 256 KiB.
  { weight: 1, arbitrary: fc.constant<Mutation>((leg) => json({ ...leg, deliveryInstructions: 'x'.repeat(262_200) })) },
);

export interface BadMessage {
  readonly body: string;
  readonly messageId: string;
  /** The code ingestion gives it (what its NACK must say). */
  readonly expectedCode: string;
}

/** `count` distinct bad bodies for a seed (deterministic); each would be NACKed by ingestion. */
export function badMessages(count: number, seed: number): BadMessage[] {
  const messages: BadMessage[] = [];
  const ids = new Set<string>();
  let index = 0;
  while (messages.length < count) {
    const batch = fc.sample(mutation, { numRuns: Math.min(1_000, 2 * (count - messages.length) + 10), seed: seed + index });
    for (const mutate of batch) {
      index += 1;
      const nonce = `F${seed}N${index}`;
      const body = mutate(baseLeg(nonce), nonce);
      const messageId = MessageId.of(BAD_INPUT_QUEUE, body);
      if (ids.has(messageId)) continue;
      const decision = ingestTradeMatchingMessage({
        kind: 'inbound', id: messageId, queue: BAD_INPUT_QUEUE, body, bodyBytes: Buffer.byteLength(body), truncated: false, receivedAt: new Date(0).toISOString(),
      });
      if (decision.status !== 'NACKED') continue;
      ids.add(messageId);
      messages.push({ body, messageId, expectedCode: decision.nack.code });
      if (messages.length === count) break;
    }
  }
  return messages;
}
