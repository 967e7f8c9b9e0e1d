import { randomUUID } from 'node:crypto';
import type { MappingLogger } from '#local/event-sources/mapping-logger.ts';
import type { ActiveMqEvent } from '#local/event-sources/mq-event.ts';
import { MqEventSourceMapping } from '#local/event-sources/mq-mapping.ts';
import type { MqEventSourceMappingConfig } from '#local/event-sources/mq-mapping-config.ts';
import { LocalLambdaFunction } from '#local/lambda/runtime.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import type { BrokerMessage, MessageBroker } from '#shared/ports/message-broker.ts';

export const TEST_REGION = 'us-east-1';

/** What a handler does with one invocation; throwing fails the batch. */
export type MqBatchBehaviour = (bodies: string[], invocation: number) => void | Promise<void>;

export interface RecordedInvocation {
  event: ActiveMqEvent;
  bodies: string[];
  /** Epoch ms at which the handler was called. */
  atMs: number;
  succeeded?: boolean;
}

export interface RecordingMqFunction {
  fn: LocalLambdaFunction<ActiveMqEvent>;
  invocations: RecordedInvocation[];
  /** Bodies of every batch that succeeded, in processing order. */
  processedBodies(): string[];
}

export function decodeBodies(event: ActiveMqEvent): string[] {
  return event.messages.map((message) => Buffer.from(message.data, 'base64').toString('utf8'));
}

/** A twin Lambda function that records every `aws:mq` event it gets and then behaves as told. */
export function recordingMqFunction(name: string, behaviour: MqBatchBehaviour = () => undefined, timeoutSeconds = 5): RecordingMqFunction {
  const invocations: RecordedInvocation[] = [];
  const fn = new LocalLambdaFunction<ActiveMqEvent>({
    functionName: `${name}-${randomUUID().slice(0, 8)}`,
    region: TEST_REGION,
    timeoutSeconds,
    handler: async (event: ActiveMqEvent) => {
      const recorded: RecordedInvocation = { event, bodies: decodeBodies(event), atMs: Date.now() };
      invocations.push(recorded);
      await behaviour(recorded.bodies, invocations.length);
      recorded.succeeded = true;
    },
  });
  return {
    fn,
    invocations,
    processedBodies: () => invocations.filter((invocation) => invocation.succeeded).flatMap((invocation) => invocation.bodies),
  };
}

/** Collects what the mapping reports to operators, so a test can read it instead of stderr. */
export class CapturedMappingLog implements MappingLogger {
  readonly entries: Array<{ level: 'warn' | 'error'; message: string; fields?: Record<string, unknown> }> = [];
  warn(message: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: 'warn', message, fields });
  }
  error(message: string, fields?: Record<string, unknown>): void {
    this.entries.push({ level: 'error', message, fields });
  }
}

/** Opens STOMP adapters and mappings against one broker and closes all of them after each test. */
export class MqMappingFixture {
  private readonly brokers: MessageBroker[] = [];
  private readonly mappings: MqEventSourceMapping[] = [];

  /** The adapter keeps its default delivery limit (ActiveMQ's 6), as the twin runs it. */
  constructor(private readonly url: () => string) {}

  connect(): MessageBroker {
    const broker = new StompMessageBroker({ url: this.url(), receiptTimeoutMs: 10_000 });
    this.brokers.push(broker);
    return broker;
  }

  freshQueue(purpose: string): string {
    return `rotor-esm-${purpose}-${randomUUID().slice(0, 8)}`;
  }

  async sendAll(broker: MessageBroker, queue: string, bodies: readonly string[]): Promise<void> {
    // One at a time: the order they are accepted in is the order the queue delivers them.
    for (const body of bodies) await broker.send(queue, body);
  }

  async startMapping(
    config: MqEventSourceMappingConfig,
    fn: LocalLambdaFunction<ActiveMqEvent>,
    broker = this.connect(),
    enabled?: () => Promise<boolean>,
  ): Promise<{ mapping: MqEventSourceMapping; log: CapturedMappingLog }> {
    const log = new CapturedMappingLog();
    const mapping = new MqEventSourceMapping(config, {
      broker, fn, idlePollMs: 50, retryBackoff: { initialMs: 10, maxMs: 40 }, log, ...(enabled ? { enabled, enabledPollMs: 50 } : {}),
    });
    this.mappings.push(mapping);
    await mapping.start();
    return { mapping, log };
  }

  /** Everything currently on the queue, taken off it (acked), in order; waits at most `waitMs` for the first. */
  async drain(queue: string, waitMs = 500): Promise<BrokerMessage[]> {
    const consumer = await this.connect().consume(queue);
    const drained: BrokerMessage[] = [];
    try {
      for (;;) {
        const batch = await consumer.receive({ maxMessages: 100, waitMs: drained.length === 0 ? waitMs : 200 });
        if (batch.length === 0) return drained;
        for (const message of batch) await consumer.ack(message);
        drained.push(...batch);
      }
    } finally {
      await consumer.close();
    }
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.mappings.splice(0).map((mapping) => mapping.stop()));
    await Promise.all(this.brokers.splice(0).map((broker) => broker.close()));
  }
}
