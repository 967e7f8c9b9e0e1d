import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { InboundRecord } from '#domain/pipeline-messages.ts';
import { MAX_BODY_BYTES } from '#domain/trade-leg.ts';
import { publishForwards, type Forward } from '#shared/pipeline/forward.ts';
import { MessageId, partitionKeyOfBody } from '#shared/pipeline/message-id.ts';
import { RoutingControlOffError, stageGate } from '#shared/pipeline/stage-gate.ts';
import { stageTelemetry } from '#shared/pipeline/telemetry.ts';
import type { SafeStore } from '#shared/ports/safe-store.ts';
import type { StreamPublisher } from '#shared/ports/stream-publisher.ts';
import type { AppName } from '#shared/topology/schema.ts';

/**
 * The inbound gateway (DESIGN §2): takes messages off the app's MQ queues, records each one exactly as received in
 * the in-gateway safe store — from then on it is acknowledged, and reconciliation can always find it — and only
 * then puts it on the ingestion stream. Nothing is judged here: a malformed message is recorded and forwarded like
 * any other, and ingestion answers it with a NACK.
 *
 * Amazon MQ triggers have no partial-batch response: any failure fails the batch and the broker redelivers all of
 * it. That is safe because every write is keyed by the message id and downstream stages are idempotent.
 */

/** The part of an Amazon MQ (ActiveMQ) event the gateway reads. */
export interface ActiveMqEvent {
  readonly messages: ReadonlyArray<{ readonly messageID: string; readonly data: string; readonly destination: { readonly physicalName: string } }>;
}

export interface QueueMessage {
  readonly queue: string;
  readonly body: string;
}

/** What the gateway forwards of a message larger than the limit: enough to identify it in the NACK. */
const OVERSIZED_HEAD_CHARS = 1024;

export function inboundRecordOf(message: QueueMessage, receivedAt: Date): InboundRecord {
  const bodyBytes = Buffer.byteLength(message.body, 'utf8');
  const truncated = bodyBytes > MAX_BODY_BYTES;
  return {
    kind: 'inbound',
    id: MessageId.of(message.queue, message.body),
    queue: message.queue,
    body: truncated ? message.body.slice(0, OVERSIZED_HEAD_CHARS) : message.body,
    bodyBytes,
    truncated,
    receivedAt: receivedAt.toISOString(),
  };
}

export interface AcceptMessagesDependencies {
  readonly app: AppName;
  readonly store: SafeStore;
  readonly publisher: StreamPublisher;
  readonly outStream: string;
  readonly now?: () => Date;
}

/** Persists every message, then forwards them all; resolves how many were new to the store. */
export async function acceptMessages(messages: readonly QueueMessage[], deps: AcceptMessagesDependencies): Promise<number> {
  const now = deps.now ?? (() => new Date());
  const records = messages.map((message) => inboundRecordOf(message, now()));
  // Every message is recorded before any is forwarded. One already in the store was received before: its earlier
  // delivery may have died before forwarding, so it is forwarded again.
  const results = await Promise.all(records.map((record) => deps.store.putIfAbsent({ ...record })));
  const forwards: Forward[] = records.map((record, index) => ({
    stream: deps.outStream,
    partitionKey: partitionKeyOfBody(deps.app, messages[index]!.body, record.id),
    record,
  }));
  await publishForwards(deps.publisher, forwards);
  return results.filter((result) => result.stored).length;
}

export interface MqGatewayOptions extends AcceptMessagesDependencies {
  /** `<p>-inbound-gateway`. */
  readonly name: string;
  /** `<app>-queue`: the gateway consumes only while it is On in this region. */
  readonly routingControl: string;
}

export function mqGateway(options: MqGatewayOptions) {
  const { logger, metrics } = stageTelemetry(options.name);
  const gate = stageGate(options.routingControl);
  return async (event: ActiveMqEvent, context: Context): Promise<void> => {
    logger.addContext(context);
    if (gate && !(await gate.waitUntilOn())) throw new RoutingControlOffError(gate.controlName);
    const messages = event.messages.map((message) => ({
      queue: message.destination.physicalName,
      body: Buffer.from(message.data, 'base64').toString('utf8'),
    }));
    try {
      const recorded = await acceptMessages(messages, options);
      metrics.addMetric('MessagesReceived', MetricUnit.Count, messages.length);
      metrics.addMetric('MessagesRecorded', MetricUnit.Count, recorded);
    } catch (error) {
      logger.error('batch failed; the broker will deliver it again', { messages: messages.length, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
      throw error;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
