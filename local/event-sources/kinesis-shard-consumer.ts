import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  type _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';
import { abortableDelay, backoffMs } from '#local/event-sources/abortable-delay.ts';
import { CheckpointTracker } from '#local/event-sources/checkpoint-tracker.ts';
import type { CheckpointStore, ShardCheckpoint } from '#local/event-sources/checkpoint-store.ts';
import { Doorbell } from '#local/event-sources/doorbell.ts';
import { deliverBatch, type ShardCounters } from '#local/event-sources/kinesis-batch-delivery.ts';
import type { EventSourceIdentity, ShardRecord } from '#local/event-sources/kinesis-event.ts';
import type { KinesisMappedFunction, ResolvedKinesisMappingConfig } from '#local/event-sources/kinesis-mapping-config.ts';
import type { MappingLogger } from '#local/event-sources/mapping-logger.ts';
import type { StreamActivity } from '#local/event-sources/stream-activity.ts';

export interface ShardConsumerOptions {
  streamName: string;
  source: EventSourceIdentity;
  config: ResolvedKinesisMappingConfig;
  fn: KinesisMappedFunction;
  kinesis: KinesisClient;
  checkpoints: CheckpointStore;
  resumeFrom: ShardCheckpoint | undefined;
  pollIntervalMs: number;
  /** Rung when records are put to the stream: a caught-up shard then sleeps up to `idlePollIntervalMs` instead. */
  streamActivity?: StreamActivity | undefined;
  idlePollIntervalMs: number;
  /** Least time between the starts of two reads when woken: a busy stream rings on every put. */
  minReadIntervalMs: number;
  retryBackoff: { initialMs: number; maxMs: number };
  log: MappingLogger;
}

export interface ShardMetrics extends ShardCounters {
  shardId: string;
  /** Last sequence number durably finished; processing resumes after it. */
  checkpoint: string | undefined;
  /** Milliseconds between now and the arrival of the oldest record not yet checkpointed; 0 when caught up. */
  iteratorAgeMs: number;
  unfinishedRecords: number;
  inFlightBatches: number;
  closed: boolean;
}

// Each loop has its own stop signal: with one shared signal, ParallelizationFactor 10 lanes and the reader each
// waiting on it exceed Node's 10-listener warning threshold (MaxListenersExceededWarning).
type Lane = { queue: Array<{ record: ShardRecord; readAtMs: number }>; bell: Doorbell; stop: AbortController };

// Read ahead at most this many batches per lane, so a slow function does not pull the whole shard into memory.
const READ_AHEAD_BATCHES = 4;

/** FNV-1a: a stable, cheap hash, so a partition key always lands in the same lane. */
function laneOf(partitionKey: string, laneCount: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < partitionKey.length; i += 1) {
    hash ^= partitionKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % laneCount;
}

function toShardRecord(record: KinesisRecord): ShardRecord {
  return {
    sequenceNumber: record.SequenceNumber ?? '',
    partitionKey: record.PartitionKey ?? '',
    data: record.Data ?? new Uint8Array(),
    arrivalMs: record.ApproximateArrivalTimestamp?.getTime() ?? Date.now(),
  };
}

/**
 * Reads one shard in order and feeds ParallelizationFactor lanes; each lane delivers one batch at a time, so
 * records sharing a partition key are processed in order while different keys proceed concurrently.
 */
export class ShardConsumer {
  readonly shardId: string;
  private readonly readerStop = new AbortController();
  private readonly tracker = new CheckpointTracker<ShardRecord>();
  private readonly lanes: Lane[];
  private readonly readerBell = new Doorbell();
  private readonly counters: ShardCounters = {
    invocations: 0, functionErrors: 0, recordsSucceeded: 0, recordsSentToDestination: 0, recordsDiscarded: 0,
  };
  private iterator: string | undefined;
  private lastReadSequence: string | undefined;
  /** Where a LATEST mapping started: records that arrived earlier are not its to process. */
  private latestAnchorMs: number | undefined;
  /** Set while reading from TRIM_HORIZON on behalf of a LATEST mapping that has no sequence checkpoint yet. */
  private skipArrivedBeforeMs: number | undefined;
  private checkpoint: string | undefined;
  private millisBehindLatest = 0;
  private inFlightBatches = 0;
  private readerDone = false;
  private closed = false;
  private running: Promise<unknown> | undefined;

