import { isServerError, networkErrorCode } from '#shared/adapters/aws/network-errors.ts';

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

export function isDynamoDbUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // The SDK's request handler names its own timeouts TimeoutError.
  if (UNAVAILABLE_SERVICE_ERRORS.has(error.name) || error.name === 'TimeoutError') return true;
  return isServerError(error) || networkErrorCode(error) !== undefined;
}
