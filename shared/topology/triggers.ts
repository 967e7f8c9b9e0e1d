import type { KinesisTrigger } from './schema.ts';

/**
 * The Kinesis trigger every stage shares: ordered per key, partial-batch checkpoints, bisect on error, and records
 * that never expire: a record that exhausts its retries goes to the on-failure queue, and reconciliation replays it
 * from the safe stores, so nothing is dropped for being old.
 */
export const noLossKinesisTrigger = (stream: string, onFailure: string, overrides: Partial<KinesisTrigger> = {}): KinesisTrigger => ({
  kind: 'kinesis',
  stream,
  startingPosition: 'TRIM_HORIZON',
  batchSize: 100,
  maximumBatchingWindowInSeconds: 0,
  parallelizationFactor: 2,
  bisectBatchOnFunctionError: true,
  maximumRetryAttempts: 10,
  maximumRecordAgeInSeconds: -1,
  functionResponseTypes: ['ReportBatchItemFailures'],
  onFailure,
  ...overrides,
});

/**
 * The settings of a Kinesis trigger as CreateEventSourceMapping names them: the twin's mapping runner and the AWS
 * stacks both take them from here, so the two cannot apply different ones.
 */
export function kinesisMappingSettings(trigger: KinesisTrigger) {
  return {
    startingPosition: trigger.startingPosition,
    batchSize: trigger.batchSize,
    maximumBatchingWindowInSeconds: trigger.maximumBatchingWindowInSeconds,
    parallelizationFactor: trigger.parallelizationFactor,
    bisectBatchOnFunctionError: trigger.bisectBatchOnFunctionError,
    maximumRetryAttempts: trigger.maximumRetryAttempts,
    maximumRecordAgeInSeconds: trigger.maximumRecordAgeInSeconds,
    functionResponseTypes: [...trigger.functionResponseTypes],
  };
}
