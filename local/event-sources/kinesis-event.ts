import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { InvalidBatchItemFailuresError } from '#local/event-sources/errors.ts';

/** A record as read from a shard, before it is shaped into an event. */
export interface ShardRecord {
  sequenceNumber: string;
  partitionKey: string;
  data: Uint8Array;
  /** ApproximateArrivalTimestamp, epoch milliseconds. */
  arrivalMs: number;
}

export interface EventSourceIdentity {
  shardId: string;
  streamArn: string;
  region: string;
  /** The function's execution role. */
  invokeIdentityArn: string;
}

export function toKinesisStreamRecord(record: ShardRecord, source: EventSourceIdentity): KinesisStreamRecord {
  return {
    kinesis: {
      kinesisSchemaVersion: '1.0',
      partitionKey: record.partitionKey,
      sequenceNumber: record.sequenceNumber,
      data: Buffer.from(record.data).toString('base64'),
      approximateArrivalTimestamp: record.arrivalMs / 1000,
    },
    eventSource: 'aws:kinesis',
    eventVersion: '1.0',
    eventID: `${source.shardId}:${record.sequenceNumber}`,
    eventName: 'aws:kinesis:record',
    invokeIdentityArn: source.invokeIdentityArn,
    awsRegion: source.region,
    eventSourceARN: source.streamArn,
  };
}

export function toKinesisStreamEvent(records: readonly ShardRecord[], source: EventSourceIdentity): KinesisStreamEvent {
  return { Records: records.map((record) => toKinesisStreamRecord(record, source)) };
}

export type BatchItemFailuresVerdict =
  | { kind: 'success' }
  /** Index in the batch of the lowest failed sequence number: everything before it succeeded. */
  | { kind: 'partial'; firstFailedIndex: number }
  | { kind: 'invalid'; error: InvalidBatchItemFailuresError };

/**
 * Reads a ReportBatchItemFailures response the way Lambda does: a null/empty response or an empty or null
 * `batchItemFailures` is a complete success; an entry whose `itemIdentifier` is missing, empty, or not a
 * sequence number of this batch fails the whole batch.
 */
export function judgeBatchItemFailures(response: unknown, batch: readonly ShardRecord[]): BatchItemFailuresVerdict {
  if (response === null || response === undefined || typeof response !== 'object') return { kind: 'success' };
  const failures = (response as Partial<KinesisStreamBatchResponse>).batchItemFailures;
  if (failures === null || failures === undefined) return { kind: 'success' };
  const invalid = (reason: string): BatchItemFailuresVerdict => ({
    kind: 'invalid',
    error: new InvalidBatchItemFailuresError(reason),
  });
  if (!Array.isArray(failures)) return invalid('batchItemFailures is not a list');
  if (failures.length === 0) return { kind: 'success' };
  const indexBySequence = new Map(batch.map((record, index) => [record.sequenceNumber, index]));
  let firstFailedIndex = Number.POSITIVE_INFINITY;
  for (const failure of failures as unknown[]) {
    const identifier = (failure as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof identifier !== 'string' || identifier === '') {
      return invalid(`itemIdentifier ${JSON.stringify(identifier)} is missing or empty`);
    }
    const index = indexBySequence.get(identifier);
    if (index === undefined) return invalid(`itemIdentifier ${identifier} is not a sequence number of this batch`);
    firstFailedIndex = Math.min(firstFailedIndex, index);
  }
  return { kind: 'partial', firstFailedIndex };
}
