import type { FunctionSpec, KinesisTrigger, Topology } from './schema.ts';
import { noLossKinesisTrigger } from './triggers.ts';

/**
 * The demo chain: the smallest topology that exercises every moving part of a region — an MQ-triggered gateway,
 * two streams, two Kinesis-triggered functions with partial-batch retries, a table written idempotently, an
 * on-failure queue:
 *   MQ `demo.requests` → demo-intake → `demo-in` → demo-relay → `demo-out` → demo-recorder → `demo-results`.
 * Records carry `key` and `seq`; the recorder checks that each key's seqs arrive in order and that no record takes
 * effect twice.
 */

const FAILURE_QUEUE = 'demo-failures';

// Small batches: a partial-batch retry counts against MaximumRetryAttempts even when it made progress, and with one
// record in ten failing its first delivery, a 100-record batch would exhaust 10 retries.
const trigger = (stream: string, overrides: Partial<KinesisTrigger> = {}): KinesisTrigger =>
  noLossKinesisTrigger(stream, FAILURE_QUEUE, { batchSize: 10, ...overrides });

const intake: FunctionSpec = {
  name: 'demo-intake',
  handler: 'functions/demo/intake.handler',
  timeoutSeconds: 30,
  memorySizeMB: 256,
  triggers: [{ kind: 'mq', queue: 'demo.requests', batchSize: 100, maximumBatchingWindowInSeconds: 0 }],
  env: { OUT_STREAM: { stream: 'demo-in' } },
};

const relay: FunctionSpec = {
  name: 'demo-relay',
  handler: 'functions/demo/relay.handler',
  timeoutSeconds: 30,
  memorySizeMB: 256,
  triggers: [trigger('demo-in')],
  env: { OUT_STREAM: { stream: 'demo-out' }, RESULTS_TABLE: { table: 'demo-results' } },
};

const recorder: FunctionSpec = {
  name: 'demo-recorder',
  handler: 'functions/demo/recorder.handler',
  timeoutSeconds: 30,
  memorySizeMB: 256,
  // Every DynamoDB write is a round trip; more lanes keep more of them in flight, each key still in order.
  triggers: [trigger('demo-out', { parallelizationFactor: 4 })],
  env: { RESULTS_TABLE: { table: 'demo-results' } },
};

export const demoTopology: Topology = {
  regions: ['us-east-1', 'us-west-2'],
  streams: [
    { name: 'demo-in', shards: 2, retentionHours: 24, partitionKey: 'record-key' },
    { name: 'demo-out', shards: 2, retentionHours: 24, partitionKey: 'record-key' },
  ],
  tables: [
    // One table keyed by (pk, sk): results `result#<seq>`, the per-key `progress` item and first-delivery flags.
    { name: 'demo-results', purpose: 'results', hashKey: 'pk', rangeKey: 'sk', replication: 'async', pointInTimeRecovery: false },
  ],
  queues: [
    { name: 'demo.requests', service: 'mq', purpose: 'demo records sent by clients, the chain\'s entry like a gateway queue' },
    { name: FAILURE_QUEUE, service: 'sqs', purpose: 'demo batches that exhausted their retries' },
  ],
  databases: [],
  functions: [intake, relay, recorder],
  stateMachines: [],
  routingControls: [],
};
