import { randomUUID } from 'node:crypto';
import type { InvocationOutcome } from '#local/lambda/runtime.ts';
import { abortableDelay, backoffMs } from '#local/event-sources/abortable-delay.ts';
import {
  judgeBatchItemFailures,
  toKinesisStreamEvent,
  type EventSourceIdentity,
  type ShardRecord,
} from '#local/event-sources/kinesis-event.ts';
import type { KinesisMappedFunction, ResolvedKinesisMappingConfig } from '#local/event-sources/kinesis-mapping-config.ts';
import type { MappingLogger } from '#local/event-sources/mapping-logger.ts';
import type { KinesisOnFailureRecord } from '#local/event-sources/on-failure-destination.ts';

export interface ShardCounters {
  invocations: number;
  functionErrors: number;
  recordsSucceeded: number;
  recordsSentToDestination: number;
  recordsDiscarded: number;
}

export interface BatchDeliveryContext {
  config: ResolvedKinesisMappingConfig;
  fn: KinesisMappedFunction;
  source: EventSourceIdentity;
  /** Aborted by stop(): no new invocation or retry starts, the running one is awaited. */
  signal: AbortSignal;
  /** Called when records are finished (processed, or given up on); moves the checkpoint. */
  finish: (records: ShardRecord[]) => void;
  counters: ShardCounters;
  retryBackoff: { initialMs: number; maxMs: number };
  log: MappingLogger;
}

type LastInvocation = { requestId: string; outcome: InvocationOutcome<unknown> | undefined };

/**
 * Delivers one batch the way a Lambda stream mapping does: invoke; on error retry (bisecting if asked),
 * honour partial batch responses, expire records past the maximum age, and hand records that cannot be
 * processed to the on-failure destination so the shard moves on. Resolves true when every record of the
 * batch is finished, false when stopped first (unfinished records are redone after a restart).
 */
export function deliverBatch(records: ShardRecord[], context: BatchDeliveryContext): Promise<boolean> {
  return deliver(records, context, 0, 0);
}

async function deliver(
  batch: ShardRecord[],
  context: BatchDeliveryContext,
  countedFailuresBefore: number,
  invocationsBefore: number,
): Promise<boolean> {
  const { config, fn, source, signal, counters } = context;
  let pending = batch;
  // Failures that count against MaximumRetryAttempts. The invocation that leads to a split does not count,
  // as on AWS ("splitting a batch does not count towards the retry quota").
  let countedFailures = countedFailuresBefore;
  let invocations = invocationsBefore;
  let last: LastInvocation | undefined;

  while (pending.length > 0) {
    if (signal.aborted) return false;

    const expired = expiredRecords(pending, config.maximumRecordAgeInSeconds);
    if (expired.length > 0) {
      if (!(await giveUp(expired, 'RecordAgeExceeded', invocations, last, context))) return false;
      pending = pending.slice(expired.length);
      continue;
    }

    const outcome = await fn.invoke(toKinesisStreamEvent(pending, source));
    invocations += 1;
    counters.invocations += 1;
    last = { requestId: outcome.requestId, outcome };

    let failedWholeBatch: boolean;
    if (outcome.ok) {
      const verdict = config.reportBatchItemFailures ? judgeBatchItemFailures(outcome.result, pending) : { kind: 'success' as const };
      if (verdict.kind === 'success') {
        counters.recordsSucceeded += pending.length;
        context.finish(pending);
        return true;
      }
      if (verdict.kind === 'partial') {
        const succeeded = pending.slice(0, verdict.firstFailedIndex);
        counters.recordsSucceeded += succeeded.length;
        if (succeeded.length > 0) context.finish(succeeded);
        pending = pending.slice(verdict.firstFailedIndex);
        failedWholeBatch = false;
      } else {
        context.log.warn('invalid batch item failures response fails the whole batch', {
          functionArn: fn.functionArn, shardId: source.shardId, reason: verdict.error.message,
        });
        failedWholeBatch = true;
      }
    } else {
      counters.functionErrors += 1;
      context.log.warn('function error, batch will be retried', {
        functionArn: fn.functionArn, shardId: source.shardId, requestId: outcome.requestId, error: outcome.error.message,
      });
      failedWholeBatch = true;
    }

    if (failedWholeBatch && config.bisectBatchOnFunctionError && pending.length > 1) {
      const middle = Math.ceil(pending.length / 2);
      if (!(await deliver(pending.slice(0, middle), context, countedFailures, invocations))) return false;
      return deliver(pending.slice(middle), context, countedFailures, invocations);
    }

    countedFailures += 1;
    if (config.maximumRetryAttempts !== -1 && countedFailures > config.maximumRetryAttempts) {
      return giveUp(pending, 'RetryAttemptsExhausted', invocations, last, context);
    }
    const retryDelay = backoffMs(countedFailures, context.retryBackoff.initialMs, context.retryBackoff.maxMs);
    if (!(await abortableDelay(retryDelay, signal))) return false;
  }
  return true;
}