  constructor(private readonly options: ShardConsumerOptions) {
    this.shardId = options.source.shardId;
    this.checkpoint = options.resumeFrom?.sequenceNumber;
    this.latestAnchorMs = options.resumeFrom?.latestAnchorMs;
    this.lanes = Array.from({ length: options.config.parallelizationFactor }, () => ({ queue: [], bell: new Doorbell(), stop: new AbortController() }));
  }

  /** Fixes the starting position (persisting a LATEST anchor first) so records put afterwards are consumed. */
  async prepare(): Promise<void> {
    const { resumeFrom, config, checkpoints } = this.options;
    if (!resumeFrom?.sequenceNumber && this.latestAnchorMs === undefined && config.startingPosition === 'LATEST') {
      // Anchor before asking for LATEST: after a crash the mapping re-reads from here rather than skipping records.
      this.latestAnchorMs = Date.now();
      await checkpoints.save(this.shardId, { latestAnchorMs: this.latestAnchorMs });
      this.iterator = await this.shardIterator({ ShardIteratorType: 'LATEST' });
      return;
    }
    this.iterator = await this.shardIterator(this.resumePosition());
  }

  start(): void {
    this.running = Promise.all([this.readLoop(), ...this.lanes.map((lane) => this.laneLoop(lane))]).then(() => this.markClosedIfDrained());
  }

  /** Stops reading and starting batches, waits for in-flight invocations, and flushes the checkpoint. */
  async stop(): Promise<void> {
    this.readerStop.abort();
    for (const lane of this.lanes) lane.stop.abort();
    await this.running;
    await this.options.checkpoints.settled();
  }

  iteratorAgeMs(): number {
    const oldest = this.tracker.oldestUnfinished();
    return oldest ? Math.max(0, Date.now() - oldest.arrivalMs) : this.millisBehindLatest;
  }

  metrics(): ShardMetrics {
    return {
      shardId: this.shardId,
      checkpoint: this.checkpoint,
      iteratorAgeMs: this.iteratorAgeMs(),
      unfinishedRecords: this.tracker.unfinishedCount,
      inFlightBatches: this.inFlightBatches,
      closed: this.closed,
      ...this.counters,
    };
  }

  private resumePosition(): Omit<GetShardIteratorCommandInput, 'StreamName' | 'ShardId'> {
    const resumeAfter = this.lastReadSequence ?? this.options.resumeFrom?.sequenceNumber;
    if (resumeAfter) return { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: resumeAfter };
    this.skipArrivedBeforeMs = this.latestAnchorMs;
    return { ShardIteratorType: 'TRIM_HORIZON' };
  }

  private async shardIterator(position: Omit<GetShardIteratorCommandInput, 'StreamName' | 'ShardId'>): Promise<string | undefined> {
    const response = await this.options.kinesis.send(
      new GetShardIteratorCommand({ StreamName: this.options.streamName, ShardId: this.shardId, ...position }),
      { abortSignal: this.readerStop.signal },
    );
    return response.ShardIterator;
  }

  private finish = (records: ShardRecord[]): void => {
    const advancedTo = this.tracker.finish(records);
    if (advancedTo === undefined) return;
    this.checkpoint = advancedTo;
    this.options.checkpoints.save(this.shardId, { sequenceNumber: advancedTo }).catch((error: unknown) =>
      this.options.log.error('checkpoint write failed; it is retried with the next one', {
        shardId: this.shardId, error: error instanceof Error ? error.message : String(error),
      }),
    );
  };

