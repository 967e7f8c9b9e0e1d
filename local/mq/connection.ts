/**
 * One client connection to the embedded broker: speaks STOMP 1.0–1.2 on a socket and turns frames into queue
 * operations. Frames are handled in arrival order; a SEND's RECEIPT goes out only once the message is on disk.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { type AckMode, type BrokerQueue, type DeliveryTarget, type QueuedMessage, type QueueRegistry, Subscription } from './broker.ts';
import { StompFrameDecoder, StompFrameError, encodeFrame, type StompFrame } from './frames.ts';

/** A frame the broker cannot act on; answered with an ERROR frame, after which the connection is closed. */
export class StompRequestError extends Error {
  override name = 'StompRequestError';
}

const SUPPORTED_VERSIONS = ['1.2', '1.1', '1.0'];
const QUEUE_PREFIX = '/queue/';
const DEFAULT_PREFETCH = 1000;
// Headers that describe one frame or one delivery, never stored with the message.
const TRANSIENT_SEND_HEADERS = new Set(['destination', 'receipt', 'content-length', 'transaction', 'message-id', 'subscription', 'ack', 'redelivered']);

export class StompConnection implements DeliveryTarget {
  private readonly decoder = new StompFrameDecoder();
  private readonly subscriptions = new Map<string, Subscription>();
  private version: string | undefined;
  private handling: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly queues: QueueRegistry,
  ) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('close', () => void this.release());
    socket.on('error', () => socket.destroy());
  }

  deliver(subscription: Subscription, message: QueuedMessage, ackId: string | undefined): void {
    const headers: Record<string, string> = {
      ...message.stored.headers,
      destination: `${QUEUE_PREFIX}${subscription.queue.name}`,
      'message-id': message.stored.id,
      subscription: subscription.id,
    };
    if (ackId !== undefined) headers.ack = ackId;
    if (message.deliveries > 1) headers.redelivered = 'true';
    this.write({ command: 'MESSAGE', headers, body: message.stored.body });
  }

  private receive(chunk: Buffer): void {
    if (this.closed) return;
    let frames: StompFrame[];
    try {
      frames = this.decoder.push(chunk);
    } catch (error) {
      this.fail(error as Error, undefined);
      return;
    }
    for (const frame of frames) {
      this.handling = this.handling.then(async () => {
        if (this.closed) return;
        try {
          await this.handle(frame);
        } catch (error) {
          this.fail(error as Error, frame.headers.receipt);
        }
      });
    }
  }

  private async handle(frame: StompFrame): Promise<void> {
    if (frame.command === 'CONNECT' || frame.command === 'STOMP') return this.connect(frame);
    if (this.version === undefined) throw new StompRequestError(`${frame.command} before CONNECT`);
    switch (frame.command) {
      case 'SEND':
        return this.send(frame);
      case 'SUBSCRIBE':
        return this.subscribe(frame);
      case 'UNSUBSCRIBE':
        return this.unsubscribe(frame);
      case 'ACK':
      case 'NACK':
        return this.settle(frame);
      case 'DISCONNECT':
        this.sendReceipt(frame);
        this.closed = true;
        this.socket.end();
        return;
      case 'BEGIN':
      case 'COMMIT':
      case 'ABORT':
        throw new StompRequestError('transactions are not supported by this broker');
      default:
        throw new StompRequestError(`unknown command '${frame.command}'`);
    }
  }

  private connect(frame: StompFrame): void {
    if (this.version !== undefined) throw new StompRequestError('already connected');
    const offered = (frame.headers['accept-version'] ?? '1.0').split(',').map((version) => version.trim());
    const version = SUPPORTED_VERSIONS.find((supported) => offered.includes(supported));
    if (!version) throw new StompRequestError(`supported protocol versions are ${SUPPORTED_VERSIONS.join(',')}`);
    this.version = version;
    this.decoder.useHeaderEscaping(version !== '1.0');
    // No heart-beating in either direction: the twin runs on one machine and TCP close is detected directly.
    this.write({ command: 'CONNECTED', headers: { version, server: 'rotor-embedded-stomp/1', session: randomUUID(), 'heart-beat': '0,0' }, body: Buffer.alloc(0) });
  }

  private async send(frame: StompFrame): Promise<void> {
    if (frame.headers.transaction !== undefined) throw new StompRequestError('transactions are not supported by this broker');
    const queue = await this.queueFor(frame.headers.destination);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(frame.headers)) if (!TRANSIENT_SEND_HEADERS.has(name)) headers[name] = value;
    // Not awaited: later frames are handled meanwhile, so concurrent sends share one fsync.
    queue.enqueue(headers, frame.body).then(
      () => this.sendReceipt(frame),
      (error: unknown) => this.fail(error as Error, frame.headers.receipt),
    );
  }

  private async subscribe(frame: StompFrame): Promise<void> {
    const queue = await this.queueFor(frame.headers.destination);
    const id = frame.headers.id ?? (this.version === '1.0' ? (frame.headers.destination as string) : undefined);
    if (id === undefined) throw new StompRequestError('SUBSCRIBE without an id header');
    if (this.subscriptions.has(id)) throw new StompRequestError(`subscription id '${id}' is already in use`);
    const ackMode = parseAckMode(frame.headers.ack);
    if (frame.headers.browser === 'true') {
      this.browse(queue, id);
      return this.sendReceipt(frame);
    }
    const subscription = new Subscription(id, queue, ackMode, parsePrefetch(frame.headers['activemq.prefetchSize']), this);
    this.subscriptions.set(id, subscription);
    queue.addSubscription(subscription);
    this.sendReceipt(frame);
  }

  /** ActiveMQ-style browsing: every message on the queue once, without consuming, then a `browser:end` marker. */
  private browse(queue: BrokerQueue, subscriptionId: string): void {
    const destination = `${QUEUE_PREFIX}${queue.name}`;
    for (const message of queue.snapshot()) {
      this.write({ command: 'MESSAGE', headers: { ...message.stored.headers, destination, 'message-id': message.stored.id, subscription: subscriptionId }, body: message.stored.body });
    }
    this.write({ command: 'MESSAGE', headers: { browser: 'end', destination, 'message-id': '0', subscription: subscriptionId }, body: Buffer.alloc(0) });
  }

  private async unsubscribe(frame: StompFrame): Promise<void> {
    const id = frame.headers.id ?? (this.version === '1.0' ? frame.headers.destination : undefined);
    const subscription = id === undefined ? undefined : this.subscriptions.get(id);
    if (!subscription) throw new StompRequestError(`no subscription '${id ?? ''}' to unsubscribe`);
    this.subscriptions.delete(subscription.id);
    await subscription.queue.removeSubscription(subscription);
    this.sendReceipt(frame);
  }

  private async settle(frame: StompFrame): Promise<void> {
    const { subscription, ackId } = this.findDelivery(frame);
    if (frame.command === 'ACK') await subscription.queue.ack(subscription, ackId);
    else await subscription.queue.nack(subscription, ackId);
    this.sendReceipt(frame);
  }

  /** STOMP 1.2 names a delivery by the MESSAGE's `ack` header; 1.0 and 1.1 by message-id (and subscription). */
  private findDelivery(frame: StompFrame): { subscription: Subscription; ackId: string } {
    const ackId = frame.headers.id;
    if (this.version === '1.2' || (ackId !== undefined && frame.headers['message-id'] === undefined)) {
      const subscriptionId = ackId?.slice(0, ackId.lastIndexOf(':'));
      const subscription = subscriptionId === undefined ? undefined : this.subscriptions.get(subscriptionId);
      if (ackId !== undefined && subscription?.unacked.has(ackId)) return { subscription, ackId };
      throw new StompRequestError(`${frame.command} for unknown delivery '${ackId ?? ''}'`);
    }
    const messageId = frame.headers['message-id'];
    const candidates = frame.headers.subscription !== undefined ? [this.subscriptions.get(frame.headers.subscription)] : [...this.subscriptions.values()];
    for (const subscription of candidates) {
      for (const [id, message] of subscription?.unacked ?? []) {
        if (subscription && message.stored.id === messageId) return { subscription, ackId: id };
      }
    }
    throw new StompRequestError(`${frame.command} for unknown message '${messageId ?? ''}'`);
  }

  private async queueFor(destination: string | undefined): Promise<BrokerQueue> {
    if (destination === undefined) throw new StompRequestError('missing destination header');
    if (!destination.startsWith(QUEUE_PREFIX) || destination.length === QUEUE_PREFIX.length) {
      throw new StompRequestError(`unsupported destination '${destination}': only ${QUEUE_PREFIX}<name> queues exist`);
    }
    return this.queues.queue(destination.slice(QUEUE_PREFIX.length));
  }

  private sendReceipt(frame: StompFrame): void {
    const receipt = frame.headers.receipt;
    if (receipt !== undefined) this.write({ command: 'RECEIPT', headers: { 'receipt-id': receipt }, body: Buffer.alloc(0) });
  }

  private fail(error: Error, receipt: string | undefined): void {
    if (this.closed) return;
    const headers: Record<string, string> = { message: error.message.replace(/[\r\n]/g, ' '), 'content-type': 'text/plain' };
    if (receipt !== undefined) headers['receipt-id'] = receipt;
    const known = error instanceof StompRequestError || error instanceof StompFrameError;
    if (!known) this.queues.reportFailure(error);
    this.write({ command: 'ERROR', headers, body: Buffer.from(known ? error.message : 'internal broker error') });
    this.closed = true;
    this.socket.end();
  }

  private write(frame: StompFrame): void {
    if (this.socket.writable) this.socket.write(encodeFrame(frame, this.version !== undefined && this.version !== '1.0'));
  }

  /** The connection is gone: every message its subscriptions held goes back to its queue. */
  private async release(): Promise<void> {
    this.closed = true;
    const subscriptions = [...this.subscriptions.values()];
    this.subscriptions.clear();
    await Promise.all(subscriptions.map((subscription) => subscription.queue.removeSubscription(subscription))).catch((error: unknown) =>
      this.queues.reportFailure(error),
    );
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function parseAckMode(value: string | undefined): AckMode {
  if (value === undefined) return 'auto';
  if (value === 'auto' || value === 'client' || value === 'client-individual') return value;
  throw new StompRequestError(`unknown ack mode '${value}'`);
}

function parsePrefetch(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PREFETCH;
  if (!/^[1-9]\d*$/.test(value)) throw new StompRequestError(`activemq.prefetchSize must be a positive integer, got '${value}'`);
  return Number(value);
}
