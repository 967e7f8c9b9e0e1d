/**
 * The twin's embedded message broker: a STOMP 1.2 server with durable queues, started in-process by a region.
 * Rotor's STOMP adapter talks to it exactly as it talks to ActiveMQ.
 */
import { listen } from '#local/support/listen.ts';
import { readdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { QueueRegistry } from './broker.ts';
import { StompConnection } from './connection.ts';

export interface StompBrokerOptions {
  /** Where the queue journals live; restarting on the same directory brings every unacknowledged message back. */
  readonly dataDir: string;
  /** 0 picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Deliveries after which an unacknowledged message goes to `DLQ.<queue>` (ActiveMQ's default is 6). */
  readonly maxDeliveries?: number;
  /** Storage failures the broker could not report to a client (e.g. while dispatching an auto-ack delivery). */
  readonly onFailure?: (error: unknown) => void;
  /** Chaos: whether a message sent to this queue is to be stored twice. */
  readonly duplicateSends?: (queue: string) => boolean;
}

export interface RunningStompBroker {
  readonly host: string;
  readonly port: number;
  /** `stomp://host:port`, what Rotor's STOMP adapter is configured with. */
  readonly url: string;
  /** Ready plus delivered-but-unacknowledged messages on a queue. */
  queueDepth(queue: string): Promise<number>;
  /** Stops listening, drops every connection (their unacknowledged messages stay queued) and closes the journals. */
  close(): Promise<void>;
}

export async function startStompBroker(options: StompBrokerOptions): Promise<RunningStompBroker> {
  const queues = new QueueRegistry({ dataDir: options.dataDir, maxDeliveries: options.maxDeliveries, onFailure: options.onFailure, duplicateSends: options.duplicateSends });
  await openExistingQueues(queues, options.dataDir);

  const connections = new Set<StompConnection>();
  const server: Server = createServer((socket) => {
    socket.setNoDelay(true);
    const connection = new StompConnection(socket, queues);
    connections.add(connection);
    socket.on('close', () => connections.delete(connection));
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, host, options.port ?? 0);

  return {
    host,
    port,
    url: `stomp://${host}:${port}`,
    queueDepth: (queue) => queues.depth(queue),
    async close() {
      const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) connection.destroy();
      await stopped;
      // Let the connections hand their deliveries back before the journals close.
      await new Promise((resolve) => setImmediate(resolve));
      await queues.close();
    },
  };
}

/** Loads every queue that has a journal, so operators see their depth before any client touches them. */
async function openExistingQueues(queues: QueueRegistry, dataDir: string): Promise<void> {
  let files: string[];
  try {
    files = await readdir(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const file of files) {
    if (file.endsWith('.journal')) await queues.queue(decodeURIComponent(file.slice(0, -'.journal'.length)));
  }
}
