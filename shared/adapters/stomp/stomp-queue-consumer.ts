/**
 * A consumer on one STOMP connection with one `client-individual` subscription. Messages the broker pushes are
 * buffered and handed out by receive(); each handed-out message is outstanding until acked, released or
 * dead-lettered. Released messages are redelivered by renewing the subscription once nothing is outstanding
 * (renewing earlier would also bring back the outstanding ones and deliver them twice).
 */
import { type BrokerMessage, BrokerUnavailableError, BrokerUsageError, type QueueConsumer, type ReceiveOptions } from '#shared/ports/message-broker.ts';
import { awaitReceipt, closeStomp, connectStomp, type StompClient, type StompMessage } from './stomp-connection.ts';
import type { DeliveryCounter, StompSettings } from './stomp-message-broker.ts';

// Headers that describe one delivery rather than the message the sender sent.
const DELIVERY_HEADERS = new Set(['destination', 'message-id', 'subscription', 'ack', 'redelivered', 'content-length', 'expires', 'priority', 'timestamp', 'persistent', 'originalExpiration']);

interface Delivery {
  readonly message: BrokerMessage;
  readonly frame: StompMessage;
  /** The connection the delivery came on; its ack handle is void on any later connection. */
  readonly connection: number;
}

export class StompQueueConsumer implements QueueConsumer {
  private client: StompClient | undefined;
  private subscription: ReturnType<StompClient['subscribe']> | undefined;
  /** Bumped for every new connection; deliveries from an earlier one can no longer be acked. */
  private connection = 0;
  /** Bumped for every new subscription; frames still arriving for an older one are dropped. */
  private subscriptionGeneration = 0;
  private readonly handedOutOn = new WeakMap<BrokerMessage, number>();
  private broken = false;
  private closed = false;
  private renewSubscription = false;
  private buffered: Delivery[] = [];
  private readonly outstanding = new Map<BrokerMessage, Delivery>();
  private wakeReceiver: (() => void) | undefined;

  constructor(
    private readonly queue: string,
    private readonly prefetch: number,
    private readonly settings: StompSettings,
    private readonly deliveryCounts: DeliveryCounter,
    private readonly onClosed: () => void,
  ) {}

  async start(): Promise<void> {
    const client = await connectStomp(this.settings.endpoint, this.settings.connectTimeoutMs, this.settings.secrets);
    const connection = ++this.connection;
    this.client = client;
    this.broken = false;
    client.on('error', () => {
      if (connection !== this.connection) return;
      // The broker takes back everything this connection held; local copies are void.
      this.broken = true;
      this.buffered = [];
      this.outstanding.clear();
      this.wakeReceiver?.();
    });
    this.subscribe();
  }

