import { isServerError, networkErrorCode } from '#shared/adapters/aws/network-errors.ts';

/**
 * The publisher's own errors, and which failures of a whole PutRecords call are worth another attempt: the ones
 * that say nothing about the request itself (throttling, a server fault, a lost connection).
 */

/**
 * The record exceeds what Kinesis accepts in one record. Not transient: it would fail on every redelivery, so the
 * caller must dead-letter its input rather than retry.
 */
export class RecordTooLargeError extends Error {
  override readonly name = 'RecordTooLargeError';
  readonly transient = false;
  constructor(
    readonly stream: string,
    readonly partitionKey: string,
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(`a record for ${stream} with partition key ${partitionKey} is ${bytes} bytes, over the ${limitBytes}-byte limit`);
  }
}

const RETRYABLE_SERVICE_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'KMSThrottlingException',
  'ThrottlingException',
  'LimitExceededException',
  'InternalFailureException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  // The SDK's request handler names its own timeouts so.
  'TimeoutError',
]);

export function isKinesisCallRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (RETRYABLE_SERVICE_ERRORS.has(error.name)) return true;
  return isServerError(error) || networkErrorCode(error) !== undefined;
}

/** What `StreamPublishError.lastErrorCode` reports for a failed call: the errno of a network failure, else the name. */
export function kinesisErrorCode(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return networkErrorCode(error) ?? error.name;
}
