import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { purgeExternalQueues, regionBrokers } from '#local/controller/twin-backends.ts';
import { type RunningStompBroker, startStompBroker } from '#local/mq/stomp-broker.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { deadLetterQueueName } from '#shared/ports/message-broker.ts';
import { resolveTopology } from '#local/region/topologies.ts';
import type { TwinPorts } from '#local/controller/twin-layout.ts';

// A fresh twin on an operator's broker starts with fresh databases, so what an earlier twin left on that broker
// must go: a settlement result for a trade the new databases never saw would otherwise hold a matching lane.

describe('a fresh twin on a shared broker', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function sharedBroker(): Promise<{ url: string; server: RunningStompBroker }> {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'rotor-purge-'));
    const server = await startStompBroker({ dataDir, port: 0 });
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }), () => server.close());
    return { url: server.url, server };
  }

  it("empties every region's manifest queues and their dead-letter queues, and nothing else", async () => {
    // Prepare
    const { url } = await sharedBroker();
    const brokers = regionBrokers([url], ['us-east-1', 'us-west-2'], {} as TwinPorts);
    const client = new StompMessageBroker({ url });
    cleanups.push(() => client.close());
    await client.send('us-east-1.tm.settlements', '{"left":"by an earlier twin"}');
    await client.send('us-west-2.tm.trades', '{"left":"by an earlier twin"}');
    await client.send(deadLetterQueueName('us-east-1.sm.settlements'), '{"dead":"letter"}');
    await client.send('someone-elses.queue', 'not the twin’s');

    // Act
    const removed = await purgeExternalQueues(brokers, resolveTopology('rotor'));

    // Assess
    expect(removed).toBe(3);
    const other = await client.consume('someone-elses.queue');
    cleanups.push(() => other.close());
    expect((await other.receive({ maxMessages: 10, waitMs: 500 })).map((message) => message.body)).toEqual(['not the twin’s']);
    const settlements = await client.consume('us-east-1.tm.settlements');
    cleanups.push(() => settlements.close());
    expect(await settlements.receive({ maxMessages: 10, waitMs: 300 })).toEqual([]);
  });

  it('leaves embedded brokers alone: they belong to the data directory a fresh twin wipes', async () => {
    // Prepare
    const brokers = regionBrokers(undefined, ['us-east-1'], { regions: { 'us-east-1': { broker: 1 } } } as unknown as TwinPorts);

    // Act
    const removed = await purgeExternalQueues(brokers, resolveTopology('rotor'));

    // Assess
    expect(removed).toBe(0);
  });
});
