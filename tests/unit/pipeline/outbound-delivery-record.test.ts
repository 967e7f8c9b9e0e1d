import { describe, expect, it } from 'vitest';
import { outboundStep } from '#shared/pipeline/outbound-stage.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import { SafeStoreUnavailableError, type PutIfAbsentResult, type SafeStore, type SafeStoreItem } from '#shared/ports/safe-store.ts';

/**
 * The outbound gateway's one unavoidable duplicate is a crash between its send and the record of the send. A store
 * that only throttles for a while must not turn into that: the record is retried within the invocation.
 */

class ThrottlingStore implements SafeStore {
  readonly items = new Map<string, SafeStoreItem & { deliveries?: number }>();
  constructor(private refusals: number) {}
  async putIfAbsent(item: SafeStoreItem): Promise<PutIfAbsentResult<SafeStoreItem>> {
    const existing = this.items.get(item.id);
    if (existing) return { stored: false, existing };
    this.items.set(item.id, { ...item });
    return { stored: true };
  }
  async putIfNewer(): Promise<boolean> {
    return true;
  }
  async get(id: string) {
    return this.items.get(id);
  }
  async recordDelivery(id: string): Promise<number> {
    if (this.refusals > 0) {
      this.refusals -= 1;
      throw new SafeStoreUnavailableError('tm-outbound-gateway-store recordDelivery failed: ThrottlingException');
    }
    const item = this.items.get(id)!;
    item.deliveries = (item.deliveries ?? 0) + 1;
    return item.deliveries;
  }
}

function recordingBroker(): MessageBroker & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    send: async (_queue, body) => void sent.push(body),
    consume: async () => {
      throw new Error('not used');
    },
    queueDepth: async () => 0,
    close: async () => undefined,
  };
}

const response = { kind: 'outbound' as const, id: 'response:T1:MATCHED', destination: 'RESPONSE_QUEUE' as const, body: '{"type":"trade-status","status":"MATCHED"}' };

describe('the outbound gateway under a throttled store', () => {
  it('waits out a store that refuses the delivery record a few times, and sends once', async () => {
    // Prepare
    const store = new ThrottlingStore(3);
    const broker = recordingBroker();
    const step = outboundStep({ store, broker, queues: { RESPONSE_QUEUE: 'tm.responses' }, deliveryRecordBackoffMs: [1, 1, 1, 1] });

    // Act
    await step(response);
    await step(response);

    // Assess: the redelivery finds the delivery recorded and sends nothing.
    expect(broker.sent).toHaveLength(1);
    expect(store.items.get(response.id)?.deliveries).toBe(1);
  });

  it('fails the record once the store stays unavailable past the backoff, so the batch comes back', async () => {
    // Prepare
    const store = new ThrottlingStore(10);
    const step = outboundStep({ store, broker: recordingBroker(), queues: { RESPONSE_QUEUE: 'tm.responses' }, deliveryRecordBackoffMs: [1, 1] });

    // Act
    const outcome = step(response);

    // Assess
    await expect(outcome).rejects.toBeInstanceOf(SafeStoreUnavailableError);
  });
});
