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
