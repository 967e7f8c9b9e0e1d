import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import type { ChaosTwin } from '#local/chaos/chaos-twin.ts';

/**
 * Poison messages at every inbound gateway, sent to the active region's broker as a client would: malformed JSON,
 * a body over the 256 KiB limit, and a valid leg followed by a conflicting one under the same trade id. Each must be
 * answered with a NACK carrying a reason; none may block a queue or a shard.
 */

export const MAX_BODY_BYTES = 256 * 1024;

export interface PoisonSent {
  readonly queue: string;
  readonly region: string;
  readonly kind: 'malformed' | 'oversized' | 'conflicting-duplicate' | 'valid';
  readonly body: string;
}

/** One unique marker per injection, so two runs' poison never collapse into one message id. */
export function poisonMessages(marker: string): Array<Omit<PoisonSent, 'region'>> {
  const tradeID = `CHAOS${marker.replace(/[^A-Za-z0-9]/g, '').slice(-12)}`;
  const leg = {
    senderID: 'CHAOSIM', imID: 'CHAOSIM', brokerID: 'CHAOSBRO', tradeID, security: 'AMZN', transactionIndicator: 'B', price: '12.50', quantity: 100,
    tradeDate: '2026-11-23', settlementDate: '2026-11-24', deliveryInstructions: 'DTC 0123', allocations: [{ allocationID: 1, quantity: 100, account: 'ACC1' }],
  };
  const oversized = JSON.stringify({ ...leg, tradeID: `${tradeID}X`, deliveryInstructions: 'x'.repeat(MAX_BODY_BYTES) });
  return [
    { queue: 'tm.trades', kind: 'malformed', body: `{"senderID": "CHAOSIM", "tradeID": "${tradeID}", ` },
    { queue: 'tm.trades', kind: 'oversized', body: oversized },
    { queue: 'tm.trades', kind: 'valid', body: JSON.stringify(leg) },
    { queue: 'tm.trades', kind: 'conflicting-duplicate', body: JSON.stringify({ ...leg, price: '13.75' }) },
    { queue: 'tm.settlements', kind: 'malformed', body: `[not json ${marker}` },
    { queue: 'sm.settlements', kind: 'malformed', body: `{"imID": ${marker}` },
    { queue: 'sm.settlements', kind: 'oversized', body: oversized },
  ];
}

/** Sends them to the active region of the queue's app; the conflicting leg goes after its valid twin has landed. */
export async function sendPoison(twin: ChaosTwin, marker: string): Promise<PoisonSent[]> {
  const sent: PoisonSent[] = [];
  const brokers = new Map<string, StompMessageBroker>();
  try {
    for (const message of poisonMessages(marker)) {
      const region = twin.activeRegion(message.queue.startsWith('sm.') ? 'settlement' : 'trade-matching');
      let broker = brokers.get(region);
      if (!broker) brokers.set(region, (broker = new StompMessageBroker({ url: twin.brokerUrl(region) })));
      // The conflicting leg must meet its valid twin in matching, not overtake it.
      if (message.kind === 'conflicting-duplicate') await new Promise((resolve) => setTimeout(resolve, 3_000));
      await broker.send(twin.queueName(region, message.queue), message.body);
      sent.push({ ...message, region });
    }
  } finally {
    await Promise.all([...brokers.values()].map((broker) => broker.close()));
  }
  return sent;
}
