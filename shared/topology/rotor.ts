import type { AppName, FunctionSpec, QueueSpec, StateMachineSpec, StreamSpec, TableSpec, Topology } from './schema.ts';
import { resourceEnvironment } from './resource-variables.ts';
import { noLossKinesisTrigger } from './triggers.ts';

/**
 * Rotor's manifest. Each app is the same five-stage pipeline (DESIGN §2): an MQ-triggered inbound gateway, then
 * ingestion, matching, egress and an outbound gateway chained by Kinesis streams, every stage with its own
 * DynamoDB safe store. Names are fixed so that the two regions' stages, and the twin, agree on them.
 */

const PREFIX: Record<AppName, string> = { 'trade-matching': 'tm', settlement: 'sm' };


interface AppPipeline {
  app: AppName;
  inboundQueues: string[];
  partitionKey: StreamSpec['partitionKey'];
  /** The outbound gateway's destinations, by environment variable. */
  outboundQueues: Record<string, string>;
}

function pipeline({ app, inboundQueues, partitionKey, outboundQueues }: AppPipeline) {
  const p = PREFIX[app];
  const stages = ['ingestion', 'matching', 'egress', 'outbound-gateway'] as const;
  const streamOf = (stage: (typeof stages)[number]) => `${p}-${stage === 'outbound-gateway' ? 'outbound' : stage}`;
  const storeOf = (stage: string) => `${p}-${stage}-store`;
  const idempotencyTable = `${p}-idempotency`;

  const streams: StreamSpec[] = stages.map((stage) => ({
    name: streamOf(stage),
    app,
    shards: 2,
    retentionHours: 24,
    partitionKey,
  }));
  const tables: TableSpec[] = [
    ...['inbound-gateway', ...stages].map(
      (stage): TableSpec => ({ name: storeOf(stage), app, purpose: 'safe-store', hashKey: 'id', replication: 'async', pointInTimeRecovery: true }),
    ),
    { name: idempotencyTable, app, purpose: 'idempotency', hashKey: 'id', ttlAttribute: 'expiration', replication: 'async', pointInTimeRecovery: false },
  ];
  const failureQueues: QueueSpec[] = stages.map((stage) => ({
    name: `${p}-${stage}-failures`,
    app,
    service: 'sqs',
    purpose: `batches the ${stage} stage could not process after its retries, kept for replay`,
  }));

  const common = (stage: string) => ({
    name: `${p}-${stage}`,
    app,
    handler: `functions/${app}/${stage}.handler`,
    timeoutSeconds: 30,
    memorySizeMB: 512,
  });
  const inboundGateway: FunctionSpec = {
    ...common('inbound-gateway'),
    triggers: inboundQueues.map((queue) => ({ kind: 'mq', queue, batchSize: 100, maximumBatchingWindowInSeconds: 0, enabledBy: `${app}-queue` })),
    env: { SAFE_STORE_TABLE: { table: storeOf('inbound-gateway') }, OUT_STREAM: { stream: streamOf('ingestion') } },
  };
  const kinesisStages: FunctionSpec[] = stages.map((stage, index) => {
    const next = stages[index + 1];
    return {
      ...common(stage),
      // Ten lanes per shard (the AWS maximum): each lane keeps its keys in order, and a stage's work is mostly
      // waiting on DynamoDB, PostgreSQL and the broker, so more keys in flight is more throughput. The retry budget
      // must outlast the in-progress idempotency record a crashed invocation leaves (up to its 30 s timeout):
      // 10 retries at the mapping's backoff last about 25 s, which would send such records to the failure queue.
      triggers: [noLossKinesisTrigger(streamOf(stage), `${p}-${stage}-failures`, { parallelizationFactor: 10, maximumRetryAttempts: 100 })],
      env: {
        SAFE_STORE_TABLE: { table: storeOf(stage) },
        // Only the outbound gateway's effect (a send) is not a conditional write; the other stages' conditions are
        // their idempotency (shared/pipeline/kinesis-stage.ts).
        ...(stage === 'outbound-gateway' ? { IDEMPOTENCY_TABLE: { table: idempotencyTable } } : {}),
        ...(next ? { OUT_STREAM: { stream: streamOf(next) } } : {}),
        // Ingestion answers invalid input without troubling matching: its NACKs go straight to egress.
        ...(stage === 'ingestion' ? { NACK_STREAM: { stream: streamOf('egress') } } : {}),
        ...(stage === 'matching' ? { DATABASE: { database: `${p}-db` } } : {}),
        ...(stage === 'outbound-gateway'
          ? Object.fromEntries(Object.entries(outboundQueues).map(([variable, queue]) => [variable, { queue }]))
          : {}),
      },
    };
  });
  return {
    streams,
    tables,
    failureQueues,
    database: { name: `${p}-db`, app, engine: 'aurora-postgresql' as const, global: true },
    functions: [inboundGateway, ...kinesisStages],
  };
}

