import { randomUUID } from 'node:crypto';
import { abortableDelay, backoffMs } from '#local/event-sources/abortable-delay.ts';
import { MappingStateError } from '#local/event-sources/errors.ts';
import { jsonLinesLogger, type MappingLogger } from '#local/event-sources/mapping-logger.ts';
import { type MessageTimes, toActiveMqEvent, toActiveMqMessage, type MqEventSource } from '#local/event-sources/mq-event.ts';
import {
  resolveMqMappingConfig,
  type MqEventSourceMappingConfig,
  type MqMappedFunction,
  type ResolvedMqMappingConfig,
} from '#local/event-sources/mq-mapping-config.ts';
import { MqRedeliveryPolicy } from '#local/event-sources/mq-redelivery-policy.ts';
import { TWIN_ACCOUNT_ID } from '#local/lambda/runtime.ts';
import {
  type BrokerMessage,
  deadLetterQueueName,
  type MessageBroker,
  MessageBrokerError,
  type QueueConsumer,
} from '#shared/ports/message-broker.ts';

export interface MqMappingDependencies {
  broker: MessageBroker;
  fn: MqMappedFunction;
  /** Stable name of this mapping in logs and metrics; default `<queue>--<function name>`. */
  mappingId?: string;
  /** Longest single wait on the broker; bounds how quickly an idle mapping notices stop. Default 200 ms. */
  idlePollMs?: number;
  /** Backoff before retrying after a failed batch or a broker failure (doubling up to the maximum). */
  retryBackoff?: { initialMs: number; maxMs: number };
  log?: MappingLogger;
  /**
   * Whether the mapping should take messages now (the trigger's `enabledBy` routing control, On in this region).
   * While it says no, the mapping holds no consumer, so what waits stays on the queue for whoever moves it.
   */
  enabled?: () => Promise<boolean>;
  /** How often a paused mapping asks `enabled` again. Default 1 s. */
  enabledPollMs?: number;
}

export interface MqMappingCounters {
  /** Messages handed to the function, each delivery counted. */
  messagesReceived: number;
  /** Of those, deliveries the broker flagged as redelivered. */
  messagesRedelivered: number;
  messagesAcked: number;
  /** Given back to the broker after a failed batch (or on stop) for redelivery. */
  messagesReleased: number;
  messagesDeadLettered: number;
  invocations: number;
  functionErrors: number;
  /** Receives, acks and dead-letters the broker failed; the broker redelivers what was not settled. */
  brokerErrors: number;
}

export interface MqMappingMetrics extends MqMappingCounters {
  uuid: string;
  mappingId: string;
  queue: string;
  eventSourceArn: string;
  functionArn: string;
  state: MappingState;
  /** Enabled, but holding no consumer because the routing control that enables it is Off in this region. */
  paused: boolean;
  /** Messages of the batch being invoked right now. */
  inFlightMessages: number;
  /** From the broker port: ready plus unacknowledged; undefined when the broker cannot tell or is unreachable. */
  queueDepth: number | undefined;
  deadLetterQueueDepth: number | undefined;
}

type MappingState = 'Created' | 'Starting' | 'Enabled' | 'Stopping' | 'Disabled';

/**
 * A Lambda event-source mapping from an Amazon MQ (ActiveMQ) queue to a function, as AWS runs it: batches of up to
 * BatchSize messages gathered for at most MaximumBatchingWindowInSeconds, acknowledged when the function succeeds,
 * given back for redelivery when it fails or times out. One batch at a time, so a healthy queue is processed in
 * order. Poison messages are bisected out and dead-lettered (see MqRedeliveryPolicy).
 */
