/**
 * The message-queue port: how Rotor's gateways put messages on a broker queue and take them off.
 *
 * Delivery is at least once. A message stays on its queue until a consumer acknowledges it; whatever a consumer
 * receives and does not settle (its process dies, it releases the message) comes back, flagged `redelivered`.
 * A message that keeps coming back is dead-lettered to `DLQ.<queue>` so it never blocks the queue behind it.
 */

export type MessageHeaders = Readonly<Record<string, string>>;

export interface BrokerMessage {
  /** Broker-assigned id, the same on every redelivery of this message. */
  readonly id: string;
  readonly queue: string;
  readonly body: string;
  /** The headers the sender set, without the broker's own delivery headers. */
  readonly headers: MessageHeaders;
  /** True when the broker delivered this message before and nobody acknowledged it. */
  readonly redelivered: boolean;
}

export interface ReceiveOptions {
  /** At most this many messages are returned. */
  readonly maxMessages: number;
  /** How long to wait for the first message; an empty batch after that. */
  readonly waitMs: number;
}

export interface QueueConsumer {
  /** The next messages in queue order; each must later be acked, released or dead-lettered. */
  receive(options: ReceiveOptions): Promise<BrokerMessage[]>;
  /** Removes the message from the queue for good. Resolves once the broker has recorded it. */
  ack(message: BrokerMessage): Promise<void>;
  /** Gives the message back unacknowledged; it is delivered again (`redelivered: true`) by a later receive. */
  release(message: BrokerMessage): Promise<void>;
  /** Moves the message to the queue's dead-letter queue (`DLQ.<queue>`). Resolves once the broker has done it. */
  deadLetter(message: BrokerMessage): Promise<void>;
  /** Stops consuming; messages received and not settled go back to the queue for redelivery. */
  close(): Promise<void>;
}

export interface ConsumeOptions {
  /** How many unacknowledged messages the broker may push ahead of the consumer. */
  readonly prefetch?: number;
}

export interface MessageBroker {
  /** Resolves only once the broker has durably accepted the message (it survives a broker crash). */
  send(queue: string, body: string, headers?: MessageHeaders): Promise<void>;
  consume(queue: string, options?: ConsumeOptions): Promise<QueueConsumer>;
  /** Messages on the queue, ready plus delivered-but-unacknowledged; undefined when the broker cannot tell. */
  queueDepth(queue: string): Promise<number | undefined>;
  close(): Promise<void>;
}

export const DEAD_LETTER_QUEUE_PREFIX = 'DLQ.';

export function deadLetterQueueName(queue: string): string {
  return `${DEAD_LETTER_QUEUE_PREFIX}${queue}`;
}

/** Every broker failure carries whether retrying later can help (transient) or the caller must give up. */
export class MessageBrokerError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The broker cannot be reached or dropped the connection: retry later. */
export class BrokerUnavailableError extends MessageBrokerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, true, options);
  }
}

/** The broker refused the request (an ERROR frame): retrying the same request will not help. */
export class BrokerRejectedError extends MessageBrokerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, false, options);
  }
}

/** The caller used a consumer or broker after closing it, or settled a message twice. */
export class BrokerUsageError extends MessageBrokerError {
  constructor(message: string) {
    super(message, false);
  }
}
