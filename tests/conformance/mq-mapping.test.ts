/**
 * The Amazon MQ (ActiveMQ) event-source mapping of the twin, against real brokers over STOMP: always the embedded
 * broker, and Apache ActiveMQ when ROTOR_ACTIVEMQ_STOMP_URL is set (start one with `.ci/activemq.sh`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { type RunningStompBroker, startStompBroker } from '#local/mq/stomp-broker.ts';
import { deadLetterQueueName } from '#shared/ports/message-broker.ts';
import { MqMappingFixture, recordingMqFunction, TEST_REGION } from '#tests/factories/mq-mapping-fixture.ts';
import { waitFor } from '#tests/support/wait.ts';

const activeMqUrl = process.env.ROTOR_ACTIVEMQ_STOMP_URL;

function mqMappingConformance(brokerUrl: () => string): void {
  const fixture = new MqMappingFixture(brokerUrl);
  afterEach(async () => fixture.cleanup());

  test('AWS delivers an aws:mq event: base64 body, queue as destination, broker ARN, message id, not redelivered', async () => {
    // Prepare
    const broker = fixture.connect();
    const queue = fixture.freshQueue('shape');
    const { fn, invocations } = recordingMqFunction('mq-shape');
    await broker.send(queue, '{"tradeID":"4821937","price":"12.50"}', { 'correlation-id': 'QAINS012-4821937', 'content-type': 'application/json' });

    // Act
    const { mapping } = await fixture.startMapping({ queue, batchSize: 10, maximumBatchingWindowInSeconds: 0 }, fn, broker);
    await waitFor(() => invocations.length === 1, { what: 'one invocation' });

    // Assess
    const { event } = invocations[0]!;
    expect(event).toEqual({
      eventSource: 'aws:mq',
      eventSourceArn: mapping.eventSourceArn,
      messages: [{
        messageID: expect.stringMatching(/\S/),
        messageType: 'jms/text-message',
        data: Buffer.from('{"tradeID":"4821937","price":"12.50"}').toString('base64'),
        connectionId: expect.stringMatching(/\S/),
        redelivered: false,
        persistent: true,
        destination: { physicalName: queue },
        timestamp: expect.any(Number),
        brokerInTime: expect.any(Number),
        brokerOutTime: expect.any(Number),
        deliveryMode: 2,
        correlationId: 'QAINS012-4821937',
        properties: expect.objectContaining({ 'content-type': 'application/json' }),
      }],
    });
    expect(mapping.eventSourceArn).toMatch(new RegExp(`^arn:aws:mq:${TEST_REGION}:\\d{12}:broker:[^:]+:b-[^:]+$`));
  });

  test('BatchSize caps every batch: 7 waiting messages with batch size 3 arrive as 3, 3, 1', async () => {
    // Prepare
    const broker = fixture.connect();
    const queue = fixture.freshQueue('size');
    const { fn, invocations } = recordingMqFunction('mq-size');
    await fixture.sendAll(broker, queue, Array.from({ length: 7 }, (_, index) => `leg-${index}`));

    // Act
    await fixture.startMapping({ queue, batchSize: 3, maximumBatchingWindowInSeconds: 0.5 }, fn, broker);
    await waitFor(() => invocations.flatMap((invocation) => invocation.bodies).length === 7, { what: 'all 7 messages' });

    // Assess
    expect(invocations.map((invocation) => invocation.bodies.length)).toEqual([3, 3, 1]);
  });

  test('the batching window holds a partial batch until it closes, and a full batch goes at once', async () => {
    // Prepare
    const broker = fixture.connect();
    const partialQueue = fixture.freshQueue('window');
    const fullQueue = fixture.freshQueue('window-full');
    const partial = recordingMqFunction('mq-window');
    const full = recordingMqFunction('mq-window-full');
    await fixture.startMapping({ queue: partialQueue, batchSize: 10, maximumBatchingWindowInSeconds: 0.6 }, partial.fn, broker);
    await fixture.startMapping({ queue: fullQueue, batchSize: 2, maximumBatchingWindowInSeconds: 60 }, full.fn, broker);

    // Act
    const firstSentAt = Date.now();
    await broker.send(partialQueue, 'early');
    await new Promise((resolve) => setTimeout(resolve, 150));
    await broker.send(partialQueue, 'late');
    await fixture.sendAll(broker, fullQueue, ['one', 'two']);
    await waitFor(() => partial.invocations.length > 0 && full.invocations.length > 0, { what: 'both mappings to invoke' });

    // Assess
    expect(partial.invocations[0]!.bodies).toEqual(['early', 'late']);
    expect(partial.invocations[0]!.atMs - firstSentAt).toBeGreaterThanOrEqual(550);
    expect(full.invocations[0]!.bodies).toEqual(['one', 'two']);
  });

  test('a successful batch is acknowledged: queue depth returns to 0 and a restarted consumer gets nothing again', async () => {
    // Prepare
    const broker = fixture.connect();
    const queue = fixture.freshQueue('ack');
    const { fn, invocations } = recordingMqFunction('mq-ack');
    await fixture.sendAll(broker, queue, ['a', 'b', 'c', 'd', 'e']);
    const { mapping } = await fixture.startMapping({ queue, batchSize: 2, maximumBatchingWindowInSeconds: 0 }, fn, broker);

    // Act
    await waitFor(async () => (await mapping.metrics()).messagesAcked === 5, { what: '5 acks' });
    await mapping.stop();

    // Assess
    expect(await broker.queueDepth(queue)).toBe(0);
    expect(await fixture.drain(queue)).toEqual([]);
    expect(invocations.flatMap((invocation) => invocation.bodies)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await mapping.metrics()).toMatchObject({ messagesReceived: 5, messagesAcked: 5, messagesReleased: 0, messagesRedelivered: 0, functionErrors: 0 });
  });

  test('a function error leaves the message unacknowledged: the broker delivers it again, flagged redelivered', async () => {
    // Prepare
    const broker = fixture.connect();
    const queue = fixture.freshQueue('error');
    const { fn, invocations, processedBodies } = recordingMqFunction('mq-error', (_bodies, invocation) => {
      if (invocation === 1) throw new Error('database unavailable');
    });
    await broker.send(queue, 'leg-1');

    // Act
    const { mapping } = await fixture.startMapping({ queue, batchSize: 10, maximumBatchingWindowInSeconds: 0 }, fn, broker);
    await waitFor(() => processedBodies().length === 1, { what: 'the message processed after the failure' });

    // Assess
    const [failed, retried] = invocations.map((invocation) => invocation.event.messages[0]!);
    expect(failed).toMatchObject({ redelivered: false });
    expect(retried).toMatchObject({ messageID: failed!.messageID, redelivered: true });
    await waitFor(async () => (await broker.queueDepth(queue)) === 0, { what: 'an empty queue' });
    expect(await mapping.metrics()).toMatchObject({
      functionErrors: 1, messagesReceived: 2, messagesReleased: 1, messagesRedelivered: 1, messagesAcked: 1, messagesDeadLettered: 0,
    });
  });

  test('a failed batch is retried in halves while the mapping holds it, so halves that succeed are acknowledged without a broker redelivery', async () => {
    // Prepare
    const broker = fixture.connect();
    const queue = fixture.freshQueue('bisect');
    let failuresLeft = 1;
    const { fn, invocations, processedBodies } = recordingMqFunction('mq-bisect', (bodies) => {
      if (bodies.includes('flaky') && failuresLeft-- > 0) throw new Error('settlement service timed out');
    });
    await fixture.sendAll(broker, queue, ['a', 'b', 'flaky', 'c']);

    // Act
    const { mapping } = await fixture.startMapping({ queue, batchSize: 4, maximumBatchingWindowInSeconds: 0.3 }, fn, broker);
    await waitFor(() => processedBodies().length === 4, { what: 'all 4 messages processed' });

    // Assess
    expect(invocations.map((invocation) => invocation.bodies)).toEqual([['a', 'b', 'flaky', 'c'], ['a', 'b'], ['flaky', 'c']]);
    expect(invocations.slice(1).every((invocation) => invocation.event.messages.every((message) => message.redelivered))).toBe(true);
    expect(await mapping.metrics()).toMatchObject({ functionErrors: 1, messagesReleased: 0, messagesAcked: 4 });
  });

  test('a function timeout counts as a function error: the batch is redelivered, not acknowledged', async () => {
    // Prepare
    const broker = fixture.connect();
    const queue = fixture.freshQueue('timeout');
    const { fn, invocations } = recordingMqFunction('mq-timeout', async (_bodies, invocation) => {
      if (invocation === 1) await new Promise((resolve) => setTimeout(resolve, 1_000));
    }, 0.25);
    await broker.send(queue, 'slow-leg');

    // Act
    const { mapping } = await fixture.startMapping({ queue, batchSize: 1, maximumBatchingWindowInSeconds: 0 }, fn, broker);
    await waitFor(() => invocations.length >= 2 && invocations[1]!.succeeded === true, { what: 'a successful second invocation' });

    // Assess
    expect(invocations[1]!.event.messages[0]).toMatchObject({ messageID: invocations[0]!.event.messages[0]!.messageID, redelivered: true });
    await waitFor(async () => (await mapping.metrics()).messagesAcked === 1, { what: 'the ack' });
    expect(await mapping.metrics()).toMatchObject({ functionErrors: 1, messagesReleased: 1, messagesAcked: 1, messagesDeadLettered: 0 });
  });

  test('a poison message is dead-lettered after maximumDeliveries (default 6, as the broker\'s) while its batch mates and the messages behind it get through', async () => {
    // Prepare
    const broker = fixture.connect();
    const queue = fixture.freshQueue('poison');
    const { fn, invocations, processedBodies } = recordingMqFunction('mq-poison', (bodies) => {
      if (bodies.includes('poison')) throw new Error('cannot parse trade leg');
    });
    const good = Array.from({ length: 19 }, (_, index) => `leg-${String(index).padStart(2, '0')}`);
    await fixture.sendAll(broker, queue, [good[0]!, 'poison', ...good.slice(1)]);

    // Act
    const { mapping, log } = await fixture.startMapping({ queue, batchSize: 16, maximumBatchingWindowInSeconds: 0.3 }, fn, broker);
    await waitFor(async () => (await mapping.metrics()).messagesDeadLettered === 1 && processedBodies().length === good.length, {
      what: 'the poison message dead-lettered by the mapping and every good one processed',
    });

    // Assess
    expect(processedBodies()).toEqual(good);
    const poisonAlone = invocations.filter((invocation) => invocation.bodies.length === 1 && invocation.bodies[0] === 'poison');
    expect(poisonAlone).toHaveLength(6);
    expect(new Set(poisonAlone.map((invocation) => invocation.event.messages[0]!.messageID)).size).toBe(1);
    const deadLetters = await fixture.drain(deadLetterQueueName(queue), 5_000);
    expect(deadLetters.map((message) => message.body)).toEqual(['poison']);
    await waitFor(async () => (await broker.queueDepth(queue)) === 0, { what: 'an empty queue' });
    expect(log.entries.some((entry) => entry.level === 'error' && entry.fields?.deadLetterQueue === deadLetterQueueName(queue))).toBe(true);
  });

  test('a healthy queue is processed in the order it was sent, one batch at a time', async () => {
    // Prepare
    const broker = fixture.connect();
    const queue = fixture.freshQueue('order');
    let running = 0;
    let overlapped = false;
    const { fn, processedBodies } = recordingMqFunction('mq-order', async () => {
      running += 1;
      overlapped ||= running > 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
      running -= 1;
    });
    const bodies = Array.from({ length: 25 }, (_, index) => `leg-${String(index).padStart(2, '0')}`);

    // Act
    await fixture.startMapping({ queue, batchSize: 4, maximumBatchingWindowInSeconds: 0.05 }, fn, broker);
    await fixture.sendAll(broker, queue, bodies);
    await waitFor(() => processedBodies().length === bodies.length, { what: 'all 25 messages' });

    // Assess
    expect(processedBodies()).toEqual(bodies);
    expect(overlapped).toBe(false);
  });

  test('stop waits for the batch in flight; when it fails, its messages and those behind it go back to the queue', async () => {
    // Prepare
    const broker = fixture.connect();
    const queue = fixture.freshQueue('stop');
    let releaseInvocation: () => void = () => undefined;
    const inFlight = new Promise<void>((resolve) => (releaseInvocation = resolve));
    const first = recordingMqFunction('mq-stop', async () => {
      await inFlight;
      throw new Error('region shutting down');
    });
    await fixture.sendAll(broker, queue, ['a', 'b', 'c', 'd', 'e', 'f']);
    const { mapping } = await fixture.startMapping({ queue, batchSize: 3, maximumBatchingWindowInSeconds: 0.2 }, first.fn, broker);
    await waitFor(() => first.invocations.length === 1, { what: 'a batch in flight' });

    // Act
    let stopped = false;
    const stopping = mapping.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const stoppedBeforeInvocationEnded = stopped;
    releaseInvocation();
    await stopping;
    const second = recordingMqFunction('mq-stop-next');
    await fixture.startMapping({ queue, batchSize: 10, maximumBatchingWindowInSeconds: 0.2 }, second.fn, broker);
    await waitFor(() => second.processedBodies().length === 6, { what: 'the next mapping to get all 6 messages' });

    // Assess
    expect(stoppedBeforeInvocationEnded).toBe(false);
    expect(first.invocations).toHaveLength(1);
    expect(first.invocations[0]!.bodies).toEqual(['a', 'b', 'c']);
    expect(second.processedBodies()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(second.invocations[0]!.event.messages.slice(0, 3).every((message) => message.redelivered)).toBe(true);
  });

  test('while the routing control that enables it is Off the mapping takes nothing, so another consumer can move the messages; On again, it resumes', async () => {
    // Prepare
    const broker = fixture.connect();
    const queue = fixture.freshQueue('enabled');
    const { fn, invocations, processedBodies } = recordingMqFunction('mq-enabled');
    let on = false;
    await fixture.sendAll(broker, queue, ['a', 'b']);
    const { mapping } = await fixture.startMapping({ queue, batchSize: 10, maximumBatchingWindowInSeconds: 0 }, fn, broker, async () => on);

    // Act
    await new Promise((resolve) => setTimeout(resolve, 500));
    const invokedWhileOff = invocations.length;
    const whileOff = await mapping.metrics();
    const moved = await fixture.drain(queue);
    await fixture.sendAll(broker, queue, ['c']);
    on = true;
    await waitFor(() => processedBodies().length === 1, { what: 'the mapping to take c once enabled' });

    // Assess
    expect(invokedWhileOff).toBe(0);
    expect(whileOff).toMatchObject({ state: 'Enabled', paused: true });
    expect(await mapping.metrics()).toMatchObject({ paused: false });
    expect(moved.map((message) => message.body)).toEqual(['a', 'b']);
    expect(processedBodies()).toEqual(['c']);
  });

  test('a mapping waiting on an idle queue notices its control turn Off before the next message comes', async () => {
    // Prepare
    const broker = fixture.connect();
    const queue = fixture.freshQueue('turned-off');
    const { fn, invocations } = recordingMqFunction('mq-turned-off');
    let on = true;
    const { mapping } = await fixture.startMapping({ queue, batchSize: 10, maximumBatchingWindowInSeconds: 0 }, fn, broker, async () => on);
    await new Promise((resolve) => setTimeout(resolve, 200));

    // Act
    on = false;
    await waitFor(async () => (await mapping.metrics()).paused, { what: 'the mapping to pause' });
    await fixture.sendAll(broker, queue, ['late']);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const moved = await fixture.drain(queue);

    // Assess
    expect(invocations).toHaveLength(0);
    expect(moved.map((message) => message.body)).toEqual(['late']);
  });
}

describe('Amazon MQ event-source mapping on the embedded STOMP broker', () => {
  let dataDir: string;
  let broker: RunningStompBroker;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rotor-mq-mapping-'));
    // The broker's default delivery limit (6), as the twin runs it.
    broker = await startStompBroker({ dataDir, port: 0 });
  });

  afterAll(async () => {
    await broker.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  mqMappingConformance(() => broker.url);
});

describe.skipIf(!activeMqUrl)(
  activeMqUrl
    ? `Amazon MQ event-source mapping on ActiveMQ at ${activeMqUrl}`
    : 'Amazon MQ event-source mapping on ActiveMQ (skipped: ROTOR_ACTIVEMQ_STOMP_URL is not set; run .ci/activemq.sh)',
  () => {
    mqMappingConformance(() => activeMqUrl as string);
  },
);
