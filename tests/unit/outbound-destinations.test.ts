import { describe, expect, it } from 'vitest';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import { edgeDestinations, NoServingRegionError } from '#shared/pipeline/outbound-destinations.ts';

/** The outbound gateway sends answers locally and cross-app messages to the region the other app is served from. */

const broker = (name: string) => ({ name }) as unknown as MessageBroker & { name: string };

function resolverWith(on: readonly string[]) {
  const local = broker('local');
  const clients: string[] = [];
  const resolve = edgeDestinations({
    region: 'us-east-1',
    localBroker: local,
    queues: { RESPONSE_QUEUE: 'us-east-1.tm.responses', SETTLEMENT_QUEUE: 'us-east-1.sm.settlements' },
    brokers: { 'us-east-1': { url: 'stomp://east', queuePrefix: 'us-east-1.' }, 'us-west-2': { url: 'stomp://west', queuePrefix: 'us-west-2.' } },
    isOn: async (name) => on.includes(name),
    brokerFor: (url) => {
      clients.push(url);
      return broker(url);
    },
  });
  return { resolve, local, clients };
}

describe('outbound destinations', () => {
  it('answers senders on the local broker whatever the other app does', async () => {
    // Prepare
    const { resolve, local } = resolverWith(['settlement-dns-us-west-2']);

    // Act
    const resolved = await resolve('RESPONSE_QUEUE');

    // Assess
    expect(resolved).toEqual({ broker: local, queue: 'us-east-1.tm.responses' });
  });

  it("sends a settlement to the region settlement is served from, under that region's queue name", async () => {
    // Prepare
    const { resolve, clients } = resolverWith(['settlement-dns-us-west-2', 'trade-matching-dns-us-east-1']);

    // Act
    const resolved = await resolve('SETTLEMENT_QUEUE');

    // Assess
    expect(resolved.queue).toBe('us-west-2.sm.settlements');
    expect(resolved.region).toBe('us-west-2');
    expect((resolved.broker as unknown as { name: string }).name).toBe('stomp://west');
    expect(clients).toEqual(['stomp://west']);
  });

  it('keeps a settlement local when settlement is served here', async () => {
    // Prepare
    const { resolve, local, clients } = resolverWith(['settlement-dns-us-east-1']);

    // Act
    const resolved = await resolve('SETTLEMENT_QUEUE');

    // Assess
    expect(resolved).toEqual({ broker: local, queue: 'us-east-1.sm.settlements', region: 'us-east-1' });
    expect(clients).toEqual([]);
  });

  it('refuses, transiently, while no region serves the other app', async () => {
    // Prepare
    const { resolve } = resolverWith([]);

    // Act
    const resolving = resolve('SETTLEMENT_QUEUE');

    // Assess
    await expect(resolving).rejects.toBeInstanceOf(NoServingRegionError);
  });
});