  private async readLoop(): Promise<void> {
    const { config, kinesis, pollIntervalMs, log } = this.options;
    const signal = this.readerStop.signal;
    const limit = Math.min(10_000, config.batchSize * config.parallelizationFactor);
    const readAheadLimit = READ_AHEAD_BATCHES * config.batchSize * config.parallelizationFactor;
    let consecutiveFailures = 0;
    try {
      while (!signal.aborted && this.iterator) {
        if (this.tracker.unfinishedCount >= readAheadLimit) {
          await this.readerBell.wait(pollIntervalMs, signal);
          continue;
        }
        try {
          const ringsBeforeRead = this.options.streamActivity?.rings(this.options.streamName);
          const readStartedMs = performance.now();
          const response = await kinesis.send(new GetRecordsCommand({ ShardIterator: this.iterator, Limit: limit }), { abortSignal: signal });
          consecutiveFailures = 0;
          this.iterator = response.NextShardIterator;
          this.millisBehindLatest = response.MillisBehindLatest ?? 0;
          const records = (response.Records ?? []).map(toShardRecord);
          this.accept(records);
          if (records.length < limit && this.iterator) await this.idle(ringsBeforeRead, readStartedMs, signal);
        } catch (error) {
          if (signal.aborted) break;
          consecutiveFailures += 1;
          const name = (error as { name?: string }).name;
          log.warn('GetRecords failed, retrying', { shardId: this.shardId, error: `${name}: ${(error as Error).message}` });
          await abortableDelay(backoffMs(consecutiveFailures, pollIntervalMs, 5_000), signal);
          if (name === 'ExpiredIteratorException' || name === 'InvalidArgumentException') {
            this.iterator = await this.shardIterator(this.resumePosition()).catch(() => this.iterator);
          }
        }
      }
      // A null NextShardIterator (not a stop) means a reshard closed this shard and it is fully read.
      this.closed = !signal.aborted && !this.iterator;
    } finally {
      this.readerDone = true;
      for (const lane of this.lanes) lane.bell.ring();
    }
  }

  /** After a short read: sleep until the stream is rung (or, without a doorbell, for the poll interval). */
  private async idle(ringsBeforeRead: number | undefined, readStartedMs: number, signal: AbortSignal): Promise<void> {
    const { streamActivity, streamName, idlePollIntervalMs, minReadIntervalMs, pollIntervalMs } = this.options;
    if (!streamActivity) {
      await abortableDelay(pollIntervalMs, signal);
      return;
    }
    if ((await streamActivity.wait(streamName, idlePollIntervalMs, signal, ringsBeforeRead)) !== 'rung') return;
    // Puts landing meanwhile are read together: without this a shard under load would be read once per put.
    const tooSoonMs = readStartedMs + minReadIntervalMs - performance.now();
    if (tooSoonMs > 0) await abortableDelay(tooSoonMs, signal);
  }

  private accept(records: ShardRecord[]): void {
    if (records.length === 0) return;
    this.lastReadSequence = (records[records.length - 1] as ShardRecord).sequenceNumber;
    this.tracker.track(records);
    const skipBefore = this.skipArrivedBeforeMs;
    const readAtMs = Date.now();
    const skipped: ShardRecord[] = [];
    for (const record of records) {
      if (skipBefore !== undefined && record.arrivalMs < skipBefore) {
        skipped.push(record);
        continue;
      }
      const lane = this.lanes[laneOf(record.partitionKey, this.lanes.length)] as Lane;
      lane.queue.push({ record, readAtMs });
    }
    if (skipped.length > 0) this.finish(skipped);
    for (const lane of this.lanes) if (lane.queue.length > 0) lane.bell.ring();
  }

  private async laneLoop(lane: Lane): Promise<void> {
    const { config } = this.options;
    const signal = lane.stop.signal;
    const windowMs = config.maximumBatchingWindowInSeconds * 1000;
    while (!signal.aborted) {
      const oldest = lane.queue[0];
      if (!oldest) {
        if (this.readerDone) return;
        await lane.bell.wait(undefined, signal);
        continue;
      }
      const windowLeftMs = oldest.readAtMs + windowMs - Date.now();
      if (lane.queue.length < config.batchSize && windowLeftMs > 0 && !this.readerDone) {
        await lane.bell.wait(windowLeftMs, signal);
        continue;
      }
      const batch = lane.queue.splice(0, config.batchSize).map((entry) => entry.record);
      this.inFlightBatches += 1;
      try {
        await deliverBatch(batch, {
          config, fn: this.options.fn, source: this.options.source, signal, finish: this.finish,
          counters: this.counters, retryBackoff: this.options.retryBackoff, log: this.options.log,
        });
      } finally {
        this.inFlightBatches -= 1;
        this.readerBell.ring();
      }
    }
  }

  private async markClosedIfDrained(): Promise<void> {
    if (this.closed && this.tracker.unfinishedCount === 0) {
      await this.options.checkpoints.save(this.shardId, { closed: true });
    }
  }
}