const tradeMatching = pipeline({
  app: 'trade-matching',
  inboundQueues: ['tm.trades', 'tm.settlements'],
  partitionKey: 'match-key',
  outboundQueues: { RESPONSE_QUEUE: 'tm.responses', SETTLEMENT_QUEUE: 'sm.settlements' },
});
const settlement = pipeline({
  app: 'settlement',
  inboundQueues: ['sm.settlements'],
  partitionKey: 'allocation-key',
  outboundQueues: { SETTLEMENT_RESULT_QUEUE: 'tm.settlements' },
});

const mqQueues: QueueSpec[] = [
  { name: 'tm.trades', app: 'trade-matching', service: 'mq', purpose: 'trade legs from investment managers and brokers' },
  { name: 'tm.settlements', app: 'trade-matching', service: 'mq', purpose: 'settlement results from the settlement app' },
  { name: 'tm.responses', app: 'trade-matching', service: 'mq', purpose: 'responses and NACKs to the senders' },
  { name: 'sm.settlements', app: 'settlement', service: 'mq', purpose: 'settlements of matched trades' },
];

/**
 * The tables Rotor's zero-RPO option replicates synchronously (DynamoDB multi-Region strong consistency): the TM
 * inbound gateway's safe store, so a leg acknowledged in a region that is then lost is already in the survivor.
 */
export const ZERO_RPO_TABLES: readonly string[] = ['tm-inbound-gateway-store'];

/** Where every generator run records its parameters and progress, so `rotor verify` can rebuild its ground truth. */
export const GENERATOR_RUNS_TABLE = 'generator-runs';

/**
 * The FIX gateway's tables (docs/fix.md): the safe store of every accepted AllocationInstruction (acknowledged only
 * once it is here), the sessions' sequence numbers and outbound messages (any standby resumes a session where it
 * was), and the per-region leader lease with its fencing epoch.
 */
export const FIX_TABLES = {
  store: 'tm-fix-gateway-store',
  sessions: 'tm-fix-sessions',
  lease: 'tm-fix-lease',
} as const;

// Not tied to an app's rotation resources (appResources): rotation's drain check and digest cover the five pipeline
// stores of an app, and the FIX gateway's store is checked by reconciliation's FIX → in-gateway pair instead.
const fixStoreTable: TableSpec = { name: FIX_TABLES.store, purpose: 'safe-store', hashKey: 'id', replication: 'async', pointInTimeRecovery: true };

/** Each app's trail of reconciliation runs: passes, replayed ids, outcomes (docs/reconciliation.md). */
const reconciliationAuditTable = (app: AppName) => `${PREFIX[app]}-reconciliation-audit`;

// Reconciliation serves both apps from one function (a run names its app, and the inter-app pairs read the other
// app's outbound store), so its variables carry the app's prefix: TM_INGESTION_STORE, SM_EGRESS_STREAM, ….
// shared/reconciliation/names.ts reads them under the same names.
const reconciliationEnv = (build: (app: AppName, p: string) => FunctionSpec['env']): FunctionSpec['env'] =>
  Object.assign({}, ...(['trade-matching', 'settlement'] as const).map((app) => build(app, PREFIX[app].toUpperCase())));
