/**
 * The message-broker port over STOMP 1.2. The same class runs against Amazon MQ / Apache ActiveMQ and against the
 * twin's embedded broker, so it only relies on what both do:
 * - SEND with a receipt; ActiveMQ keeps a message durably only with `persistent:true`.
 * - `client-individual` acks with receipts; NACK dead-letters straight to `DLQ.<queue>` (ActiveMQ poison ack).
 * - "release" has no STOMP frame: the message is left unacknowledged and the subscription is renewed, which makes
 *   the broker redeliver it with `redelivered:true`.
 * - ActiveMQ over STOMP redelivers forever, so this adapter dead-letters a message itself once it has handed it
 *   out `maxDeliveries` times (the embedded broker also enforces the limit on its side).
 * - Queue depth comes from an ActiveMQ-style browser subscription (`browser:true` … `browser:end`).
 */
import type { ConsumeOptions, MessageBroker, MessageHeaders, QueueConsumer } from '#shared/ports/message-broker.ts';
import { BrokerUnavailableError, BrokerUsageError } from '#shared/ports/message-broker.ts';
import type { SecretSource } from '#shared/ports/secrets.ts';
import { StompQueueConsumer } from './stomp-queue-consumer.ts';
import { awaitReceipt, closeStomp, connectStomp, parseStompEndpoints, toBrokerError, type StompClient, type StompEndpoint, type StompMessage } from './stomp-connection.ts';

export interface StompMessageBrokerOptions {
  /**
   * `stomp://[login:passcode@]host:port` or `stomp+ssl://host:port?credentials=<secret id>`, or a comma-separated list
   * of them for an active/standby pair (see parseStompEndpoints).
   */
  readonly url: string;
  /** Where a `credentials` secret of the URL is read; Secrets Manager when omitted. */
  readonly secrets?: SecretSource;
  /** Deliveries after which a message is dead-lettered instead of handed out again (ActiveMQ's default is 6). */
  readonly maxDeliveries?: number;
  readonly connectTimeoutMs?: number;
  /** How long to wait for a broker receipt before treating the broker as unavailable. */
  readonly receiptTimeoutMs?: number;
  /** Default prefetch for consumers. */
  readonly prefetch?: number;
}

export interface StompSettings {
  /** Every endpoint of the URL (one, or each instance of an active/standby pair); connectStomp fails over between them. */
  readonly endpoint: readonly StompEndpoint[];
  readonly secrets: SecretSource | undefined;
  readonly maxDeliveries: number;
  readonly connectTimeoutMs: number;
  readonly receiptTimeoutMs: number;
}

// Frame headers that belong to STOMP or the broker, not to the sender: a sender may not set them.
const RESERVED_HEADERS = new Set(['destination', 'receipt', 'content-length', 'transaction', 'message-id', 'subscription', 'ack', 'redelivered', 'persistent']);

export class StompMessageBroker implements MessageBroker {
  private readonly settings: StompSettings;
  private readonly defaultPrefetch: number;
  private readonly deliveryCounts = new DeliveryCounter();
  private readonly consumers = new Set<StompQueueConsumer>();
  private sender: Promise<StompClient> | undefined;
  private closed = false;

  constructor(options: StompMessageBrokerOptions) {
    this.settings = {
      endpoint: parseStompEndpoints(options.url),
      secrets: options.secrets,
      maxDeliveries: options.maxDeliveries ?? 6,
      connectTimeoutMs: options.connectTimeoutMs ?? 5_000,
      receiptTimeoutMs: options.receiptTimeoutMs ?? 15_000,
    };
    this.defaultPrefetch = options.prefetch ?? 100;
  }

  async send(queue: string, body: string, headers: MessageHeaders = {}): Promise<void> {
    this.ensureOpen();
    assertQueueName(queue);
    for (const name of Object.keys(headers)) {
      if (RESERVED_HEADERS.has(name)) throw new BrokerUsageError(`header '${name}' is set by the broker, not the sender`);
    }
    const client = await this.senderClient();
    await awaitReceipt(client, `send to ${queue}`, this.settings.receiptTimeoutMs, (options) => {
      client.send({ ...headers, destination: `/queue/${queue}`, persistent: 'true' }, options).end(body);
    });
  }

  async consume(queue: string, options: ConsumeOptions = {}): Promise<QueueConsumer> {
    this.ensureOpen();
    assertQueueName(queue);
    const consumer = new StompQueueConsumer(queue, options.prefetch ?? this.defaultPrefetch, this.settings, this.deliveryCounts, () =>
      this.consumers.delete(consumer),
    );
    await consumer.start();
    this.consumers.add(consumer);
    return consumer;
  }

  /** Counts the queue by browsing it on a short-lived connection, so no consumer is disturbed. */
  async queueDepth(queue: string): Promise<number> {
    this.ensureOpen();
    assertQueueName(queue);
    const client = await connectStomp(this.settings.endpoint, this.settings.connectTimeoutMs, this.settings.secrets);
    try {
      return await new Promise<number>((resolve, reject) => {
        let count = 0;
        const timer = setTimeout(() => reject(new BrokerUnavailableError(`browsing ${queue} did not finish in time`)), this.settings.receiptTimeoutMs);
        client.on('error', (error: Error) => {
          clearTimeout(timer);
          reject(toBrokerError(error, `browse ${queue}`));
        });
        client.subscribe({ destination: `/queue/${queue}`, browser: 'true', ack: 'auto' }, (error, message) => {
          if (error) return;
          const headers = (message as StompMessage).headers;
          message.resume();
          if (headers.browser === 'end') {
            clearTimeout(timer);
            resolve(count);
          } else {
            count++;
          }
        });
      });
    } finally {
      await closeStomp(client, this.settings.connectTimeoutMs);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.consumers].map((consumer) => consumer.close()));
    const sender = this.sender;
    this.sender = undefined;
    if (sender) await sender.then((client) => closeStomp(client, this.settings.connectTimeoutMs)).catch(() => undefined);
  }

  /** One shared connection for sending; replaced after it fails, so an outage heals on the next send. */
  private senderClient(): Promise<StompClient> {
    if (!this.sender) {
      const connecting = connectStomp(this.settings.endpoint, this.settings.connectTimeoutMs, this.settings.secrets);
      this.sender = connecting;
      connecting.then(
        (client) => client.on('error', () => this.sender === connecting && (this.sender = undefined)),
        () => this.sender === connecting && (this.sender = undefined),
      );
    }
    return this.sender;
  }

  private ensureOpen(): void {
    if (this.closed) throw new BrokerUsageError('message broker is closed');
  }
}

function assertQueueName(queue: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(queue)) throw new BrokerUsageError(`invalid queue name '${queue}'`);
}

/** How often this process handed each message out; bounded, oldest entries are forgotten first. */
export class DeliveryCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly capacity = 50_000) {}

  /** Records one more delivery and returns the total. */
  record(messageId: string): number {
    const count = (this.counts.get(messageId) ?? 0) + 1;
    this.counts.delete(messageId);
    this.counts.set(messageId, count);
    if (this.counts.size > this.capacity) this.counts.delete(this.counts.keys().next().value as string);
    return count;
  }

  forget(messageId: string): void {
    this.counts.delete(messageId);
  }
}
