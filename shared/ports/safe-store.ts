/**
 * The safe-store port: the DynamoDB table each stage writes before it forwards anything (DESIGN §2), so that
 * reconciliation can compare adjacent stages and replay what is missing. Items are keyed by `id` and written only
 * under a condition, so a redelivered input never overwrites what a stage already recorded.
 */

export interface SafeStoreItem {
  readonly id: string;
  readonly [attribute: string]: unknown;
}

export type PutIfAbsentResult<T extends SafeStoreItem> = { readonly stored: true } | { readonly stored: false; readonly existing: T };

export interface SafeStore<T extends SafeStoreItem = SafeStoreItem> {
  /** Writes the item when no item has its id (`attribute_not_exists`); otherwise resolves the stored one. */
  putIfAbsent(item: T): Promise<PutIfAbsentResult<T>>;
  /**
   * Writes the item when none has its id or the stored one has a lower `version`: status transitions land in
   * order even when their records arrive out of order. Resolves whether it wrote.
   */
  putIfNewer(item: T & { readonly version: number }): Promise<boolean>;
  get(id: string): Promise<T | undefined>;
  /**
   * Records one more delivery of the item to its destination (`deliveries` + 1, `deliveredAt` = `at`) and
   * resolves the new count: above 1 means the destination received it more than once.
   */
  recordDelivery(id: string, at: string): Promise<number>;
}

/** The store refused or failed the write for a reason retrying may cure (throttling, an unreachable endpoint). */
export class SafeStoreUnavailableError extends Error {
  override readonly name = 'SafeStoreUnavailableError';
  readonly transient = true;
}
