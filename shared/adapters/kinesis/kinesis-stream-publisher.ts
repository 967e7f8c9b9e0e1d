import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { StreamPublishError, type OutgoingRecord, type StreamPublisher } from '#shared/ports/stream-publisher.ts';
import { isKinesisCallRetryable, kinesisErrorCode, RecordTooLargeError } from './errors.ts';

/**
 * The stream port over Kinesis PutRecords.
 *
 * Batches go out one after another, in the caller's order, and a batch is fully accepted before the next is sent,
 * so records of one key in different batches never overtake each other. Within a batch Kinesis rejects entries
 * one by one (a hot shard throttles while the others accept), and an accepted entry cannot be taken back: when an
 * entry for key K is rejected and a later entry for K in the same call is accepted, the resend of the first lands
 * after the second. Holding the later ones back would mean one PutRecord per record, a throughput Rotor cannot
 * afford. The reorder is harmless because Rotor's consumers do not depend on arrival order within a key: matching
 * is commutative (either leg may arrive first) and idempotent (a resent record is recognised by its id), and
 * status writes go through `putIfNewer`, which orders them by version rather than by arrival.
 */

/** PutRecords limits: entries per call, bytes per call and per record (data plus partition key, as AWS counts). */
export const PUT_RECORDS_MAX_ENTRIES = 500;
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
export const RECORD_MAX_BYTES = 1024 * 1024;

export interface KinesisStreamPublisherOptions {
  /** PutRecords calls per batch, the first included (8 by default). */
  readonly maxAttempts?: number;
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** In [0, 1); `Math.random` by default. */
  readonly random?: () => number;
}

/**
 * A client for handlers. Kinesis defaults to HTTP/2, which kinesalite does not speak; HTTP/1.1 works with both.
 * The SDK's own retries are off because the publisher retries whole calls itself with the same backoff it uses
 * for rejected entries; both layers together would multiply the attempts and the time a handler can spend.
 */
export function kinesisClient(): KinesisClient {
  return new KinesisClient({
    requestHandler: new NodeHttpHandler({ connectionTimeout: 1_000, requestTimeout: 5_000, throwOnRequestTimeout: true }),
    maxAttempts: 1,
  });
}

interface Entry {
  readonly request: PutRecordsRequestEntry;
  readonly bytes: number;
}

export class KinesisStreamPublisher implements StreamPublisher {
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(
    private readonly kinesis: KinesisClient,
    options: KinesisStreamPublisherOptions = {},
  ) {
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 8);
    this.baseDelayMs = options.baseDelayMs ?? 50;
    this.maxDelayMs = options.maxDelayMs ?? 2_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  async publish(stream: string, records: readonly OutgoingRecord[]): Promise<void> {
    // Every record is checked before any is sent: a record Kinesis can never take must not leave the others half
    // published, with the caller's retry publishing them again and failing at the same place.
    const entries = records.map((record) => toEntry(stream, record));
    for (const batch of batches(entries)) await this.putBatch(stream, batch);
  }

  private async putBatch(stream: string, batch: readonly Entry[]): Promise<void> {
    let pending = batch;
    let lastErrorCode: string | undefined;
    let lastError: unknown;
    for (let attempt = 1; ; attempt++) {
      try {
        const output = await this.kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: pending.map((entry) => entry.request) }));
        const results = output.Records ?? [];
        // A result without a sequence number was not stored, whatever its error code says.
        const rejected = pending.filter((_, index) => results[index]?.ErrorCode !== undefined || results[index]?.SequenceNumber === undefined);
        if (rejected.length === 0) return;
        const firstRejected = results.find((result) => result.ErrorCode !== undefined);
        lastErrorCode = firstRejected?.ErrorCode ?? 'MissingResult';
        lastError = undefined;
        pending = rejected;
      } catch (error) {
        if (!isKinesisCallRetryable(error)) throw error;
        lastErrorCode = kinesisErrorCode(error);
        lastError = error;
      }
      if (attempt >= this.maxAttempts) {
        const failure = new StreamPublishError(stream, pending.length, attempt, lastErrorCode);
        if (lastError !== undefined) failure.cause = lastError;
        throw failure;
      }
      await this.sleep(this.backoffMs(attempt));
    }
  }

  /** Full jitter: spreads the retries of many throttled producers instead of having them collide again. */
  private backoffMs(attempt: number): number {
    return this.random() * Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
  }
}

function toEntry(stream: string, record: OutgoingRecord): Entry {
  const data = Buffer.from(record.data, 'utf8');
  const bytes = data.byteLength + Buffer.byteLength(record.partitionKey, 'utf8');
  if (bytes > RECORD_MAX_BYTES) throw new RecordTooLargeError(stream, record.partitionKey, bytes, RECORD_MAX_BYTES);
  return { request: { PartitionKey: record.partitionKey, Data: data }, bytes };
}

/** Consecutive runs of entries, each within one PutRecords call's limits, in the caller's order. */
function* batches(entries: readonly Entry[]): Generator<Entry[]> {
  let batch: Entry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (batch.length === PUT_RECORDS_MAX_ENTRIES || bytes + entry.bytes > PUT_RECORDS_MAX_BYTES) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += entry.bytes;
  }
  if (batch.length > 0) yield batch;
}
