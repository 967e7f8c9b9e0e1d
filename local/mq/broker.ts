/**
 * Queues of the embedded broker: FIFO per queue, durable through the journal, at-least-once delivery to
 * subscriptions with per-subscription prefetch, redelivery of whatever a subscription leaves unacknowledged,
 * and dead-lettering to `DLQ.<queue>` on NACK or once a message was delivered `maxDeliveries` times.
 */
import { randomUUID } from 'node:crypto';
import { QueueJournal, type StoredMessage } from './journal.ts';

export const DEAD_LETTER_PREFIX = 'DLQ.';
export const DEFAULT_MAX_DELIVERIES = 6;

export type AckMode = 'auto' | 'client' | 'client-individual';

export interface QueuedMessage {
  readonly stored: StoredMessage;
  deliveries: number;
}

/** What the broker needs from a connection to push messages to it. */
export interface DeliveryTarget {
  deliver(subscription: Subscription, message: QueuedMessage, ackId: string | undefined): void;
}

export class Subscription {
  /** Delivered, not yet acknowledged, in delivery order (client-mode ACK is cumulative over this order). */
  readonly unacked = new Map<string, QueuedMessage>();
  private nextAckId = 1;

  constructor(
    readonly id: string,
    readonly queue: BrokerQueue,
    readonly ackMode: AckMode,
    readonly prefetch: number,
    readonly target: DeliveryTarget,
  ) {}

  hasCapacity(): boolean {
    return this.ackMode === 'auto' || this.unacked.size < this.prefetch;
  }

  issueAckId(): string {
    return `${this.id}:${this.nextAckId++}`;
  }
}

/** The client named a message it was never given, or already settled. */
export class UnknownDeliveryError extends Error {
  override name = 'UnknownDeliveryError';
}

export class BrokerQueue {
  private readonly ready: QueuedMessage[] = [];
  private readonly inFlight = new Set<QueuedMessage>();
  private readonly subscriptions: Subscription[] = [];
  private nextConsumer = 0;
  private nextSeq: number;

  constructor(
    readonly name: string,
    private readonly journal: QueueJournal,
    restored: readonly StoredMessage[],
    private readonly broker: QueueRegistry,
  ) {
    for (const stored of restored) this.ready.push({ stored, deliveries: 0 });
    this.nextSeq = (restored.at(-1)?.seq ?? 0) + 1;
  }

  get isDeadLetterQueue(): boolean {
    return this.name.startsWith(DEAD_LETTER_PREFIX);
  }

  /** Ready plus delivered-but-unacknowledged. */
  depth(): number {
    return this.ready.length + this.inFlight.size;
  }

  /** Everything on the queue in FIFO order, for browsing. */
  snapshot(): QueuedMessage[] {
    return [...this.ready, ...this.inFlight].sort((a, b) => a.stored.seq - b.stored.seq);
  }

  /** Resolves once the message is on disk; only then does it become deliverable. */
  async enqueue(headers: Record<string, string>, body: Buffer): Promise<void> {
    // A chaos fault stores the message twice, as a client resending after a lost receipt would (two broker ids).
    const copies = this.broker.duplicatesSend(this.name) ? 2 : 1;
    for (let copy = 0; copy < copies; copy += 1) {
      const stored: StoredMessage = { seq: this.nextSeq++, id: `ID:rotor-${randomUUID()}`, headers, body };
      await this.journal.appendMessage(stored);
      this.insertReady({ stored, deliveries: 0 });
    }
    this.dispatch();
  }

  addSubscription(subscription: Subscription): void {
    this.subscriptions.push(subscription);
    this.dispatch();
  }

  /** The subscription ends (UNSUBSCRIBE or its connection dropped): what it held unacknowledged goes back. */
  async removeSubscription(subscription: Subscription): Promise<void> {
    const index = this.subscriptions.indexOf(subscription);
    if (index >= 0) this.subscriptions.splice(index, 1);
    const held = [...subscription.unacked.values()];
    subscription.unacked.clear();
    await Promise.all(held.map((message) => this.giveBack(message)));
    this.dispatch();
  }

  /** Resolves once the acknowledgement is on disk. */
  async ack(subscription: Subscription, ackId: string): Promise<void> {
    await Promise.all(this.takeSettled(subscription, ackId).map((message) => this.remove(message)));
    this.dispatch();
  }

  async nack(subscription: Subscription, ackId: string): Promise<void> {
    await Promise.all(this.takeSettled(subscription, ackId).map((message) => this.deadLetter(message, 'nack')));
    this.dispatch();
  }

  async close(): Promise<void> {
    await this.journal.close();
  }

