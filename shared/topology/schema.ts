import { z } from 'zod';

/**
 * The shape of Rotor's one manifest: every stream, table, queue, database, function, state machine and routing
 * control, as data. `stacks/` turns it into AWS resources; `local/` turns it into the twin's. Field names follow
 * the AWS APIs (CreateEventSourceMapping, CreateTable, …) so both sides read them without translation.
 */

const resourceName = z.string().regex(/^[a-z][a-z0-9.-]{2,62}$/, 'lower-case letters, digits, "." and "-", 3-63 characters');

export const AppName = z.enum(['trade-matching', 'settlement']);
export type AppName = z.infer<typeof AppName>;

export const StreamSpec = z.strictObject({
  name: resourceName,
  app: AppName.optional(),
  shards: z.int().min(1).max(500),
  retentionHours: z.int().min(24).max(8760),
  /** How producers derive the partition key, in words the code and the docs share. */
  partitionKey: z.enum(['match-key', 'allocation-key', 'record-key']),
});
export type StreamSpec = z.infer<typeof StreamSpec>;

export const TableSpec = z.strictObject({
  name: resourceName,
  app: AppName.optional(),
  purpose: z.enum(['safe-store', 'idempotency', 'control', 'results']),
  hashKey: z.string().min(1),
  rangeKey: z.string().min(1).optional(),
  /** Attribute holding an epoch-seconds expiry, when items expire (idempotency records). */
  ttlAttribute: z.string().min(1).optional(),
  /** DynamoDB global table replication: `async` (last writer wins) or `sync` (multi-Region strong consistency). */
  replication: z.enum(['async', 'sync']),
  pointInTimeRecovery: z.boolean(),
});
export type TableSpec = z.infer<typeof TableSpec>;

export const QueueSpec = z.strictObject({
  name: resourceName,
  app: AppName.optional(),
  /** `mq`: Amazon MQ for ActiveMQ (STOMP); `sqs`: on-failure destinations of event-source mappings. */
  service: z.enum(['mq', 'sqs']),
  purpose: z.string().min(1),
});
export type QueueSpec = z.infer<typeof QueueSpec>;

export const DatabaseSpec = z.strictObject({
  name: resourceName,
  app: AppName.optional(),
  engine: z.literal('aurora-postgresql'),
  /** Aurora Global Database: one writer region, read-only secondaries. */
  global: z.boolean(),
});
export type DatabaseSpec = z.infer<typeof DatabaseSpec>;

export const KinesisTrigger = z.strictObject({
  kind: z.literal('kinesis'),
  stream: resourceName,
  startingPosition: z.enum(['TRIM_HORIZON', 'LATEST']),
  batchSize: z.int().min(1).max(10_000),
  maximumBatchingWindowInSeconds: z.number().min(0).max(300),
  parallelizationFactor: z.int().min(1).max(10),
  bisectBatchOnFunctionError: z.boolean(),
  /** -1 = retry until the record expires. */
  maximumRetryAttempts: z.int().min(-1).max(10_000),
  /** -1 = never expire. */
  maximumRecordAgeInSeconds: z.union([z.literal(-1), z.int().min(60).max(604_800)]),
  functionResponseTypes: z.array(z.literal('ReportBatchItemFailures')),
  /** An `sqs` queue of the manifest receiving batches that exhausted their retries. */
  onFailure: resourceName,
});
export type KinesisTrigger = z.infer<typeof KinesisTrigger>;

export const MqTrigger = z.strictObject({
  kind: z.literal('mq'),
  queue: resourceName,
  batchSize: z.int().min(1).max(10_000),
  maximumBatchingWindowInSeconds: z.number().min(0).max(300),
  /**
   * The routing control (`<app>-queue`, the region appended) the mapping follows: it takes messages only while
   * the control is On in its region. A passive region's gateway must not hold them (and, failing, wear out their
   * deliveries into the dead-letter queue) while they wait there to be forwarded to the active region.
   */
  enabledBy: resourceName.optional(),
});
export type MqTrigger = z.infer<typeof MqTrigger>;

export const Trigger = z.discriminatedUnion('kind', [KinesisTrigger, MqTrigger]);
export type Trigger = z.infer<typeof Trigger>;

/** An environment value: literal text, or the name of a manifest resource resolved per platform. */
export const EnvValue = z.union([
  z.string(),
  z.strictObject({ stream: resourceName }),
  z.strictObject({ table: resourceName }),
  z.strictObject({ queue: resourceName }),
  z.strictObject({ database: resourceName }),
]);
export type EnvValue = z.infer<typeof EnvValue>;

export const FunctionSpec = z.strictObject({
  name: resourceName,
  app: AppName.optional(),
  /** `path/to/module.export`, relative to the repository root, as AWS writes handlers. */
  handler: z.string().regex(/^[a-z0-9/_-]+\.[A-Za-z_$][\w$]*$/),
  timeoutSeconds: z.int().min(1).max(900),
  memorySizeMB: z.int().min(128).max(10_240),
  triggers: z.array(Trigger),
  env: z.record(z.string().regex(/^[A-Z][A-Z0-9_]*$/), EnvValue),
  /**
   * Control-plane operations beyond reading and writing its resources, so the stacks grant them and nothing more:
   * flipping routing controls, switching an Aurora global cluster's writer over.
   */
  operates: z.array(z.enum(['routing-controls', 'aurora-global-clusters'])).optional(),
});
export type FunctionSpec = z.infer<typeof FunctionSpec>;

export const StateMachineSpec = z.strictObject({
  name: resourceName,
  app: AppName.optional(),
  /** ASL file under `workflows/`. */
  definition: z.string().regex(/^workflows\/[a-z0-9-]+\.asl\.json$/),
  /** Functions its Task states call. */
  tasks: z.array(resourceName),
});
export type StateMachineSpec = z.infer<typeof StateMachineSpec>;

export const RoutingControlSpec = z.strictObject({
  /** `<app>-<kind>`; the dns, queue and app controls exist once per region (`<app>-<kind>-<region>`), the generator once. */
  name: resourceName,
  app: AppName.optional(),
  /** dns: clients reach the region's brokers; queue: gateways consume; app: stages process; generator: load. */
  kind: z.enum(['dns', 'queue', 'app', 'generator']),
});
export type RoutingControlSpec = z.infer<typeof RoutingControlSpec>;

export const Topology = z.strictObject({
  regions: z.array(z.string().regex(/^[a-z]{2}-[a-z]+-\d$/)).min(1),
  streams: z.array(StreamSpec),
  tables: z.array(TableSpec),
  queues: z.array(QueueSpec),
  databases: z.array(DatabaseSpec),
  functions: z.array(FunctionSpec),
  stateMachines: z.array(StateMachineSpec),
  routingControls: z.array(RoutingControlSpec),
});
export type Topology = z.infer<typeof Topology>;
