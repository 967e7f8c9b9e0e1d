import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { startStompBroker, type RunningStompBroker } from '#local/mq/stomp-broker.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import type { ResourceNames } from '#shared/operations/app-resources.ts';
import { forwardQueuedMessages, ForwardQueuesRequest, UnknownRegionBrokerError } from '#shared/operations/forward-queues.ts';
import { topology } from '#shared/topology/index.ts';

// A rolled-back rotation hands what clients sent to the target back to the source: two regions' embedded brokers.

const SOURCE = 'us-east-1';
const TARGET = 'us-west-2';
const targetNames: ResourceNames = (kind, name) => (kind === 'queue' ? `${TARGET}.${name}` : name);

describe('ops-drain-check forward-queues', () => {
  let dataDir: string;
  let servers: RunningStompBroker[];
  let source: StompMessageBroker;
  let target: StompMessageBroker;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rotor-forward-'));
    servers = await Promise.all([startStompBroker({ dataDir: join(dataDir, 'a'), port: 0 }), startStompBroker({ dataDir: join(dataDir, 'b'), port: 0 })]);
    source = new StompMessageBroker({ url: servers[0]!.url });
    target = new StompMessageBroker({ url: servers[1]!.url });
  });

  /** The target's inbound queues forwarded to the source, as a rolled-back rotation asks. */
  const forwardToSource = (request: ForwardQueuesRequest) =>
    forwardQueuedMessages(request, {
      topology,
      names: targetNames,
      region: TARGET,
      broker: target,
      brokerOf: (region) => (region === SOURCE ? { broker: source, queuePrefix: `${SOURCE}.` } : undefined),
    });

  afterEach(async () => {
    await Promise.all([source.close(), target.close()]);
    await Promise.all(servers.map((server) => server.close()));
    await rm(dataDir, { recursive: true, force: true });
  });

  test("moves every message waiting on the app's inbound queues in the target to the same queues in the source, in order", async () => {
    // Prepare
    const bodies = ['{"leg":1}', '{"leg":2}', '{"leg":3}'];
    for (const body of bodies) await target.send(`${TARGET}.tm.trades`, body);
    await target.send(`${TARGET}.tm.settlements`, '{"type":"settlement-result"}');
    await target.send(`${TARGET}.tm.responses`, '{"not":"inbound"}');
    const request = ForwardQueuesRequest.parse({ check: 'forward-queues', app: 'trade-matching', runId: 'rot-1', toRegion: SOURCE });

    // Act
    const result = await forwardToSource(request);

    // Assess
    expect(result).toEqual({ check: 'forward-queues', app: 'trade-matching', region: TARGET, toRegion: SOURCE, forwarded: { 'tm.trades': 3, 'tm.settlements': 1 } });
    expect(await target.queueDepth(`${TARGET}.tm.trades`)).toBe(0);
    expect(await target.queueDepth(`${TARGET}.tm.responses`)).toBe(1);
    const consumer = await source.consume(`${SOURCE}.tm.trades`);
    const arrived = await consumer.receive({ maxMessages: 10, waitMs: 500 });
    expect(arrived.map((message) => message.body)).toEqual(bodies);
    await consumer.close();
  });

  test('waits for messages another consumer holds (a gateway before it saw its control Off) and moves them once given back', async () => {
    // Prepare
    await target.send(`${TARGET}.tm.trades`, '{"leg":"held"}');
    const holder = new StompMessageBroker({ url: servers[1]!.url });
    const holding = await holder.consume(`${TARGET}.tm.trades`, { prefetch: 10 });
    const held = await holding.receive({ maxMessages: 10, waitMs: 1_000 });
    setTimeout(() => void holding.close().then(() => holder.close()), 1_500);
    const request = ForwardQueuesRequest.parse({ check: 'forward-queues', app: 'trade-matching', runId: 'rot-2', toRegion: SOURCE });

    // Act
    const result = await forwardToSource(request);

    // Assess
    expect(held).toHaveLength(1);
    expect(result.forwarded).toEqual({ 'tm.trades': 1, 'tm.settlements': 0 });
    expect(await source.queueDepth(`${SOURCE}.tm.trades`)).toBe(1);
  });

  test('refuses a region whose broker it does not know', async () => {
    // Prepare
    const request = ForwardQueuesRequest.parse({ check: 'forward-queues', app: 'trade-matching', runId: 'rot-1', toRegion: 'eu-west-1' });

    // Act
    const forwarding = forwardQueuedMessages(request, { topology, names: targetNames, region: TARGET, broker: target, brokerOf: () => undefined });

    // Assess
    await expect(forwarding).rejects.toBeInstanceOf(UnknownRegionBrokerError);
  });
});
