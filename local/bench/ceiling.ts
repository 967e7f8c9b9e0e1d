import { Agent } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { RunningTwin } from '#local/controller/controller.ts';
import { ensureStream } from '#local/region/provisioning.ts';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import type { KinesisTrigger, StreamSpec } from '#shared/topology/schema.ts';
import type { CallMix } from '#local/bench/leg-mix.ts';
import { legsPerSecond, percentile, round, weightedSchedule } from '#local/bench/stats.ts';

/**
 * The ceiling: the calls one trade leg costs the pipeline (leg-mix.ts), run bare — no handlers, no business logic —
 * against the active region's own emulators, interleaved in the mix's proportions, at a few fixed concurrencies in
 * turn. The best of them is the ceiling: the legs/s the emulators allow on this machine with the pipeline's batching
 * at its best (PutRecords and GetRecords as large as the manifest's Kinesis triggers allow). One concurrency is not
 * enough: a write through the replicating endpoint is answered only after its replication log is fsynced, and
 * concurrent writes share that fsync, so DynamoDB's throughput climbs with the writes in flight until the CPU is
 * busy — and the pipeline keeps hundreds in flight (ten lanes per shard, every stage, both apps).
 *
 * - Kinesis: a 2-shard stream of the bench's own on the region's kinesalite; PutRecords and GetRecords on it.
 * - DynamoDB: the region's replicating endpoint (what its functions use), on the manifest's trade-matching
 *   idempotency table, a global table, so every write is also replicated to the other region as in the pipeline.
 * - MQ: a queue of the bench's own on the region's broker, through StompMessageBroker (send with receipt; receive
 *   and individual ack).
 * - PostgreSQL: the region's own databases (PGlite inside the region process) through its Aurora agent's query
 *   endpoint, one statement per transaction (the agent runs single statements): advisory lock, counterpart lookup,
 *   counterpart update, insert and outbox insert, in one implicit transaction, on tables of the bench's own.
 */

export type CeilingCall = 'kinesis.PutRecords' | 'kinesis.GetRecords' | 'dynamodb.PutItem' | 'dynamodb.UpdateItem' | 'mq.send' | 'mq.receive+ack' | `sql.${string}`;

export interface CeilingOptions {
  /** Seconds measured at each concurrency, after the warm-up. */
  readonly seconds: number;
  readonly concurrencies: readonly number[];
  readonly warmupSeconds?: number;
  readonly progress?: (line: string) => void;
}

export interface CeilingResult {
  readonly legs_per_s: number;
  readonly region: string;
  readonly seconds: number;
  /** The concurrency that gave the best legs/s; `calls` are that run's. */
  readonly concurrency: number;
  readonly by_concurrency: Array<{ concurrency: number; legs_per_s: number }>;
  readonly put_records_per_call: number;
  readonly get_records_limit: number;
  /** Calls (not records) per leg, by call. */
  readonly calls_per_leg: Record<string, number>;
  readonly calls: Record<string, { calls: number; errors: number; per_s: number; mean_ms: number | null; p95_ms: number | null; last_error?: string }>;
  /** Why a part of the mix was left out, e.g. PostgreSQL when the region's agent refused. */
  readonly notes: string[];
}