const reconciliationAudit = reconciliationEnv((app, P) => ({ [`${P}_RECONCILIATION_AUDIT`]: { table: reconciliationAuditTable(app) } }));
const reconciliationReads = reconciliationEnv((app, P) => ({
  ...Object.fromEntries(
    ['inbound-gateway', 'ingestion', 'matching', 'egress', 'outbound-gateway'].map((stage) => [`${P}_${stage.toUpperCase().replace('-', '_')}_STORE`, { table: `${PREFIX[app]}-${stage}-store` }]),
  ),
  [`${P}_DATABASE`]: { database: `${PREFIX[app]}-db` },
  [`${P}_RECONCILIATION_AUDIT`]: { table: reconciliationAuditTable(app) },
  // The FIX gateway's store feeds the TM inbound gateway's, so reconciliation compares the two (docs/fix.md).
  ...(app === 'trade-matching' ? { TM_FIX_GATEWAY_STORE: { table: FIX_TABLES.store } } : {}),
}));
const replayTargets = reconciliationEnv((app, P) => ({
  ...Object.fromEntries(['ingestion', 'egress', 'outbound'].map((stream) => [`${P}_${stream.toUpperCase()}_STREAM`, { stream: `${PREFIX[app]}-${stream}` }])),
  // The queue on which the app receives from the other one.
  [`${P}_SETTLEMENTS_QUEUE`]: { queue: `${PREFIX[app]}.settlements` },
  // Where FIX legs missing from the TM in-gateway store are sent again (docs/fix.md).
  ...(app === 'trade-matching' ? { TM_TRADES_QUEUE: { queue: 'tm.trades' } } : {}),
}));
const operationsEnv: Record<string, FunctionSpec['env']> = {
  'drain-check': {},
  switchover: {},
  reconcile: reconciliationReads,
  replay: { ...reconciliationReads, ...replayTargets },
  report: reconciliationAudit,
};

const operations: FunctionSpec[] = ['drain-check', 'switchover', 'reconcile', 'replay', 'report'].map((task) => ({
  name: `ops-${task}`,
  handler: `functions/operations/${task}.handler`,
  timeoutSeconds: 300,
  memorySizeMB: 1024,
  triggers: [],
  env: operationsEnv[task] ?? {},
  ...(task === 'switchover' ? { operates: ['aurora-global-clusters' as const] } : {}),
}));

/**
 * The rotation's and disaster recovery's own task functions (shared/operations/). Each serves both apps, so it is
 * given every resource it may touch, each under the variable shared/topology/resource-variables.ts derives from it.
 * `ops-drain-check` is declared here, with its environment, in place of its entry in `operations`.
 */
const rotationSafeStores = [...tradeMatching.tables, ...settlement.tables].filter((table) => table.purpose === 'safe-store').map((table) => table.name);
const rotationInboundQueues = [...tradeMatching.functions, ...settlement.functions].flatMap((fn) => fn.triggers.flatMap((trigger) => (trigger.kind === 'mq' ? [trigger.queue] : [])));
const rotationTask = (task: string, env: FunctionSpec['env'], timeoutSeconds = 300, memorySizeMB = 1024, operates?: FunctionSpec['operates']): FunctionSpec => ({
  name: `ops-${task}`,
  handler: `functions/operations/${task}.handler`,
  timeoutSeconds,
  memorySizeMB,
  triggers: [],
  env,
  ...(operates ? { operates } : {}),
});
const rotationOperations: FunctionSpec[] = [
  // Reads and flips routing controls through ROUTING_CONTROL_ENDPOINTS, which every function is given.
  rotationTask('routing', {}, 60, 256, ['routing-controls']),
  // Queue depths are counted by browsing each queue, which takes a while on a deep one.
  rotationTask('drain-check', resourceEnvironment({ queue: rotationInboundQueues, table: rotationSafeStores })),
  rotationTask('digest', resourceEnvironment({ table: rotationSafeStores, database: [tradeMatching.database.name, settlement.database.name] })),
  rotationTask('canary', resourceEnvironment({ queue: ['tm.trades'], table: ['tm-matching-store'] }), 60, 256),
];

