/**
 * The stream port: how a stage forwards records to the next stage's Kinesis stream. Records of one partition key
 * land on one shard, in the order given — except that an entry the service rejected and that is resent lands after
 * the later entries that were accepted. Rotor's stages take that: matching is commutative per key and every stage
 * is idempotent. A publish resolves only when every record was accepted.
 */

export interface OutgoingRecord {
  readonly partitionKey: string;
  /** The record's JSON text. */
  readonly data: string;
}

export interface StreamPublisher {
  /**
   * Puts every record on `stream`, in batches within the service's limits, resending only the entries the service
   * rejected (throttling), with backoff and jitter. Throws `StreamPublishError` when some are still rejected after
   * the last attempt; the caller fails its input so the whole forward is retried (downstream is idempotent).
   */
  publish(stream: string, records: readonly OutgoingRecord[]): Promise<void>;
}

export class StreamPublishError extends Error {
  override readonly name = 'StreamPublishError';
  readonly transient = true;
  constructor(
    readonly stream: string,
    readonly rejected: number,
    readonly attempts: number,
    readonly lastErrorCode?: string,
  ) {
    super(`${stream} still rejected ${rejected} records after ${attempts} attempts${lastErrorCode ? ` (${lastErrorCode})` : ''}`);
  }
}