function expiredRecords(pending: ShardRecord[], maximumRecordAgeInSeconds: number): ShardRecord[] {
  if (maximumRecordAgeInSeconds === -1) return [];
  const oldestAllowedMs = Date.now() - maximumRecordAgeInSeconds * 1000;
  // Arrival times grow with sequence numbers within a shard, so expired records form a prefix.
  const firstFresh = pending.findIndex((record) => record.arrivalMs >= oldestAllowedMs);
  return firstFresh === -1 ? pending : pending.slice(0, firstFresh);
}

/** Sends the records' metadata to the on-failure destination (retrying until it accepts) and finishes them. */
async function giveUp(
  records: ShardRecord[],
  condition: KinesisOnFailureRecord['requestContext']['condition'],
  invocations: number,
  last: LastInvocation | undefined,
  context: BatchDeliveryContext,
): Promise<boolean> {
  const { fn, source, counters, config } = context;
  const first = records[0] as ShardRecord;
  const lastRecord = records[records.length - 1] as ShardRecord;
  const failure: KinesisOnFailureRecord = {
    requestContext: {
      requestId: last?.requestId ?? randomUUID(),
      functionArn: fn.functionArn,
      condition,
      approximateInvokeCount: invocations,
    },
    responseContext: {
      statusCode: last ? 200 : 0,
      executedVersion: last ? '$LATEST' : '',
      ...(last?.outcome && !last.outcome.ok ? { functionError: 'Unhandled' } : {}),
    },
    version: '1.0',
    timestamp: new Date().toISOString(),
    KinesisBatchInfo: {
      shardId: source.shardId,
      startSequenceNumber: first.sequenceNumber,
      endSequenceNumber: lastRecord.sequenceNumber,
      approximateArrivalOfFirstRecord: new Date(first.arrivalMs).toISOString(),
      approximateArrivalOfLastRecord: new Date(lastRecord.arrivalMs).toISOString(),
      batchSize: records.length,
      streamArn: source.streamArn,
    },
  };

  if (!config.onFailure) {
    context.log.error('records discarded: no on-failure destination configured', { ...failure.KinesisBatchInfo, condition });
    counters.recordsDiscarded += records.length;
    context.finish(records);
    return true;
  }
  for (let attempt = 1; ; attempt += 1) {
    try {
      await config.onFailure.send(failure);
      break;
    } catch (error) {
      context.log.error('on-failure destination rejected a record, retrying', {
        shardId: source.shardId, error: error instanceof Error ? error.message : String(error),
      });
      const delay = backoffMs(attempt, context.retryBackoff.initialMs, context.retryBackoff.maxMs);
      if (!(await abortableDelay(delay, context.signal))) return false;
    }
  }
  counters.recordsSentToDestination += records.length;
  context.finish(records);
  return true;
}