export class MqEventSourceMapping {
  readonly uuid = randomUUID();
  readonly mappingId: string;
  readonly eventSourceArn: string;
  private readonly config: ResolvedMqMappingConfig;
  private readonly policy: MqRedeliveryPolicy;
  private readonly log: MappingLogger;
  private readonly abort = new AbortController();
  private readonly counters: MqMappingCounters = {
    messagesReceived: 0, messagesRedelivered: 0, messagesAcked: 0, messagesReleased: 0, messagesDeadLettered: 0,
    invocations: 0, functionErrors: 0, brokerErrors: 0,
  };
  private consumer: QueueConsumer | undefined;
  private connectionId = '';
  private inFlightMessages = 0;
  private paused = false;
  private consecutiveFailures = 0;
  private running: Promise<void> | undefined;
  private state: MappingState = 'Created';

  constructor(
    config: MqEventSourceMappingConfig,
    private readonly dependencies: MqMappingDependencies,
  ) {
    this.config = resolveMqMappingConfig(config);
    this.policy = new MqRedeliveryPolicy(this.config.maximumDeliveries);
    const [, , , region = '', account = TWIN_ACCOUNT_ID, , functionName = 'function'] = dependencies.fn.functionArn.split(':');
    this.mappingId = dependencies.mappingId ?? `${this.config.queue}--${functionName}`;
    this.eventSourceArn = this.config.brokerArn ?? `arn:aws:mq:${region}:${account}:broker:rotor:b-rotor-twin`;
    this.log = dependencies.log ?? jsonLinesLogger(`esm:${this.mappingId}`);
  }

  get queue(): string {
    return this.config.queue;
  }

  /** Resolves once the mapping is subscribed to its queue; every message on it from then on is delivered. */
  async start(): Promise<void> {
    if (this.state !== 'Created') throw new MappingStateError(`mapping ${this.mappingId} cannot start from ${this.state}`);
    this.state = 'Starting';
    try {
      await this.openConsumer();
    } catch (error) {
      this.state = 'Disabled';
      throw error;
    }
    this.running = this.pollLoop();
    this.state = 'Enabled';
  }

  /**
   * Stops taking batches, waits for the batch being invoked to finish and be settled, and closes the consumer:
   * whatever it held unsettled goes back to the queue for the next consumer.
   */
  async stop(): Promise<void> {
    if (this.state === 'Disabled' || this.state === 'Created') {
      this.state = 'Disabled';
      return;
    }
    if (this.state !== 'Enabled') throw new MappingStateError(`mapping ${this.mappingId} cannot stop while ${this.state}`);
    this.state = 'Stopping';
    this.abort.abort();
    await this.running;
    await this.closeConsumer();
    this.state = 'Disabled';
  }

  async metrics(): Promise<MqMappingMetrics> {
    const depth = (queue: string) => this.dependencies.broker.queueDepth(queue).catch(() => undefined);
    const [queueDepth, deadLetterQueueDepth] = await Promise.all([depth(this.config.queue), depth(deadLetterQueueName(this.config.queue))]);
    return {
      uuid: this.uuid,
      mappingId: this.mappingId,
      queue: this.config.queue,
      eventSourceArn: this.eventSourceArn,
      functionArn: this.dependencies.fn.functionArn,
      state: this.state,
      paused: this.paused,
      inFlightMessages: this.inFlightMessages,
      queueDepth,
      deadLetterQueueDepth,
      ...this.counters,
    };
  }

