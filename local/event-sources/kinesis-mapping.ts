import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { DescribeStreamSummaryCommand, ListShardsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { CheckpointStore } from '#local/event-sources/checkpoint-store.ts';
import { MappingStateError } from '#local/event-sources/errors.ts';
import {
  resolveMappingConfig,
  type KinesisEventSourceMappingConfig,
  type KinesisMappedFunction,
  type ResolvedKinesisMappingConfig,
} from '#local/event-sources/kinesis-mapping-config.ts';
import { ShardConsumer, type ShardMetrics } from '#local/event-sources/kinesis-shard-consumer.ts';
import { jsonLinesLogger, type MappingLogger } from '#local/event-sources/mapping-logger.ts';
import type { StreamActivity } from '#local/event-sources/stream-activity.ts';

export interface KinesisMappingDependencies {
  /** A client built with `requestHandler: new NodeHttpHandler()` when it talks to kinesalite (HTTP/1.1 only). */
  kinesis: KinesisClient;
  fn: KinesisMappedFunction;
  /** The region's data directory; checkpoints live under `<dataDir>/event-source-mappings/<mappingId>/`. */
  dataDir: string;
  /** Stable name of this mapping's state; default `<stream>--<function name>`. */
  mappingId?: string;
  /**
   * Pause between GetRecords calls once a shard is caught up (without `streamActivity`), and before re-reading a
   * shard whose read-ahead is full or whose read failed. AWS polls about once a second; default 250 ms.
   */
  pollIntervalMs?: number;
  /**
   * The doorbell of the kinesalite this mapping reads, rung on every put: a caught-up shard then waits for it (at
   * most `idlePollIntervalMs`, default 1 s, AWS's poll rate) instead of polling every `pollIntervalMs`. Only for a
   * kinesalite whose every put rings it; otherwise records would wait up to the idle interval.
   */
  streamActivity?: StreamActivity;
  idlePollIntervalMs?: number;
  /**
   * With `streamActivity`: a shard woken sooner than this after its previous read began waits out the rest, so a
   * stream put to continuously is read at most this often per shard rather than once per put. Default 50 ms.
   */
  minReadIntervalMs?: number;
  /** Backoff between retries of a failed batch (doubling up to the maximum). */
  retryBackoff?: { initialMs: number; maxMs: number };
  log?: MappingLogger;
}

export interface KinesisMappingMetrics {
  uuid: string;
  mappingId: string;
  streamArn: string | undefined;
  functionArn: string;
  state: MappingState;
  /** The largest iterator age over all shards, what AWS alarms on as `IteratorAge`. */
  maxIteratorAgeMs: number;
  shards: ShardMetrics[];
}

type MappingState = 'Created' | 'Starting' | 'Enabled' | 'Stopping' | 'Disabled';

/**
 * A Lambda event-source mapping from a Kinesis stream to a function, as AWS runs it: polled per shard,
 * ordered batches, retries, bisect, partial batch responses, record age, on-failure destination and durable
 * checkpoints. Shards are discovered when the mapping starts; a shard closed by a reshard is drained and marked.
 */
export class KinesisEventSourceMapping {
  readonly uuid = randomUUID();
  readonly mappingId: string;
  readonly checkpointFile: string;
  private readonly config: ResolvedKinesisMappingConfig;
  private readonly checkpoints: CheckpointStore;
  private readonly log: MappingLogger;
  private consumers: ShardConsumer[] = [];
  private streamArn: string | undefined;
  private state: MappingState = 'Created';

  constructor(
    config: KinesisEventSourceMappingConfig,
    private readonly dependencies: KinesisMappingDependencies,
  ) {
    this.config = resolveMappingConfig(config);
    const functionName = dependencies.fn.functionArn.split(':').pop() ?? 'function';
    this.mappingId = dependencies.mappingId ?? `${this.config.streamName}--${functionName}`;
    this.checkpointFile = path.join(dependencies.dataDir, 'event-source-mappings', this.mappingId, 'checkpoints.json');
    this.checkpoints = new CheckpointStore(this.checkpointFile);
    this.log = dependencies.log ?? jsonLinesLogger(`esm:${this.mappingId}`);
  }

  /**
   * Resolves once every shard has its starting position, so with LATEST every record put after this
   * resolves is delivered.
   */
  async start(): Promise<void> {
    if (this.state !== 'Created') throw new MappingStateError(`mapping ${this.mappingId} cannot start from ${this.state}`);
    this.state = 'Starting';
    try {
      const { kinesis, fn } = this.dependencies;
      const summary = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: this.config.streamName }));
      const streamArn = summary.StreamDescriptionSummary?.StreamARN ?? '';
      this.streamArn = streamArn;
      const region = streamArn.split(':')[3] ?? '';
      const saved = await this.checkpoints.load();
      const shards = (await this.listShards()).filter((shard) => !saved[shard.ShardId ?? '']?.closed);
      this.consumers = shards.map((shard) => {
        const shardId = shard.ShardId ?? '';
        return new ShardConsumer({
          streamName: this.config.streamName,
          source: { shardId, streamArn, region, invokeIdentityArn: fn.roleArn },
          config: this.config,
          fn,
          kinesis,
          checkpoints: this.checkpoints,
          resumeFrom: saved[shardId],
          pollIntervalMs: this.dependencies.pollIntervalMs ?? 250,
          streamActivity: this.dependencies.streamActivity,
          idlePollIntervalMs: this.dependencies.idlePollIntervalMs ?? 1_000,
          minReadIntervalMs: this.dependencies.minReadIntervalMs ?? 50,
          retryBackoff: this.dependencies.retryBackoff ?? { initialMs: 100, maxMs: 5_000 },
          log: this.log,
        });
      });
      await Promise.all(this.consumers.map((consumer) => consumer.prepare()));
      for (const consumer of this.consumers) consumer.start();
      this.state = 'Enabled';
    } catch (error) {
      this.state = 'Disabled';
      await this.checkpoints.settled();
      throw error;
    }
  }

  /** Stops polling, lets in-flight invocations finish and be checkpointed; leaves no timers behind. */
  async stop(): Promise<void> {
    if (this.state === 'Disabled' || this.state === 'Created') {
      this.state = 'Disabled';
      return;
    }
    if (this.state !== 'Enabled') throw new MappingStateError(`mapping ${this.mappingId} cannot stop while ${this.state}`);
    this.state = 'Stopping';
    await Promise.all(this.consumers.map((consumer) => consumer.stop()));
    await this.checkpoints.settled();
    this.state = 'Disabled';
  }

  /** Milliseconds behind the tip, per shard id. */
  iteratorAges(): Record<string, number> {
    return Object.fromEntries(this.consumers.map((consumer) => [consumer.shardId, consumer.iteratorAgeMs()]));
  }

  metrics(): KinesisMappingMetrics {
    const shards = this.consumers.map((consumer) => consumer.metrics());
    return {
      uuid: this.uuid,
      mappingId: this.mappingId,
      streamArn: this.streamArn,
      functionArn: this.dependencies.fn.functionArn,
      state: this.state,
      maxIteratorAgeMs: Math.max(0, ...shards.map((shard) => shard.iteratorAgeMs)),
      shards,
    };
  }

  private async listShards(): Promise<Shard[]> {
    const shards: Shard[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.dependencies.kinesis.send(
        nextToken ? new ListShardsCommand({ NextToken: nextToken }) : new ListShardsCommand({ StreamName: this.config.streamName }),
      );
      shards.push(...(page.Shards ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
    return shards;
  }
}
