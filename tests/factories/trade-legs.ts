import type { TradeLeg } from '#domain/trade-leg.ts';

/**
 * Realistic trade legs as an investment manager or a broker sends them on the TM `trades` queue (DESIGN §3.1).
 * `anImLeg()` and `aBrokerLeg()` describe the same trade from each side, so together they match.
 */

export const IM = 'QAINS012';
export const BROKER = 'QABRO010';

export function anImLeg(overrides: Partial<TradeLeg> = {}): TradeLeg {
  return {
    senderID: IM,
    imID: IM,
    brokerID: BROKER,
    tradeID: '4821937',
    security: 'AMZN',
    transactionIndicator: 'B',
    price: '12.50',
    quantity: 1000,
    tradeDate: '2026-11-23',
    settlementDate: '2026-11-24',
    deliveryInstructions: 'DTC 0123',
    allocations: [
      { allocationID: 1, quantity: 600, account: '4410293385' },
      { allocationID: 2, quantity: 400, account: '9023311870' },
    ],
    ...overrides,
  };
}

export function aBrokerLeg(overrides: Partial<TradeLeg> = {}): TradeLeg {
  return anImLeg({ senderID: BROKER, ...overrides });
}

/** The message body exactly as it travels: JSON text. */
export const bodyOf = (leg: TradeLeg | Record<string, unknown>) => JSON.stringify(leg);

/** A leg as a loose object, for building invalid messages. */
export function aRawLeg(overrides: Record<string, unknown> = {}, without: string[] = []): Record<string, unknown> {
  const raw: Record<string, unknown> = { ...anImLeg(), ...overrides };
  for (const field of without) delete raw[field];
  return raw;
}

/** Numbered bodies as `simulate` takes them. */
export const numbered = (legs: Array<TradeLeg | string>) =>
  legs.map((leg, index) => ({ index, body: typeof leg === 'string' ? leg : bodyOf(leg) }));
