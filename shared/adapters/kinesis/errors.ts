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

/** Socket-level failures: the call may never have reached Kinesis, or its answer never came back. */
const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export function isKinesisCallRetryable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (RETRYABLE_SERVICE_ERRORS.has(error.name)) return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return networkErrorCode(error) !== undefined;
}

/** What `StreamPublishError.lastErrorCode` reports for a failed call: the errno of a network failure, else the name. */
export function kinesisErrorCode(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return networkErrorCode(error) ?? error.name;
}

function networkErrorCode(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return code;
  // Node reports a refused dual-stack connect (IPv4 and IPv6 both tried) as an AggregateError of the attempts.
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = networkErrorCode(inner);
      if (innerCode) return innerCode;
    }
  }
  return undefined;
}