  private async pollLoop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      if (!(await this.mayConsume(signal))) continue;
      let batch: BrokerMessage[];
      try {
        batch = await this.collectBatch(signal);
      } catch (error) {
        await this.recoverFromBrokerFailure(error, signal);
        continue;
      }
      if (batch.length === 0) continue;
      if (signal.aborted) {
        // Gathered but never invoked: the next consumer gets them.
        await this.release(batch);
        break;
      }
      await this.deliver(batch, signal);
    }
  }

  /**
   * Whether to take a batch now. While `enabled` says no the consumer is closed (what it held goes back to the
   * queue) and the mapping waits; once it says yes again, a consumer is opened. Unanswerable counts as yes: the
   * function's own gate still stands behind the mapping.
   */
  private async mayConsume(signal: AbortSignal): Promise<boolean> {
    if (!this.dependencies.enabled) return true;
    const enabled = await this.dependencies.enabled().catch(() => true);
    this.paused = !enabled;
    if (!enabled) {
      if (this.consumer) {
        await this.closeConsumer();
        this.log.info?.('paused: the routing control that enables the mapping is Off here', { queue: this.config.queue });
      }
      await abortableDelay(this.dependencies.enabledPollMs ?? 1_000, signal);
      return false;
    }
    if (!this.consumer) {
      try {
        await this.openConsumer();
        this.log.info?.('resumed: the routing control that enables the mapping is On here', { queue: this.config.queue });
      } catch (error) {
        await this.recoverFromBrokerFailure(error, signal);
        return false;
      }
    }
    return true;
  }

  /** Waits for a first message, then keeps gathering until the batch is full or the batching window closes. */
  private async collectBatch(signal: AbortSignal): Promise<BrokerMessage[]> {
    const consumer = this.requireConsumer();
    const limit = this.config.batchSize;
    const idlePollMs = this.dependencies.idlePollMs ?? 200;
    const batch: BrokerMessage[] = [];
    // A mapping that follows a routing control comes back empty-handed now and then to look at it again.
    const idleUntil = this.dependencies.enabled ? Date.now() + (this.dependencies.enabledPollMs ?? 1_000) : Infinity;
    while (batch.length === 0 && !signal.aborted && Date.now() < idleUntil) {
      batch.push(...(await consumer.receive({ maxMessages: limit, waitMs: idlePollMs })));
    }
    const windowClosesAt = Date.now() + this.config.maximumBatchingWindowInSeconds * 1000;
    while (batch.length > 0 && batch.length < limit && !signal.aborted) {
      const windowLeftMs = windowClosesAt - Date.now();
      if (windowLeftMs <= 0) break;
      batch.push(...(await consumer.receive({ maxMessages: limit - batch.length, waitMs: Math.min(windowLeftMs, idlePollMs) })));
    }
    return batch;
  }

  private async deliver(batch: BrokerMessage[], signal: AbortSignal): Promise<void> {
    const receivedMs = Date.now();
    const times = new Map(batch.map((message) => [message, { firstSeenMs: this.policy.recordDelivery(message, receivedMs).firstSeenMs, receivedMs }]));
    this.counters.messagesReceived += batch.length;
    this.counters.messagesRedelivered += batch.filter((message) => message.redelivered).length;
    await this.invokeBisecting(batch, times, false, signal);
  }

  /**
   * Invokes the function with `messages`; on failure retries each half while still holding them, down to single
   * messages, which go back to the broker (or to the dead-letter queue). See MqRedeliveryPolicy for why.
   */
  private async invokeBisecting(messages: BrokerMessage[], times: ReadonlyMap<BrokerMessage, MessageTimes>, retry: boolean, signal: AbortSignal): Promise<void> {
    if (signal.aborted) {
      // Stopping: what was not invoked yet goes back to the queue for the next consumer.
      await this.release(messages);
      return;
    }
    const source: MqEventSource = { eventSourceArn: this.eventSourceArn, connectionId: this.connectionId };
    const event = toActiveMqEvent(
      messages.map((message) => {
        const shaped = toActiveMqMessage(message, source, times.get(message) as MessageTimes);
        // A retried half was delivered to the function before, which is what the flag tells a handler.
        return retry ? { ...shaped, redelivered: true } : shaped;
      }),
      source,
    );
    this.counters.invocations += 1;
    this.inFlightMessages = messages.length;
    const outcome = await this.dependencies.fn.invoke(event).finally(() => (this.inFlightMessages = 0));
    if (outcome.ok) {
      this.consecutiveFailures = 0;
      for (const message of messages) this.policy.settled(message);
      await this.settleEach(messages, 'ack');
      return;
    }
    this.counters.functionErrors += 1;
    this.consecutiveFailures += 1;
    this.log.warn('function failed the batch', {
      queue: this.config.queue, requestId: outcome.requestId, error: outcome.error.message, batchSize: messages.length,
      next: messages.length > 1 ? 'retrying each half' : this.policy.verdictForSoloFailure(messages[0] as BrokerMessage),
    });
    const retryBackoff = this.dependencies.retryBackoff ?? { initialMs: 100, maxMs: 5_000 };
    await abortableDelay(backoffMs(this.consecutiveFailures, retryBackoff.initialMs, retryBackoff.maxMs), signal);
    if (messages.length > 1) {
      const half = Math.ceil(messages.length / 2);
      await this.invokeBisecting(messages.slice(0, half), times, true, signal);
      await this.invokeBisecting(messages.slice(half), times, true, signal);
      return;
    }
    const message = messages[0] as BrokerMessage;
    if (this.policy.verdictForSoloFailure(message) === 'release') {
      await this.release(messages);
      return;
    }
    this.policy.settled(message);
    await this.settleEach(messages, 'deadLetter');
    this.log.error('message dead-lettered: it failed on its own on every delivery', {
      queue: this.config.queue, deadLetterQueue: deadLetterQueueName(this.config.queue), messageId: message.id,
      deliveries: this.config.maximumDeliveries,
    });
  }

  /** Acks or dead-letters each message; a failure leaves the message to the broker, which redelivers it. */
  private async settleEach(messages: readonly BrokerMessage[], action: 'ack' | 'deadLetter'): Promise<void> {
    const consumer = this.requireConsumer();
    const results = await Promise.allSettled(messages.map((message) => consumer[action](message)));
    results.forEach((result, index) => {
      if (result.status === 'fulfilled') {
        if (action === 'ack') this.counters.messagesAcked += 1;
        else this.counters.messagesDeadLettered += 1;
        return;
      }
      this.counters.brokerErrors += 1;
      this.log.warn(`${action} failed; the broker redelivers the message`, {
        queue: this.config.queue, messageId: messages[index]?.id, error: errorText(result.reason),
      });
    });
  }

  private async release(messages: readonly BrokerMessage[]): Promise<void> {
    const consumer = this.requireConsumer();
    for (const message of messages) {
      try {
        await consumer.release(message);
        this.counters.messagesReleased += 1;
      } catch (error) {
        // Its connection is gone, which gives it back just the same.
        this.counters.brokerErrors += 1;
        this.log.warn('release failed; the broker redelivers the message', { queue: this.config.queue, messageId: message.id, error: errorText(error) });
      }
    }
  }

  /** A transient failure is retried on the same consumer (it reconnects); anything else gets a new consumer. */
  private async recoverFromBrokerFailure(error: unknown, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    this.counters.brokerErrors += 1;
    this.consecutiveFailures += 1;
    const transient = error instanceof MessageBrokerError && error.transient;
    this.log.warn('receiving from the broker failed, retrying', { queue: this.config.queue, transient, error: errorText(error) });
    const retryBackoff = this.dependencies.retryBackoff ?? { initialMs: 100, maxMs: 5_000 };
    await abortableDelay(backoffMs(this.consecutiveFailures, retryBackoff.initialMs, retryBackoff.maxMs), signal);
    if (transient || signal.aborted) return;
    await this.closeConsumer();
    await this.openConsumer().catch((reopenError: unknown) => {
      this.log.warn('reopening the consumer failed, retrying', { queue: this.config.queue, error: errorText(reopenError) });
    });
  }

  private async openConsumer(): Promise<void> {
    // A prefetch of one batch keeps the broker from handing this mapping more than it is about to invoke.
    this.consumer = await this.dependencies.broker.consume(this.config.queue, { prefetch: this.config.batchSize });
    this.connectionId = `ID:rotor-esm-${this.uuid}-${randomUUID().slice(0, 8)}`;
  }

  private async closeConsumer(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    await consumer?.close().catch((error: unknown) => {
      this.log.warn('closing the consumer failed; the broker takes its messages back when the connection drops', {
        queue: this.config.queue, error: errorText(error),
      });
    });
  }

  private requireConsumer(): QueueConsumer {
    if (!this.consumer) throw new MappingStateError(`mapping ${this.mappingId} has no open consumer`);
    return this.consumer;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