/** Judges the region's data against the generator's ground truth (`rotor verify`, DESIGN §5). */
const verify: FunctionSpec = {
  name: 'ops-verify',
  handler: 'functions/operations/verify.handler',
  timeoutSeconds: 300,
  memorySizeMB: 1024,
  triggers: [],
  env: {
    GENERATOR_RUNS_TABLE: { table: GENERATOR_RUNS_TABLE },
    TM_DATABASE: { database: 'tm-db' },
    SM_DATABASE: { database: 'sm-db' },
    TM_INBOUND_STORE: { table: 'tm-inbound-gateway-store' },
    TM_MATCHING_STORE: { table: 'tm-matching-store' },
    TM_OUTBOUND_STORE: { table: 'tm-outbound-gateway-store' },
    SM_MATCHING_STORE: { table: 'sm-matching-store' },
    SM_OUTBOUND_STORE: { table: 'sm-outbound-gateway-store' },
  },
};

const generator: FunctionSpec = {
  name: 'generator',
  handler: 'functions/generator.handler',
  timeoutSeconds: 900,
  memorySizeMB: 512,
  triggers: [],
  env: { OUT_QUEUE: { queue: 'tm.trades' }, GENERATOR_RUNS_TABLE: { table: GENERATOR_RUNS_TABLE } },
};

const workflows: StateMachineSpec[] = (['trade-matching', 'settlement'] as const).flatMap((app) =>
  (
    [
      ['rotation', ['ops-routing', 'ops-drain-check', 'ops-reconcile', 'ops-replay', 'ops-report', 'ops-switchover', 'ops-digest', 'ops-canary']],
      ['disaster-recovery', ['ops-routing', 'ops-switchover', 'ops-reconcile', 'ops-replay', 'ops-report', 'ops-digest', 'ops-canary']],
      ['reconciliation', ['ops-reconcile', 'ops-replay', 'ops-report']],
    ] as const
  ).map(([workflow, tasks]) => ({
    name: `${PREFIX[app]}-${workflow}`,
    app,
    definition: `workflows/${workflow}.asl.json`,
    tasks: [...tasks],
  })),
);

export const rotorTopology: Topology = {
  regions: ['us-east-1', 'us-west-2'],
  streams: [...tradeMatching.streams, ...settlement.streams],
  tables: [
    ...tradeMatching.tables,
    ...settlement.tables,
    { name: GENERATOR_RUNS_TABLE, app: 'trade-matching', purpose: 'results', hashKey: 'id', replication: 'async', pointInTimeRecovery: true },
    fixStoreTable,
    { name: FIX_TABLES.sessions, app: 'trade-matching', purpose: 'control', hashKey: 'id', replication: 'async', pointInTimeRecovery: true },
    { name: FIX_TABLES.lease, app: 'trade-matching', purpose: 'control', hashKey: 'id', replication: 'async', pointInTimeRecovery: false },
    ...(['trade-matching', 'settlement'] as const).map(
      (app): TableSpec => ({ name: reconciliationAuditTable(app), app, purpose: 'results', hashKey: 'id', replication: 'async', pointInTimeRecovery: true }),
    ),
  ],
  queues: [...mqQueues, ...tradeMatching.failureQueues, ...settlement.failureQueues],
  databases: [tradeMatching.database, settlement.database],
  functions: [
    ...tradeMatching.functions,
    ...settlement.functions,
    generator,
    ...operations.filter((fn) => !rotationOperations.some((own) => own.name === fn.name)),
    ...rotationOperations,
    verify,
  ],
  stateMachines: workflows,
  // Named as operators know them from the reference runbooks: `<app>-<kind>`, one per region (`-<region>` appended).
  routingControls: [
    ...(['trade-matching', 'settlement'] as const).flatMap((app) =>
      (['dns', 'queue', 'app'] as const).map((kind) => ({ name: `${app}-${kind}`, app, kind })),
    ),
    { name: 'trade-matching-generator', app: 'trade-matching', kind: 'generator' },
  ],
};
