import type { BrokerMessage } from '#shared/ports/message-broker.ts';

/**
 * The event Lambda sends a function mapped to an Amazon MQ for ActiveMQ queue. `@types/aws-lambda` has no type for
 * it, so it is declared here after the shape AWS documents for `aws:mq` events.
 */
export interface ActiveMqEvent {
  eventSource: 'aws:mq';
  /** The broker's ARN. */
  eventSourceArn: string;
  messages: ActiveMqMessage[];
}

export interface ActiveMqMessage {
  /** The broker's message id, the same on every redelivery. */
  messageID: string;
  messageType: 'jms/text-message';
  /** The message body, base64-encoded. */
  data: string;
  /** The consumer connection that received the message. */
  connectionId: string;
  /** True when the broker delivered the message before and nobody acknowledged it. */
  redelivered: boolean;
  persistent: true;
  destination: { physicalName: string };
  /** Epoch milliseconds. */
  timestamp: number;
  brokerInTime: number;
  brokerOutTime: number;
  /** JMS delivery mode: 2 is PERSISTENT, the only mode Rotor sends with. */
  deliveryMode?: number;
  correlationId?: string;
  /** The headers the sender set, as JMS string properties. */
  properties?: Record<string, string>;
}

/** Where the mapping's events come from. */
export interface MqEventSource {
  eventSourceArn: string;
  connectionId: string;
}

/**
 * Times the port does not carry. The STOMP adapter hands out neither the broker's `timestamp` header nor its
 * arrival time, so the mapping stands in with when it first saw the message and when it received this delivery.
 */
export interface MessageTimes {
  firstSeenMs: number;
  receivedMs: number;
}

const JMS_PERSISTENT = 2;
const CORRELATION_HEADER = 'correlation-id';

export function toActiveMqMessage(message: BrokerMessage, source: MqEventSource, times: MessageTimes): ActiveMqMessage {
  const { [CORRELATION_HEADER]: correlationId, ...properties } = message.headers;
  return {
    messageID: message.id,
    messageType: 'jms/text-message',
    data: Buffer.from(message.body, 'utf8').toString('base64'),
    connectionId: source.connectionId,
    redelivered: message.redelivered,
    persistent: true,
    destination: { physicalName: message.queue },
    timestamp: times.firstSeenMs,
    brokerInTime: times.firstSeenMs,
    brokerOutTime: times.receivedMs,
    deliveryMode: JMS_PERSISTENT,
    ...(correlationId !== undefined ? { correlationId } : {}),
    ...(Object.keys(properties).length > 0 ? { properties } : {}),
  };
}

export function toActiveMqEvent(messages: readonly ActiveMqMessage[], source: MqEventSource): ActiveMqEvent {
  return { eventSource: 'aws:mq', eventSourceArn: source.eventSourceArn, messages: [...messages] };
}
