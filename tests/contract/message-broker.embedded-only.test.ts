/**
 * What the embedded broker promises beyond the shared contract: nothing receipted is lost and nothing acked comes
 * back after a SIGKILL, its own delivery limit, journal compaction, and STOMP ERROR frames for bad input.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RunningStompBroker, startStompBroker } from '#local/mq/stomp-broker.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { type BrokerMessage, BrokerUnavailableError, deadLetterQueueName } from '#shared/ports/message-broker.ts';
import { receiveExactly } from './message-broker.contract.ts';

const repositoryRoot = join(import.meta.dirname, '..', '..');

describe('embedded STOMP broker', () => {
  let dataDir: string;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rotor-mq-embedded-'));
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await rm(dataDir, { recursive: true, force: true });
  });

  const adapter = (url: string, maxDeliveries = 6) => {
    const mq = new StompMessageBroker({ url, maxDeliveries });
    cleanups.push(() => mq.close());
    return mq;
  };

  it('loses nothing receipted and brings back nothing acked after the broker process is SIGKILLed', async () => {
    // Prepare
    const first = await spawnBrokerProcess(dataDir);
    const mq = adapter(first.url);
    const queue = 'trades';
    const receipted = Array.from({ length: 40 }, (_, index) => `leg-${index}`);
    await Promise.all(receipted.map((body) => mq.send(queue, body)));
    const consumer = await mq.consume(queue, { prefetch: 40 });
    const acked = await receiveExactly(consumer, 15);
    await Promise.all(acked.map((message) => consumer.ack(message)));
    await receiveExactly(consumer, 5); // held in flight, never acked
    const lateSends = Array.from({ length: 20 }, (_, index) => `late-${index}`);
    const lateOutcomes = lateSends.map((body) => mq.send(queue, body).then(() => body, () => undefined));
    // Act
    first.process.kill('SIGKILL');
    await once(first.process, 'exit');
    const lateReceipted = (await Promise.all(lateOutcomes)).filter((body) => body !== undefined);
    const second = await spawnBrokerProcess(dataDir);
    const survivors = await drain(adapter(second.url), queue);
    // Assess
    const ackedBodies = new Set(acked.map((message) => message.body));
    const mustSurvive = [...receipted.filter((body) => !ackedBodies.has(body)), ...lateReceipted];
    expect(survivors.filter((body) => ackedBodies.has(body))).toEqual([]);
    expect(survivors.filter((body) => mustSurvive.includes(body))).toEqual(mustSurvive);
    expect(new Set(survivors).size).toBe(survivors.length);
  });

  it('dead-letters a message after maxDeliveries deliveries even when each consumer is a new client', async () => {
    // Prepare
    const broker = await startBroker({ dataDir, maxDeliveries: 3 });
    await adapter(broker.url).send('settlements', 'poison', { 'correlation-id': 'leg-7' });
    // Act
    for (let delivery = 1; delivery <= 3; delivery++) {
      const forgetfulClient = adapter(broker.url, 100);
      const consumer = await forgetfulClient.consume('settlements', { prefetch: 1 });
      await receiveExactly(consumer, 1);
      await consumer.close();
    }
    // Assess
    const mq = adapter(broker.url);
    await expect.poll(() => broker.queueDepth('settlements'), { timeout: 2_000 }).toBe(0);
    const [dead] = await receiveExactly(await mq.consume(deadLetterQueueName('settlements')), 1);
    expect(dead?.headers).toMatchObject({
      'correlation-id': 'leg-7',
      'original-destination': '/queue/settlements',
      'rotor-dead-letter-reason': 'max-deliveries',
    });
  });

  it('compacts a queue journal once acked records dominate, keeping the unacked messages', async () => {
    // Prepare
    const broker = await startBroker({ dataDir });
    const mq = adapter(broker.url);
    const bodies = Array.from({ length: 1_100 }, (_, index) => `leg-${index}`);
    await Promise.all(bodies.map((body) => mq.send('responses', body)));
    const consumer = await mq.consume('responses', { prefetch: 200 });
    // Act
    let acked = 0;
    while (acked < 1_095) {
      const batch = await consumer.receive({ maxMessages: Math.min(100, 1_095 - acked), waitMs: 5_000 });
      await Promise.all(batch.map((message) => consumer.ack(message)));
      acked += batch.length;
    }
    await consumer.close();
    // Assess
    const journal = await readFile(join(dataDir, 'responses.journal'), 'utf8');
    expect(journal.split('\n').length).toBeLessThan(1_000);
    await broker.close();
    const reopened = await startBroker({ dataDir });
    expect(await reopened.queueDepth('responses')).toBe(5);
    expect(await drain(adapter(reopened.url), 'responses')).toEqual(bodies.slice(1_095));
  });

  it('answers bad frames with an ERROR frame naming the problem and the receipt, then closes', async () => {
    // Prepare
    const broker = await startBroker({ dataDir });
    const cases = [
      { frames: 'SEND\ndestination:/queue/trades\n\nearly\0', error: /before CONNECT/ },
      { frames: 'CONNECT\naccept-version:1.2\n\n\0SEND\ndestination:/topic/trades\nreceipt:r-1\n\nx\0', error: /unsupported destination/, receipt: 'r-1' },
      { frames: 'CONNECT\naccept-version:1.2\n\n\0SUBSCRIBE\nid:1\ndestination:/queue/trades\nack:sometimes\n\n\0', error: /unknown ack mode/ },
      { frames: 'CONNECT\naccept-version:1.2\n\n\0ACK\nid:9:9\n\n\0', error: /unknown delivery/ },
      { frames: 'CONNECT\naccept-version:1.2\n\n\0hello there\n\n\0', error: /malformed command/ },
      { frames: 'CONNECT\naccept-version:3.0\n\n\0', error: /supported protocol versions/ },
    ];
    for (const { frames, error, receipt } of cases) {
      // Act
      const reply = await exchangeRaw(broker.port, frames);
      // Assess
      const errorFrame = reply.slice(reply.indexOf('ERROR\n'));
      expect(errorFrame, frames).toMatch(/^ERROR\n/);
      expect(errorFrame).toMatch(error);
      if (receipt) expect(errorFrame).toContain(`receipt-id:${receipt}`);
    }
  });

  it('reports an unreachable broker as a transient BrokerUnavailableError', async () => {
    // Prepare
    const broker = await startBroker({ dataDir });
    const url = broker.url;
    await broker.close();
    // Act
    const sending = adapter(url).send('trades', 'nobody listens');
    // Assess
    await expect(sending).rejects.toBeInstanceOf(BrokerUnavailableError);
    await expect(sending).rejects.toMatchObject({ transient: true });
  });

  async function startBroker(options: { dataDir: string; maxDeliveries?: number }): Promise<RunningStompBroker> {
    const broker = await startStompBroker({ ...options, port: 0 });
    cleanups.push(() => broker.close());
    return broker;
  }

  async function spawnBrokerProcess(directory: string): Promise<{ url: string; process: ChildProcess }> {
    const child = spawn(process.execPath, ['--import', 'tsx', 'local/mq/main.ts', '--data-dir', directory, '--port', '0'], {
      cwd: repositoryRoot,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    });
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    const [line] = (await Promise.race([once(lines, 'line'), once(child, 'exit').then(() => ['exited'])])) as string[];
    const started = JSON.parse(line ?? '') as { url: string };
    return { url: started.url, process: child };
  }
});

/** Receives and acks until the queue stays empty; returns the bodies in delivery order. */
async function drain(mq: StompMessageBroker, queue: string): Promise<string[]> {
  const consumer = await mq.consume(queue, { prefetch: 100 });
  const bodies: string[] = [];
  for (;;) {
    const batch: BrokerMessage[] = await consumer.receive({ maxMessages: 100, waitMs: 500 });
    if (batch.length === 0) return bodies;
    await Promise.all(batch.map((message) => consumer.ack(message)));
    bodies.push(...batch.map((message) => message.body));
  }
}

/** Writes raw bytes to the broker and collects everything it answers until it closes the connection. */
async function exchangeRaw(port: number, frames: string): Promise<string> {
  const socket = connectTcp(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.write(frames);
  const closed = once(socket, 'close');
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('broker did not close the connection')), 3_000));
  await Promise.race([closed, timeout]);
  return Buffer.concat(chunks).toString('utf8');
}
