import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { z } from 'zod';
import { publishForwards, type Forward } from '#shared/pipeline/forward.ts';
import { KeyOrder } from '#shared/pipeline/key-order.ts';
import type { OutcomeCounts } from '#shared/pipeline/outcome-counts.ts';
import { RoutingControlOffError, stageGate } from '#shared/pipeline/stage-gate.ts';
import { stageTelemetry } from '#shared/pipeline/telemetry.ts';
import type { StreamPublisher } from '#shared/ports/stream-publisher.ts';

/**
 * The shape every Kinesis-triggered stage shares (DESIGN §2, §7):
 *
 * - Powertools `BatchProcessor` with `ReportBatchItemFailures`: records sharing a partition key are processed one
 *   after another in shard order (records of different keys side by side), and only the failed ones are reported,
 *   so the mapping checkpoints past everything that succeeded.
 * - Idempotent per record. Where the stage's effect is a conditional safe-store write or a PostgreSQL transaction,
 *   that condition is the idempotency: a redelivered record loses the condition and forwards the same records
 *   again. Where the effect is not conditional — the outbound gateway's send to a queue — the stage also runs
 *   under Powertools `makeIdempotent` (keyed on the record's business `id`, one persistence layer per function,
 *   keys prefixed with the function name and region): a copy of a record arriving while the first is still in progress (a
 *   batch retried after a timeout, whose first invocation has not finished) fails and comes back later instead of
 *   sending a second time, and a completed record returns its stored result without running again.
 * - What a batch forwards is published after the batch, in one `PutRecords` per stream, resending only rejected
 *   entries; if that still fails the whole invocation fails and the batch comes back (downstream is idempotent).
 * - Gated by a routing control when the stage has one: while it is Off the batch is not touched.
 */

export class UnreadableRecordError extends Error {
  override readonly name = 'UnreadableRecordError';
}

export interface KinesisStageOptions<TInput extends { id: string }> {
  /** `<app prefix>-<stage>`, e.g. `tm-ingestion`: the logger's service and the metrics' dimension. */
  readonly name: string;
  readonly input: z.ZodType<TInput>;
  /** The stage's work for one record: its safe-store write, then what to forward. Must be idempotent. */
  process(input: TInput): Promise<Forward[]>;
  /** After the batch's forwards were accepted downstream (the matching stage marks its outbox rows relayed). */
  afterForwarding?(forwards: readonly Forward[]): Promise<void>;
  /** The trade id to log as the correlation id. */
  correlationId?(input: TInput): string | undefined;
  /**
   * Powertools idempotency table, for a stage whose effect no condition guards (see above). Without it the
   * stage's own conditional writes make it idempotent, at a third of the DynamoDB writes.
   */
  readonly idempotencyTable?: string;
  /** Routing control (`<app>-app`) that must be On in this region; `-<region>` is appended. */
  readonly routingControl?: string;
  readonly publisher: StreamPublisher;
  readonly dynamodb?: DynamoDBClient;
  /** Business outcomes `process` counted as they committed, published with the batch's metrics. */
  readonly outcomes?: OutcomeCounts;
}

const decoder = new TextDecoder();

export function kinesisStage<TInput extends { id: string }>(options: KinesisStageOptions<TInput>) {
  const { logger, metrics } = stageTelemetry(options.name);
  const config = new IdempotencyConfig({ eventKeyJmesPath: 'id', throwOnNoIdempotencyKey: true, expiresAfterSeconds: 7 * 24 * 3600 });
  const processOnce = options.idempotencyTable
    ? makeIdempotent((input: TInput) => options.process(input), {
        persistenceStore: new DynamoDBPersistenceLayer({ tableName: options.idempotencyTable, awsSdkV3Client: options.dynamodb ?? new DynamoDBClient({}) }),
        config,
        // Records are per region: they guard against a second invocation in the same region. One left in progress
        // (or completed before its store item replicated) by a region that was lost must not stop the survivor's
        // replay of the same record; the store's delivery count still stops a second send of what did replicate.
        keyPrefix: `${options.name}@${process.env.AWS_REGION ?? 'local'}`,
      })
    : (input: TInput) => options.process(input);
  const gate = stageGate(options.routingControl);

  const decode = (record: KinesisStreamRecord): TInput => {
    const text = decoder.decode(Buffer.from(record.kinesis.data, 'base64'));
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new UnreadableRecordError(`record ${record.kinesis.sequenceNumber} is not JSON: ${text.slice(0, 120)}`);
    }
    const parsed = options.input.safeParse(json);
    if (!parsed.success) throw new UnreadableRecordError(`record ${record.kinesis.sequenceNumber} is not a ${options.name} input: ${parsed.error.message.slice(0, 300)}`);
    return parsed.data;
  };

  return async (event: KinesisStreamEvent, context: Context): Promise<KinesisStreamBatchResponse> => {
    config.registerLambdaContext(context);
    logger.addContext(context);
    if (gate && !(await gate.waitUntilOn())) throw new RoutingControlOffError(gate.controlName);

    // Forwards per record, published in record order: a key's records reach the next stream in the order they came.
    const producedByRecord = new Map<string, Forward[]>();
    let failed = 0;
    const processor = new BatchProcessor(EventType.KinesisDataStreams);
    const keyOrder = new KeyOrder();
    const handleRecord = (record: KinesisStreamRecord) =>
      keyOrder.run(record.kinesis.partitionKey, async () => {
        const input = decode(record);
        try {
          producedByRecord.set(record.kinesis.sequenceNumber, await processOnce(input));
        } catch (error) {
          failed += 1;
          logger.warn('record failed; the mapping will deliver it again', {
            correlation_id: options.correlationId?.(input),
            recordId: input.id,
            error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
          });
          throw error;
        }
      });
    try {
      // In parallel across partition keys, in order within one (KeyOrder): records of different trades do not wait
      // for each other's round trips, which a batch of a hundred sequential records would, up to the timeout.
      const response = await processPartialResponse(event, handleRecord, processor, { context, processInParallel: true });
      const forwards = event.Records.flatMap((record) => producedByRecord.get(record.kinesis.sequenceNumber) ?? []);
      await publishForwards(options.publisher, forwards);
      await options.afterForwarding?.(forwards);
      metrics.addMetric('RecordsProcessed', MetricUnit.Count, event.Records.length - failed);
      metrics.addMetric('RecordsFailed', MetricUnit.Count, failed);
      metrics.addMetric('RecordsForwarded', MetricUnit.Count, forwards.length);
      // Refused input, counted where it is refused; the stacks alarm on its rate (stacks/plan/alarms.ts).
      metrics.addMetric('Nacks', MetricUnit.Count, forwards.filter((forward) => forward.record.kind === 'nack').length);
      for (const [name, count] of options.outcomes?.drain() ?? []) metrics.addMetric(name, MetricUnit.Count, count);
      return response;
    } finally {
      metrics.publishStoredMetrics();
    }
  };
}
