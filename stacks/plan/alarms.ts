import type { Topology } from '#shared/topology/index.ts';
import type { BrokerPlan, DatabasePlan } from './data.ts';
import { physicalName, type StageContext } from './stage.ts';

/**
 * The alarms an SRE needs before anything is lost: a stage falling behind its stream (iterator age), a global
 * table replicating slowly (what a region loss would cost), Aurora's recovery point lag, anything in a failure
 * queue or a broker dead-letter queue, and refused input above its usual rate. Each stage alarms on its own region.
 */

export interface AlarmPlan {
  readonly name: string;
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: 'Maximum' | 'Average' | 'Sum';
  readonly threshold: number;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  /** A quiet metric is healthy: a secondary emits no Aurora lag while it is the writer, an empty queue no size. */
  readonly treatMissingData: 'notBreaching';
}

const alarm = (context: StageContext, key: string, rest: Omit<AlarmPlan, 'name' | 'treatMissingData'>): AlarmPlan => ({
  name: `${physicalName(context, key)}-${context.region}`,
  treatMissingData: 'notBreaching',
  ...rest,
});

export function alarmPlans(
  topology: Pick<Topology, 'functions' | 'tables' | 'queues'>,
  context: StageContext,
  data: { broker: Pick<BrokerPlan, 'name' | 'queues'>; databases: readonly Pick<DatabasePlan, 'manifest' | 'clusterIdentifier'>[] },
): AlarmPlan[] {
  const iteratorAge = topology.functions
    .filter((fn) => fn.triggers.some((trigger) => trigger.kind === 'kinesis'))
    .map((fn) =>
      alarm(context, `${fn.name}-iterator-age`, {
        description: `${fn.name} is more than a minute behind its stream`,
        namespace: 'AWS/Lambda',
        metricName: 'IteratorAge',
        dimensions: { FunctionName: physicalName(context, fn.name) },
        statistic: 'Maximum',
        threshold: 60_000,
        periodSeconds: 60,
        evaluationPeriods: 3,
      }),
    );
  const replication = topology.tables.flatMap((table) =>
    context.peerRegions.map((peer) =>
      alarm(context, `${table.name}-replication-to-${peer}`, {
        description: `${table.name} takes more than 5 s to reach ${peer}: a region loss now would lose that much`,
        namespace: 'AWS/DynamoDB',
        metricName: 'ReplicationLatency',
        dimensions: { TableName: physicalName(context, table.name), ReceivingRegion: peer },
        statistic: 'Average',
        threshold: 5_000,
        periodSeconds: 60,
        evaluationPeriods: 3,
      }),
    ),
  );
  const aurora = data.databases.map((database) =>
    alarm(context, `${database.manifest}-rpo-lag`, {
      description: `${database.manifest}'s secondary here lags its writer by more than 5 s (Aurora global database RPO)`,
      namespace: 'AWS/RDS',
      metricName: 'AuroraGlobalDBRPOLag',
      dimensions: { DBClusterIdentifier: database.clusterIdentifier },
      statistic: 'Maximum',
      threshold: 5_000,
      periodSeconds: 60,
      evaluationPeriods: 3,
    }),
  );
  const failureQueues = topology.queues
    .filter((queue) => queue.service === 'sqs')
    .map((queue) =>
      alarm(context, `${queue.name}-depth`, {
        description: `batches in ${queue.name}: reconcile and replay them (docs/reconciliation.md)`,
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: physicalName(context, queue.name) },
        statistic: 'Maximum',
        threshold: 0,
        periodSeconds: 60,
        evaluationPeriods: 1,
      }),
    );
  // Amazon MQ reports an active/standby pair's metrics per instance, as `<broker>-1` and `<broker>-2`.
  const deadLetters = data.broker.queues.flatMap((queue) => ['1', '2'].map((instance) =>
    alarm(context, `${queue}-dead-letters-${instance}`, {
      description: `messages in DLQ.${queue} on broker instance ${instance}: a gateway refused them repeatedly`,
      namespace: 'AWS/AmazonMQ',
      metricName: 'QueueSize',
      dimensions: { Broker: `${data.broker.name}-${instance}`, Queue: `DLQ.${queue}` },
      statistic: 'Maximum',
      threshold: 0,
      periodSeconds: 60,
      evaluationPeriods: 1,
    }),
  ));
  const nacks = topology.functions
    .filter((fn) => fn.name.endsWith('-ingestion'))
    .map((fn) =>
      alarm(context, `${fn.name}-nack-rate`, {
        description: `${fn.name} refused more than 100 messages in 5 minutes`,
        namespace: 'Rotor',
        metricName: 'Nacks',
        dimensions: { service: fn.name, region: context.region },
        statistic: 'Sum',
        threshold: 100,
        periodSeconds: 300,
        evaluationPeriods: 1,
      }),
    );
  return [...iteratorAge, ...replication, ...aurora, ...failureQueues, ...deadLetters, ...nacks];
}
