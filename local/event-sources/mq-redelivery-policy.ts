import type { BrokerMessage } from '#shared/ports/message-broker.ts';

export interface DeliveryRecord {
  /** Times the mapping received the message from the broker, this one included. */
  deliveries: number;
  /** When the mapping first received the message (epoch ms). */
  firstSeenMs: number;
}

/**
 * Counts how often the broker delivered each message to the mapping and decides when a message that fails on its
 * own is poison.
 *
 * AWS leaves poison messages to the broker's redelivery policy, which ActiveMQ does not apply to STOMP consumers
 * and the embedded broker applies per broker delivery. Rotor makes the rule explicit in the mapping so a poison
 * message is handled the same on both: a failed batch of several messages is split in halves and retried while the
 * mapping still holds it (bisected down to single messages), so its good messages are acknowledged; only a single
 * message that fails is given back to the broker, and once the broker has delivered it `maximumDeliveries` times
 * it is dead-lettered instead. Bisecting in the mapping rather than through the broker matters: every broker
 * redelivery counts against the broker's own delivery limit, so bisecting through redeliveries would let the
 * broker dead-letter the good neighbours of a poison message.
 */
export class MqRedeliveryPolicy {
  /** Per message id, in least-recently-delivered order so the oldest entry is dropped first when full. */
  private readonly records = new Map<string, DeliveryRecord>();

  constructor(
    private readonly maximumDeliveries: number,
    private readonly capacity = 100_000,
  ) {}

  /** Counts one delivery of the message by the broker. */
  recordDelivery(message: BrokerMessage, nowMs: number): DeliveryRecord {
    const previous = this.records.get(message.id);
    const record = { deliveries: (previous?.deliveries ?? 0) + 1, firstSeenMs: previous?.firstSeenMs ?? nowMs };
    this.records.delete(message.id);
    this.records.set(message.id, record);
    if (this.records.size > this.capacity) this.records.delete(this.records.keys().next().value as string);
    return record;
  }

  deliveriesOf(messageId: string): number {
    return this.records.get(messageId)?.deliveries ?? 0;
  }

  /** The message failed on its own: retry it through the broker, or dead-letter it once it used up its deliveries. */
  verdictForSoloFailure(message: BrokerMessage): 'release' | 'deadLetter' {
    return this.deliveriesOf(message.id) >= this.maximumDeliveries ? 'deadLetter' : 'release';
  }

  /** The message left the mapping for good (acknowledged or dead-lettered). */
  settled(message: BrokerMessage): void {
    this.records.delete(message.id);
  }
}