const BENCH_STREAM = 'rotor-bench-ceiling';
const BENCH_QUEUE = 'rotor-bench.ceiling';
// Enough for the consumers never to find the queue empty at the start (the mix sends more than it takes).
const PREFILL_MESSAGES = 64;
const credentials = { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' };

export async function measureCeiling(twin: RunningTwin, mix: CallMix, options: CeilingOptions): Promise<CeilingResult> {
  const region = twin.activeRegion('trade-matching');
  const report = twin.region(region).report!;
  const trigger = twin.topology.functions.flatMap((fn) => fn.triggers).find((t): t is KinesisTrigger => t.kind === 'kinesis');
  const putBatch = trigger?.batchSize ?? 100;
  const getLimit = Math.min(10_000, (trigger?.batchSize ?? 100) * (trigger?.parallelizationFactor ?? 1));
  const shards = twin.topology.streams[0]?.shards ?? 2;
  const table = twin.topology.tables.find((candidate) => candidate.purpose === 'idempotency' && candidate.app === 'trade-matching')?.name ?? 'tm-idempotency';
  const notes: string[] = [];

  const kinesis = new KinesisClient({ region, credentials, endpoint: report.endpoints.kinesis, requestHandler: new NodeHttpHandler(), maxAttempts: 1 });
  // Sockets for every call in flight: the SDK's default pool (50) would cap the concurrency being measured.
  const agent = new Agent({ keepAlive: true, maxSockets: Math.max(...options.concurrencies) });
  const dynamodb = new DynamoDBClient({ region, credentials, endpoint: twin.dynamodbEndpoint(region), maxAttempts: 1, requestHandler: new NodeHttpHandler({ httpAgent: agent }) });
  const documents = documentClient(dynamodb);
  const broker = new StompMessageBroker({ url: twin.brokers[region]!, prefetch: 50 });
  const queue = twin.queueName(region, BENCH_QUEUE);
  try {
    await ensureStream(kinesis, { name: BENCH_STREAM, app: 'trade-matching', shards, retentionHours: 24, partitionKey: 'match-key' } satisfies StreamSpec);
    const { Shards } = await kinesis.send(new ListShardsCommand({ StreamName: BENCH_STREAM }));
    const readers = await Promise.all(
      (Shards ?? []).map(async (shard) => ({
        iterator: (await kinesis.send(new GetShardIteratorCommand({ StreamName: BENCH_STREAM, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator,
        turn: Promise.resolve() as Promise<unknown>,
      })),
    );
    let nextReader = 0;
    const databases = await prepareDatabases(report.endpoints.aurora, Object.keys(mix.sqlTransactions), notes);
    const messageBody = 'm'.repeat(Math.max(1, mix.avgMessageBytes));
    await Promise.all(Array.from({ length: PREFILL_MESSAGES }, () => broker.send(queue, messageBody)));
    const consumer = await broker.consume(queue, { prefetch: 50 });
    let receiving: Promise<unknown> = Promise.resolve();

    const recordData = new TextEncoder().encode('r'.repeat(Math.max(1, mix.avgRecordBytes)));
    const itemBody = 'i'.repeat(Math.max(1, mix.avgItemBytes));
    const written: string[] = [];
    let sequence = 0;
    const runId = Date.now().toString(36);
    const calls: Partial<Record<CeilingCall, () => Promise<void>>> = {
      'kinesis.PutRecords': async () => {
        const entries = Array.from({ length: putBatch }, () => ({ PartitionKey: `k${(sequence += 1)}`, Data: recordData }));
        const { FailedRecordCount } = await kinesis.send(new PutRecordsCommand({ StreamName: BENCH_STREAM, Records: entries }));
        if (FailedRecordCount) throw new Error(`${FailedRecordCount} records rejected`);
      },
      // One read at a time per shard, as a shard's poller reads; reads of the same shard queue behind each other.
      'kinesis.GetRecords': async () => {
        const reader = readers[(nextReader += 1) % readers.length]!;
        const read = reader.turn.then(async () => {
          const response = await kinesis.send(new GetRecordsCommand({ ShardIterator: reader.iterator, Limit: getLimit }));
          reader.iterator = response.NextShardIterator;
        });
        reader.turn = read.catch(() => undefined);
        await read;
      },
      'dynamodb.PutItem': async () => {
        const id = `rotor-bench#${runId}#${(sequence += 1)}`;
        await documents.send(new PutCommand({
          TableName: table,
          Item: { id, body: itemBody, expiration: Math.floor(Date.now() / 1000) + 3600 },
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': 'id' },
        }));
        written.push(id);
        if (written.length > 1_000) written.shift();
      },
      'dynamodb.UpdateItem': async () => {
        const id = written[Math.floor(Math.random() * written.length)];
        if (!id) return calls['dynamodb.PutItem']!();
        await documents.send(new UpdateCommand({
          TableName: table,
          Key: { id },
          UpdateExpression: 'ADD #deliveries :one SET #at = :at',
          ConditionExpression: 'attribute_exists(#id)',
          ExpressionAttributeNames: { '#id': 'id', '#deliveries': 'deliveries', '#at': 'deliveredAt' },
          ExpressionAttributeValues: { ':one': 1, ':at': new Date().toISOString() },
        }));
      },
      'mq.send': () => broker.send(queue, messageBody),
      'mq.receive+ack': async () => {
        const turn = receiving.then(() => consumer.receive({ maxMessages: 1, waitMs: 500 }));
        receiving = turn.catch(() => undefined);
        const [message] = await turn;
        if (!message) throw new Error('no message within 500 ms');
        await consumer.ack(message);
      },
    };
    for (const [database, query] of databases) {
      calls[`sql.${database}`] = async () => {
        const n = (sequence += 1);
        await query(TRANSACTION_SQL, [`key-${runId}-${Math.floor(n / 2)}`, `trade-${runId}-${n}`, JSON.stringify({ body: itemBody.slice(0, 400) })]);
      };
    }

    const callsPerLeg: Record<string, number> = {
      'kinesis.PutRecords': mix.kinesisPutRecords / putBatch,
      'kinesis.GetRecords': mix.kinesisGetRecords / getLimit,
      'dynamodb.PutItem': mix.dynamodbPutItem,
      'dynamodb.UpdateItem': mix.dynamodbUpdateItem,
      'mq.send': mix.brokerSends,
      'mq.receive+ack': mix.brokerConsumeAcks,
      ...Object.fromEntries(Object.entries(mix.sqlTransactions).filter(([database]) => databases.has(database)).map(([database, perLeg]) => [`sql.${database}`, perLeg])),
    };
    options.progress?.(`ceiling: ${Object.entries(callsPerLeg).map(([call, perLeg]) => `${call} ${round(perLeg, 3)}`).join(', ')} calls per leg, against ${region}`);
    const runs: Array<{ concurrency: number } & Awaited<ReturnType<typeof runMix>>> = [];
    for (const concurrency of options.concurrencies) {
      const outcome = await runMix(calls as Record<string, () => Promise<void>>, callsPerLeg, { ...options, concurrency });
      options.progress?.(`ceiling: ${round(outcome.legsPerSecond, 1)} legs/s at concurrency ${concurrency}`);
      runs.push({ concurrency, ...outcome });
    }
    const best = runs.reduce((top, run) => (run.legsPerSecond > top.legsPerSecond ? run : top));
    await consumer.close();
    await cleanUp(kinesis, databases);
    return {
      legs_per_s: round(best.legsPerSecond, 1),
      region,
      seconds: options.seconds,
      concurrency: best.concurrency,
      by_concurrency: runs.map((run) => ({ concurrency: run.concurrency, legs_per_s: round(run.legsPerSecond, 1) })),
      put_records_per_call: putBatch,
      get_records_limit: getLimit,
      calls_per_leg: Object.fromEntries(Object.entries(callsPerLeg).map(([call, perLeg]) => [call, round(perLeg, 4)])),
      calls: best.calls,
      notes,
    };
  } finally {
    await broker.close().catch(() => undefined);
    kinesis.destroy();
    dynamodb.destroy();
    agent.destroy();
  }
}

/** Workers draw calls from one weighted schedule; only calls that finish inside the window after the warm-up count. */
async function runMix(calls: Record<string, () => Promise<void>>, callsPerLeg: Record<string, number>, options: CeilingOptions & { concurrency: number }) {
  const next = weightedSchedule(callsPerLeg);
  const warmupMs = (options.warmupSeconds ?? 1) * 1000;
  const began = performance.now();
  const windowStart = began + warmupMs;
  const windowEnd = windowStart + options.seconds * 1000;
  const stats = new Map<string, { calls: number; errors: number; latencies: number[]; lastError?: string }>(Object.keys(callsPerLeg).map((call) => [call, { calls: 0, errors: 0, latencies: [] }]));
  const worker = async () => {
    while (performance.now() < windowEnd) {
      const call = next();
      const started = performance.now();
      try {
        await calls[call]!();
        const finished = performance.now();
        if (started >= windowStart && finished <= windowEnd) {
          const entry = stats.get(call)!;
          entry.calls += 1;
          entry.latencies.push(finished - started);
        }
      } catch (error) {
        const entry = stats.get(call)!;
        entry.errors += 1;
        entry.lastError = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : String(error);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const completed = Object.fromEntries([...stats].map(([call, entry]) => [call, entry.calls]));
  const mean = (values: number[]) => (values.length === 0 ? null : round(values.reduce((sum, value) => sum + value, 0) / values.length, 2));
  return {
    legsPerSecond: legsPerSecond(callsPerLeg, completed, options.seconds),
    calls: Object.fromEntries(
      [...stats].map(([call, entry]) => [
        call,
        {
          calls: entry.calls,
          errors: entry.errors,
          per_s: round(entry.calls / options.seconds, 1),
          mean_ms: mean(entry.latencies),
          p95_ms: entry.latencies.length === 0 ? null : round(percentile(entry.latencies, 95)!, 2),
          ...(entry.lastError ? { last_error: entry.lastError } : {}),
        },
      ]),
    ),
  };
}

const TRANSACTION_SQL = `WITH locked AS (SELECT pg_advisory_xact_lock(hashtextextended($1, 0)) AS ok),
counterpart AS (SELECT id FROM rotor_bench_trades WHERE match_key = $1 AND status = 'UNMATCHED' AND EXISTS (SELECT 1 FROM locked) LIMIT 1 FOR UPDATE),
matched AS (UPDATE rotor_bench_trades SET status = 'MATCHED' WHERE id IN (SELECT id FROM counterpart) RETURNING id),
inserted AS (INSERT INTO rotor_bench_trades (id, match_key, status, body)
  SELECT $2, $1, CASE WHEN EXISTS (SELECT 1 FROM counterpart) THEN 'MATCHED' ELSE 'UNMATCHED' END, $3::jsonb RETURNING id),
outbox AS (INSERT INTO rotor_bench_outbox (aggregate_id, payload) SELECT id, $3::jsonb FROM inserted RETURNING id)
SELECT (SELECT count(*) FROM outbox) AS events, (SELECT count(*) FROM matched) AS matched`;

const SCHEMA_SQL = [
  'CREATE TABLE IF NOT EXISTS rotor_bench_trades (id text PRIMARY KEY, match_key text NOT NULL, status text NOT NULL, body jsonb NOT NULL)',
  'CREATE INDEX IF NOT EXISTS rotor_bench_trades_match_key ON rotor_bench_trades (match_key)',
  'CREATE TABLE IF NOT EXISTS rotor_bench_outbox (id bigserial PRIMARY KEY, aggregate_id text NOT NULL, payload jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), relayed_at timestamptz)',
];

type Query = (sql: string, parameters?: unknown[]) => Promise<unknown>;

/** A query function per manifest database the region's Aurora agent serves and lets us write; notes say why not. */
async function prepareDatabases(agentUrl: string | undefined, names: readonly string[], notes: string[]): Promise<Map<string, Query>> {
  const ready = new Map<string, Query>();
  if (names.length === 0) return ready;
  if (!agentUrl) {
    notes.push(`PostgreSQL left out: the region reports no Aurora agent, so its databases (${names.join(', ')}) cannot be reached from outside its process`);
    return ready;
  }
  for (const name of names) {
    const query: Query = async (sql, parameters = []) => {
      const response = await fetch(`${agentUrl}/databases/${encodeURIComponent(name)}/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql, parameters }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await response.json()) as { error?: { message: string } };
      if (!response.ok) throw new Error(`${name}: ${body.error?.message ?? `HTTP ${response.status}`}`);
      return body;
    };
    try {
      for (const statement of SCHEMA_SQL) await query(statement);
      ready.set(name, query);
    } catch (error) {
      notes.push(`PostgreSQL ${name} left out: ${(error as Error).message}`);
    }
  }
  return ready;
}

async function cleanUp(kinesis: KinesisClient, databases: ReadonlyMap<string, Query>): Promise<void> {
  await kinesis.send(new DeleteStreamCommand({ StreamName: BENCH_STREAM })).catch(() => undefined);
  for (const query of databases.values()) {
    await query('DROP TABLE IF EXISTS rotor_bench_trades').catch(() => undefined);
    await query('DROP TABLE IF EXISTS rotor_bench_outbox').catch(() => undefined);
  }
}