  private takeSettled(subscription: Subscription, ackId: string): QueuedMessage[] {
    if (!subscription.unacked.has(ackId)) throw new UnknownDeliveryError(`no unacknowledged delivery '${ackId}' on subscription ${subscription.id}`);
    const settled: QueuedMessage[] = [];
    for (const [id, message] of subscription.unacked) {
      if (subscription.ackMode === 'client' || id === ackId) {
        settled.push(message);
        subscription.unacked.delete(id);
      }
      if (id === ackId) break;
    }
    for (const message of settled) this.inFlight.delete(message);
    return settled;
  }

  private async giveBack(message: QueuedMessage): Promise<void> {
    this.inFlight.delete(message);
    // A dead-letter queue keeps its messages however often they fail; there is nowhere further to send them.
    if (message.deliveries >= this.broker.maxDeliveries && !this.isDeadLetterQueue) {
      await this.deadLetter(message, 'max-deliveries');
    } else {
      this.insertReady(message);
    }
  }

  private async deadLetter(message: QueuedMessage, reason: 'nack' | 'max-deliveries'): Promise<void> {
    const deadLetterQueue = await this.broker.queue(`${DEAD_LETTER_PREFIX}${this.name}`);
    const headers = {
      ...message.stored.headers,
      'original-destination': `/queue/${this.name}`,
      'rotor-dead-letter-reason': reason,
      'rotor-deliveries': String(message.deliveries),
    };
    // Written to the dead-letter queue before it leaves this one: a crash in between duplicates, never loses.
    await deadLetterQueue.enqueue(headers, message.stored.body);
    await this.remove(message);
  }

  private async remove(message: QueuedMessage): Promise<void> {
    await this.journal.appendAck(message.stored.id);
    if (this.journal.needsCompaction()) await this.journal.compact(this.snapshot().map((entry) => entry.stored));
  }

  private insertReady(message: QueuedMessage): void {
    // Messages coming back keep their place: FIFO by the sequence they were accepted in.
    let index = this.ready.length;
    while (index > 0 && (this.ready[index - 1]?.stored.seq ?? 0) > message.stored.seq) index--;
    this.ready.splice(index, 0, message);
  }

  private dispatch(): void {
    while (this.ready.length > 0) {
      const subscription = this.nextSubscriptionWithCapacity();
      if (!subscription) return;
      const message = this.ready.shift() as QueuedMessage;
      message.deliveries++;
      if (subscription.ackMode === 'auto') {
        this.inFlight.add(message);
        subscription.target.deliver(subscription, message, undefined);
        this.inFlight.delete(message);
        void this.remove(message).catch((error: unknown) => this.broker.reportFailure(error));
      } else {
        const ackId = subscription.issueAckId();
        subscription.unacked.set(ackId, message);
        this.inFlight.add(message);
        subscription.target.deliver(subscription, message, ackId);
      }
    }
  }

  private nextSubscriptionWithCapacity(): Subscription | undefined {
    for (let tried = 0; tried < this.subscriptions.length; tried++) {
      const candidate = this.subscriptions[(this.nextConsumer + tried) % this.subscriptions.length];
      if (candidate?.hasCapacity()) {
        this.nextConsumer = (this.nextConsumer + tried + 1) % this.subscriptions.length;
        return candidate;
      }
    }
    return undefined;
  }
}

export interface QueueRegistryOptions {
  readonly dataDir: string;
  readonly maxDeliveries?: number;
  readonly onFailure?: (error: unknown) => void;
  /** Chaos: whether a message sent to this queue is to be stored twice (duplicate delivery). */
  readonly duplicateSends?: (queue: string) => boolean;
}

/** All queues of one broker, opened from disk on first use. */
export class QueueRegistry {
  readonly maxDeliveries: number;
  private readonly queues = new Map<string, Promise<BrokerQueue>>();

  constructor(private readonly options: QueueRegistryOptions) {
    this.maxDeliveries = options.maxDeliveries ?? DEFAULT_MAX_DELIVERIES;
  }

  queue(name: string): Promise<BrokerQueue> {
    let opening = this.queues.get(name);
    if (!opening) {
      opening = QueueJournal.open(this.options.dataDir, name).then(
        ({ journal, messages }) => new BrokerQueue(name, journal, messages, this),
      );
      this.queues.set(name, opening);
      opening.catch(() => this.queues.delete(name));
    }
    return opening;
  }

  /** Depth of a queue; a queue never used has depth 0. */
  async depth(name: string): Promise<number> {
    return (await this.queue(name)).depth();
  }

  duplicatesSend(queue: string): boolean {
    return !queue.startsWith(DEAD_LETTER_PREFIX) && (this.options.duplicateSends?.(queue) ?? false);
  }

  reportFailure(error: unknown): void {
    this.options.onFailure?.(error);
  }

  async close(): Promise<void> {
    const queues = await Promise.allSettled(this.queues.values());
    for (const result of queues) if (result.status === 'fulfilled') await result.value.close();
    this.queues.clear();
  }
}
