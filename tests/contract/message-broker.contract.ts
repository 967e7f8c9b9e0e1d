/**
 * The message-broker contract: what every broker Rotor runs on must do, checked through the port only.
 * Run against the embedded broker always and against ActiveMQ when one is configured.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, expect, it } from 'vitest';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { type BrokerMessage, type MessageBroker, type QueueConsumer, deadLetterQueueName } from '#shared/ports/message-broker.ts';
import { startSeverableTcpProxy } from './support/severable-tcp-proxy.ts';

export interface BrokerUnderTest {
  /** Where the broker listens right now (a restart may move it). */
  url(): string;
  /** Deliveries after which the broker (or the adapter) dead-letters a message. */
  readonly maxDeliveries: number;
  /** Stops and starts the broker on the same storage; absent when the suite cannot restart this broker. */
  restart?(): Promise<void>;
}

const WAIT_MS = 5_000;

export function messageBrokerContract(broker: BrokerUnderTest): void {
  const opened: MessageBroker[] = [];
  const connect = (url = broker.url()): MessageBroker => {
    const adapter = new StompMessageBroker({ url, maxDeliveries: broker.maxDeliveries, receiptTimeoutMs: 10_000 });
    opened.push(adapter);
    return adapter;
  };
  const freshQueue = () => `rotor-contract-${randomUUID().slice(0, 8)}`;

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((adapter) => adapter.close()));
  });

  it('delivers a receipted message with its body and headers to a consumer', async () => {
    // Prepare
    const mq = connect();
    const queue = freshQueue();
    // Act
    await mq.send(queue, '{"tradeID":"4821937"}', { 'correlation-id': 'QAINS012-4821937', 'content-type': 'application/json' });
    const consumer = await mq.consume(queue);
    const [message] = await receiveExactly(consumer, 1);
    // Assess
    expect(message).toMatchObject({ queue, body: '{"tradeID":"4821937"}', redelivered: false });
    expect(message?.headers).toMatchObject({ 'correlation-id': 'QAINS012-4821937', 'content-type': 'application/json' });
    expect(message?.id).not.toBe('');
  });

  it('delivers the messages of one queue in the order they were sent, even when sends overlap (FIFO)', async () => {
    // Prepare
    const mq = connect();
    const queue = freshQueue();
    const bodies = Array.from({ length: 30 }, (_, index) => `leg-${index}`);
    // Act
    await Promise.all(bodies.map((body) => mq.send(queue, body)));
    const consumer = await mq.consume(queue, { prefetch: 7 });
    const received: BrokerMessage[] = [];
    while (received.length < bodies.length) {
      const batch = await consumer.receive({ maxMessages: 4, waitMs: WAIT_MS });
      expect(batch.length).toBeGreaterThan(0);
      for (const message of batch) await consumer.ack(message);
      received.push(...batch);
    }
    // Assess
    expect(received.map((message) => message.body)).toEqual(bodies);
  });

  it('removes an acked message for good: depth 0 and nothing for the next consumer', async () => {
    // Prepare
    const mq = connect();
    const queue = freshQueue();
    await mq.send(queue, 'settled once');
    const first = await mq.consume(queue);
    const [message] = await receiveExactly(first, 1);
    // Act
    await first.ack(message as BrokerMessage);
    await first.close();
    // Assess
    expect(await mq.queueDepth(queue)).toBe(0);
    const second = await mq.consume(queue);
    expect(await second.receive({ maxMessages: 1, waitMs: 300 })).toEqual([]);
  });

  it('redelivers a released message with redelivered:true and the same id, ahead of later messages', async () => {
    // Prepare
    const mq = connect();
    const queue = freshQueue();
    await mq.send(queue, 'first');
    await mq.send(queue, 'second');
    const consumer = await mq.consume(queue, { prefetch: 1 });
    const [original] = await receiveExactly(consumer, 1);
    // Act
    await consumer.release(original as BrokerMessage);
    const [again] = await receiveExactly(consumer, 1);
    // Assess
    expect(again).toMatchObject({ id: original?.id, body: 'first', redelivered: true });
  });

  it('gives what a crashed consumer held to the next consumer, flagged redelivered', async () => {
    // Prepare
    const proxy = await startSeverableTcpProxy(hostAndPort(broker.url()));
    const queue = freshQueue();
    const sender = connect();
    await sender.send(queue, 'held by the crashed consumer');
    const doomed = await connect(proxy.url).consume(queue);
    const [held] = await receiveExactly(doomed, 1);
    // Act
    proxy.sever();
    const survivor = await connect().consume(queue);
    const [redelivered] = await receiveExactly(survivor, 1);
    // Assess
    expect(redelivered).toMatchObject({ id: held?.id, body: 'held by the crashed consumer', redelivered: true });
    await proxy.close();
  });

  it('moves a dead-lettered (NACKed) message to DLQ.<queue> at once and goes on with the next', async () => {
    // Prepare
    const mq = connect();
    const queue = freshQueue();
    await mq.send(queue, 'malformed', { 'correlation-id': 'poison-1' });
    await mq.send(queue, 'valid');
    const consumer = await mq.consume(queue, { prefetch: 1 });
    const [poison] = await receiveExactly(consumer, 1);
    // Act
    await consumer.deadLetter(poison as BrokerMessage);
    const [next] = await receiveExactly(consumer, 1);
    // Assess
    expect(next?.body).toBe('valid');
    const deadLetters = await mq.consume(deadLetterQueueName(queue));
    const [dead] = await receiveExactly(deadLetters, 1);
    expect(dead).toMatchObject({ body: 'malformed', queue: `DLQ.${queue}` });
    expect(dead?.headers['correlation-id']).toBe('poison-1');
  });

  it(`dead-letters a message released ${broker.maxDeliveries} times; the message behind it is then delivered`, async () => {
    // Prepare
    const mq = connect();
    const queue = freshQueue();
    await mq.send(queue, 'poison');
    await mq.send(queue, 'behind the poison');
    const consumer = await mq.consume(queue, { prefetch: 1 });
    // Act
    let poisonDeliveries = 0;
    let delivered: BrokerMessage | undefined;
    while (!delivered && poisonDeliveries <= broker.maxDeliveries) {
      const [message] = await receiveExactly(consumer, 1);
      if (message?.body === 'poison') {
        poisonDeliveries++;
        await consumer.release(message);
      } else {
        delivered = message;
      }
    }
    // Assess
    expect(poisonDeliveries).toBe(broker.maxDeliveries);
    expect(delivered?.body).toBe('behind the poison');
    const [dead] = await receiveExactly(await mq.consume(deadLetterQueueName(queue)), 1);
    expect(dead?.body).toBe('poison');
  });

  it('reports queue depth as ready plus delivered-but-unacked messages, beyond ActiveMQ\'s 400-message browse page', async () => {
    // Prepare
    const mq = connect();
    const queue = freshQueue();
    await Promise.all(Array.from({ length: 450 }, (_, index) => mq.send(queue, `leg-${index}`)));
    const consumer = await mq.consume(queue, { prefetch: 1 });
    const [inFlight] = await receiveExactly(consumer, 1);
    // Act
    const depthWithOneInFlight = await mq.queueDepth(queue);
    await consumer.ack(inFlight as BrokerMessage);
    const depthAfterAck = await mq.queueDepth(queue);
    // Assess
    expect(depthWithOneInFlight).toBe(450);
    expect(depthAfterAck).toBe(449);
  });

  it.skipIf(!broker.restart)('keeps every receipted, unacked message across a broker restart and forgets acked ones', async () => {
    // Prepare
    const queue = freshQueue();
    const before = connect();
    for (const body of ['acked', 'in flight', 'ready']) await before.send(queue, body);
    const consumer = await before.consume(queue, { prefetch: 2 });
    const [acked, inFlight] = await receiveExactly(consumer, 2);
    await consumer.ack(acked as BrokerMessage);
    expect(inFlight?.body).toBe('in flight');
    // Act
    await before.close();
    await broker.restart?.();
    const after = connect();
    const survivors = await receiveExactly(await after.consume(queue), 2);
    // Assess
    expect(survivors.map((message) => message.body)).toEqual(['in flight', 'ready']);
    expect(survivors[0]?.id).toBe(inFlight?.id);
  });
}

/** Receives until `count` messages arrived (bounded by a deadline), failing if fewer or more show up. */
export async function receiveExactly(consumer: QueueConsumer, count: number, waitMs = WAIT_MS): Promise<BrokerMessage[]> {
  const deadline = Date.now() + waitMs;
  const received: BrokerMessage[] = [];
  while (received.length < count && Date.now() < deadline) {
    received.push(...(await consumer.receive({ maxMessages: count - received.length, waitMs: deadline - Date.now() })));
  }
  expect(received.map((message) => message.body)).toHaveLength(count);
  return received;
}

export function hostAndPort(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}