  async receive(options: ReceiveOptions): Promise<BrokerMessage[]> {
    if (this.closed) throw new BrokerUsageError(`consumer of ${this.queue} is closed`);
    if (this.broken) await this.start();
    if (this.renewSubscription && this.outstanding.size === 0) this.renew();

    const deadline = Date.now() + options.waitMs;
    const batch: BrokerMessage[] = [];
    while (batch.length < options.maxMessages) {
      const delivery = this.buffered.shift();
      if (delivery) {
        if (await this.handOut(delivery)) batch.push(delivery.message);
        continue;
      }
      if (batch.length > 0 || this.broken || this.closed) break;
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, remaining);
        this.wakeReceiver = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wakeReceiver = undefined;
    }
    if (this.broken && batch.length === 0) throw new BrokerUnavailableError(`lost the connection while consuming ${this.queue}`);
    return batch;
  }

  async ack(message: BrokerMessage): Promise<void> {
    const delivery = this.takeOutstanding(message, 'ack');
    await this.settle(delivery, 'ACK', `ack ${message.id} on ${this.queue}`);
    this.deliveryCounts.forget(message.id);
  }

  async release(message: BrokerMessage): Promise<void> {
    this.takeOutstanding(message, 'release');
    this.renewSubscription = true;
  }

  async deadLetter(message: BrokerMessage): Promise<void> {
    const delivery = this.takeOutstanding(message, 'dead-letter');
    await this.settle(delivery, 'NACK', `dead-letter ${message.id} from ${this.queue}`);
    this.deliveryCounts.forget(message.id);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.connection++;
    this.wakeReceiver?.();
    this.buffered = [];
    this.outstanding.clear();
    const client = this.client;
    this.client = undefined;
    if (client && !this.broken) await closeStomp(client, this.settings.connectTimeoutMs);
    this.onClosed();
  }

  /** Counts the hand-out; a message past its delivery limit is dead-lettered here instead (ActiveMQ never does). */
  private async handOut(delivery: Delivery): Promise<boolean> {
    const deliveries = this.deliveryCounts.record(delivery.message.id);
    if (deliveries <= this.settings.maxDeliveries) {
      this.outstanding.set(delivery.message, delivery);
      this.handedOutOn.set(delivery.message, delivery.connection);
      return true;
    }
    await this.settle(delivery, 'NACK', `dead-letter ${delivery.message.id} after ${deliveries - 1} deliveries`);
    this.deliveryCounts.forget(delivery.message.id);
    return false;
  }

  private subscribe(): void {
    const client = this.client;
    if (!client) return;
    const connection = this.connection;
    const generation = ++this.subscriptionGeneration;
    this.subscription = client.subscribe(
      { destination: `/queue/${this.queue}`, ack: 'client-individual', 'activemq.prefetchSize': String(this.prefetch) },
      (error, frame) => {
        if (error) return;
        // The body is always read: stompit hands out the next frame only after this one is consumed.
        frame.readString('utf-8', (readError, body) => {
          if (readError || generation !== this.subscriptionGeneration || connection !== this.connection) return;
          const message = toBrokerMessage(this.queue, frame as StompMessage, body ?? '');
          this.buffered.push({ message, frame: frame as StompMessage, connection });
          this.wakeReceiver?.();
        });
      },
    );
  }

  /** Renewing the subscription makes the broker redeliver everything this consumer left unacknowledged. */
  private renew(): void {
    this.renewSubscription = false;
    // Buffered messages were never handed out; the broker redelivers them after the renewal too.
    this.buffered = [];
    // The broker handles frames of one connection in order, so the new SUBSCRIBE comes after the old one ended.
    this.subscription?.unsubscribe();
    this.subscribe();
  }

  private takeOutstanding(message: BrokerMessage, action: string): Delivery {
    if (this.closed) throw new BrokerUsageError(`consumer of ${this.queue} is closed`);
    const delivery = this.outstanding.get(message);
    if (!delivery) {
      const connection = this.handedOutOn.get(message);
      if (connection !== undefined && (connection !== this.connection || this.broken)) {
        throw new BrokerUnavailableError(`cannot ${action} ${message.id}: the connection it came on is gone; the broker redelivers it`);
      }
      throw new BrokerUsageError(`cannot ${action} ${message.id}: it is not an outstanding message of this consumer`);
    }
    this.outstanding.delete(message);
    return delivery;
  }

  private settle(delivery: Delivery, command: 'ACK' | 'NACK', doing: string): Promise<void> {
    const client = this.client;
    if (!client || this.broken || delivery.connection !== this.connection) {
      return Promise.reject(new BrokerUnavailableError(`cannot ${doing}: the connection it came on is gone; the broker redelivers it`));
    }
    return awaitReceipt(client, doing, this.settings.receiptTimeoutMs, (options) => {
      if (command === 'ACK') client.ack(delivery.frame, {}, options);
      else client.nack(delivery.frame, {}, options);
    });
  }
}

function toBrokerMessage(queue: string, frame: StompMessage, body: string): BrokerMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(frame.headers)) if (!DELIVERY_HEADERS.has(name)) headers[name] = value;
  return { id: frame.headers['message-id'] ?? '', queue, body, headers, redelivered: frame.headers.redelivered === 'true' };
}
