import type { KinesisStreamEvent } from 'aws-lambda';
import type { InvocationOutcome } from '#local/lambda/runtime.ts';
import { MappingConfigurationError } from '#local/event-sources/errors.ts';
import type { OnFailureDestination } from '#local/event-sources/on-failure-destination.ts';

export type KinesisStartingPosition = 'TRIM_HORIZON' | 'LATEST';

/** The settings of AWS CreateEventSourceMapping for a Kinesis source, with AWS's defaults. */
export interface KinesisEventSourceMappingConfig {
  streamName: string;
  startingPosition: KinesisStartingPosition;
  /** 1..10000, default 100. */
  batchSize?: number;
  /** 0..300, default 0 (invoke as soon as records are read). */
  maximumBatchingWindowInSeconds?: number;
  functionResponseTypes?: ReadonlyArray<'ReportBatchItemFailures'>;
  bisectBatchOnFunctionError?: boolean;
  /** -1 (infinite, the default) or 0..10000; the first invocation is not a retry. */
  maximumRetryAttempts?: number;
  /**
   * -1 (infinite, the default) or up to 604800. AWS's minimum is 60; the twin accepts any non-negative
   * number so drills can age records out in seconds.
   */
  maximumRecordAgeInSeconds?: number;
  /** 1..10, default 1: concurrent batches per shard, records of one partition key stay in order. */
  parallelizationFactor?: number;
  destinationConfig?: { onFailure?: OnFailureDestination };
}

export type ResolvedKinesisMappingConfig = Required<Omit<KinesisEventSourceMappingConfig, 'destinationConfig'>> & {
  onFailure: OnFailureDestination | undefined;
  reportBatchItemFailures: boolean;
};

/** What the mapping needs from a function; `LocalLambdaFunction` is one. */
export interface KinesisMappedFunction {
  readonly functionArn: string;
  readonly roleArn: string;
  invoke(event: KinesisStreamEvent): Promise<InvocationOutcome<unknown>>;
}

function requireRange(name: string, value: number, min: number, max: number, integer = true): void {
  if (!(Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value)))) {
    throw new MappingConfigurationError(`${name} must be ${integer ? 'an integer ' : ''}in ${min}..${max}, got ${value}`);
  }
}

export function resolveMappingConfig(config: KinesisEventSourceMappingConfig): ResolvedKinesisMappingConfig {
  const resolved: ResolvedKinesisMappingConfig = {
    streamName: config.streamName,
    startingPosition: config.startingPosition,
    batchSize: config.batchSize ?? 100,
    maximumBatchingWindowInSeconds: config.maximumBatchingWindowInSeconds ?? 0,
    functionResponseTypes: config.functionResponseTypes ?? [],
    bisectBatchOnFunctionError: config.bisectBatchOnFunctionError ?? false,
    maximumRetryAttempts: config.maximumRetryAttempts ?? -1,
    maximumRecordAgeInSeconds: config.maximumRecordAgeInSeconds ?? -1,
    parallelizationFactor: config.parallelizationFactor ?? 1,
    onFailure: config.destinationConfig?.onFailure,
    reportBatchItemFailures: (config.functionResponseTypes ?? []).includes('ReportBatchItemFailures'),
  };
  if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(resolved.streamName)) {
    throw new MappingConfigurationError(`stream name '${resolved.streamName}' is not a Kinesis stream name`);
  }
  if (resolved.startingPosition !== 'TRIM_HORIZON' && resolved.startingPosition !== 'LATEST') {
    throw new MappingConfigurationError(`startingPosition must be TRIM_HORIZON or LATEST`);
  }
  requireRange('batchSize', resolved.batchSize, 1, 10_000);
  requireRange('maximumBatchingWindowInSeconds', resolved.maximumBatchingWindowInSeconds, 0, 300, false);
  requireRange('maximumRetryAttempts', resolved.maximumRetryAttempts, -1, 10_000);
  if (resolved.maximumRecordAgeInSeconds !== -1) {
    requireRange('maximumRecordAgeInSeconds', resolved.maximumRecordAgeInSeconds, 0, 604_800, false);
  }
  requireRange('parallelizationFactor', resolved.parallelizationFactor, 1, 10);
  const unknownTypes = resolved.functionResponseTypes.filter((type) => type !== 'ReportBatchItemFailures');
  if (unknownTypes.length > 0) {
    throw new MappingConfigurationError(`unknown functionResponseTypes ${unknownTypes.join(', ')}`);
  }
  return resolved;
}
