/**
 * The safe store's own errors, and which DynamoDB failures count as "unavailable": the ones a later retry of the
 * whole input may cure, so the caller fails its input for redelivery instead of dead-lettering it.
 */

/**
 * The item's JSON exceeds the store's budget. Not transient: the same record would fail on every redelivery, so
 * the caller must dead-letter it rather than retry.
 */
export class SafeStoreItemTooLargeError extends Error {
  override readonly name = 'SafeStoreItemTooLargeError';
  readonly transient = false;
  constructor(
    readonly table: string,
    readonly id: string,
    readonly bytes: number,
    readonly limitBytes: number,
  ) {
    super(`item ${id} for ${table} is ${bytes} bytes of JSON, over the ${limitBytes}-byte limit`);
  }
}

/** A delivery was recorded for an item the store never held: the caller skipped the write before forwarding. */
export class SafeStoreItemNotFoundError extends Error {
  override readonly name = 'SafeStoreItemNotFoundError';
  readonly transient = false;
  constructor(
    readonly table: string,
    readonly id: string,
    options?: ErrorOptions,
  ) {
    super(`${table} holds no item ${id}`, options);
  }
}

/** Service errors DynamoDB documents as "retry later": throttling at any level and server-side failures. */
const UNAVAILABLE_SERVICE_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
]);

/** Socket-level failures: the request may never have reached DynamoDB, or its answer never came back. */
const NETWORK_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export function isDynamoDbUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // The SDK's request handler names its own timeouts TimeoutError.
  if (UNAVAILABLE_SERVICE_ERRORS.has(error.name) || error.name === 'TimeoutError') return true;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return isNetworkError(error);
}

function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && NETWORK_ERROR_CODES.has(code)) return true;
  // Node reports a refused dual-stack connect (IPv4 and IPv6 both tried) as an AggregateError of the attempts.
  return error instanceof AggregateError && error.errors.some(isNetworkError);
}
