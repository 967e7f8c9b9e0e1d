import { MappingConfigurationError } from '#local/event-sources/errors.ts';
import type { ActiveMqEvent } from '#local/event-sources/mq-event.ts';
import type { InvocationOutcome } from '#local/lambda/runtime.ts';

/** The settings of AWS CreateEventSourceMapping for an Amazon MQ (ActiveMQ) source, with AWS's defaults. */
export interface MqEventSourceMappingConfig {
  /** The one queue the mapping consumes (AWS `Queues`, which takes exactly one name). */
  queue: string;
  /** AWS `EventSourceArn`, the broker's ARN; default a twin broker ARN in the function's region. */
  brokerArn?: string;
  /** 1..10000, default 100. */
  batchSize?: number;
  /**
   * 0..300, default 0.5 (AWS's 500 ms for Amazon MQ). AWS takes whole seconds once changed; the twin accepts
   * fractions so tests and drills can use short windows.
   */
  maximumBatchingWindowInSeconds?: number;
  /**
   * Deliveries to the function after which a message that still fails on its own is dead-lettered to
   * `DLQ.<queue>`; 1..100, default 6 (ActiveMQ's redelivery default). Keep it below the broker's own limit
   * (the embedded broker's and the STOMP adapter's `maxDeliveries`), so the mapping, not the broker, decides.
   */
  maximumDeliveries?: number;
}

export type ResolvedMqMappingConfig = Required<Omit<MqEventSourceMappingConfig, 'brokerArn'>> & { brokerArn: string | undefined };

/** What the mapping needs from a function; `LocalLambdaFunction` is one. */
export interface MqMappedFunction {
  readonly functionArn: string;
  invoke(event: ActiveMqEvent): Promise<InvocationOutcome<unknown>>;
}

function requireRange(name: string, value: number, min: number, max: number, integer = true): void {
  if (!(Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value)))) {
    throw new MappingConfigurationError(`${name} must be ${integer ? 'an integer ' : ''}in ${min}..${max}, got ${value}`);
  }
}

export function resolveMqMappingConfig(config: MqEventSourceMappingConfig): ResolvedMqMappingConfig {
  const resolved: ResolvedMqMappingConfig = {
    queue: config.queue,
    brokerArn: config.brokerArn,
    batchSize: config.batchSize ?? 100,
    maximumBatchingWindowInSeconds: config.maximumBatchingWindowInSeconds ?? 0.5,
    maximumDeliveries: config.maximumDeliveries ?? 6,
  };
  // ActiveMQ physical names Rotor uses; the same rule the STOMP adapter applies.
  if (!/^[A-Za-z0-9._-]{1,1000}$/.test(resolved.queue)) {
    throw new MappingConfigurationError(`queue '${resolved.queue}' is not a queue name Rotor accepts`);
  }
  if (resolved.brokerArn !== undefined && !/^arn:aws[a-z-]*:mq:[a-z0-9-]+:\d{12}:broker:[^:]+:[^:]+$/.test(resolved.brokerArn)) {
    throw new MappingConfigurationError(`brokerArn '${resolved.brokerArn}' is not an Amazon MQ broker ARN`);
  }
  requireRange('batchSize', resolved.batchSize, 1, 10_000);
  requireRange('maximumBatchingWindowInSeconds', resolved.maximumBatchingWindowInSeconds, 0, 300, false);
  requireRange('maximumDeliveries', resolved.maximumDeliveries, 1, 100);
  return resolved;
}
