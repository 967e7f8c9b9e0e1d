import type { DatabaseSpec, QueueSpec, StreamSpec, TableSpec, Topology } from '#shared/topology/index.ts';
import { globalClusterIdentifier, memberClusterIdentifier } from '#shared/topology/global-database-names.ts';
import { arnOf, physicalName, type StageContext } from './stage.ts';

/**
 * Where Rotor's data lives on AWS, per stage: Kinesis streams and SQS failure queues in every region (they are
 * regional), DynamoDB global tables created once by the primary stage with a replica in every other region, one
 * Amazon MQ broker per region holding the manifest's MQ queues, and per database an Aurora global cluster with
 * one member cluster per region. Plans are data in the shapes of the Pulumi arguments, so tests can hold them to
 * Rotor's rules and the stacks pass them on unchanged.
 */

export interface StreamPlan {
  readonly manifest: string;
  readonly args: { name: string; shardCount: number; retentionPeriod: number; streamModeDetails: { streamMode: 'PROVISIONED' }; encryptionType: 'KMS'; kmsKeyId: string };
}

export function streamPlans(topology: Pick<Topology, 'streams'>, context: StageContext): StreamPlan[] {
  return topology.streams.map((stream: StreamSpec) => ({
    manifest: stream.name,
    args: {
      name: physicalName(context, stream.name),
      shardCount: stream.shards,
      retentionPeriod: stream.retentionHours,
      streamModeDetails: { streamMode: 'PROVISIONED' },
      encryptionType: 'KMS',
      kmsKeyId: 'alias/aws/kinesis',
    },
  }));
}

export interface TablePlan {
  readonly manifest: string;
  readonly purpose: TableSpec['purpose'];
  /** Only the primary stage creates a global table; the others use the replica it placed in their region. */
  readonly createdHere: boolean;
  readonly arn: string;
  readonly args: {
    name: string;
    billingMode: 'PAY_PER_REQUEST';
    hashKey: string;
    rangeKey?: string;
    attributes: { name: string; type: 'S' }[];
    streamEnabled: true;
    streamViewType: 'NEW_AND_OLD_IMAGES';
    pointInTimeRecovery: { enabled: boolean };
    ttl?: { attributeName: string; enabled: true };
    serverSideEncryption: { enabled: true };
    deletionProtectionEnabled: boolean;
    replicas: { regionName: string; pointInTimeRecovery: boolean; consistencyMode: 'EVENTUAL' | 'STRONG'; propagateTags: true }[];
  };
}

export function tablePlans(topology: Pick<Topology, 'tables'>, context: StageContext, options: { deletionProtection: boolean }): TablePlan[] {
  return topology.tables.map((table: TableSpec) => ({
    manifest: table.name,
    purpose: table.purpose,
    createdHere: context.isPrimary,
    arn: arnOf.table(context, table.name),
    args: {
      name: physicalName(context, table.name),
      billingMode: 'PAY_PER_REQUEST',
      hashKey: table.hashKey,
      ...(table.rangeKey ? { rangeKey: table.rangeKey } : {}),
      attributes: [table.hashKey, ...(table.rangeKey ? [table.rangeKey] : [])].map((name) => ({ name, type: 'S' as const })),
      // Global tables replicate through the table's stream.
      streamEnabled: true,
      streamViewType: 'NEW_AND_OLD_IMAGES',
      pointInTimeRecovery: { enabled: table.pointInTimeRecovery },
      ...(table.ttlAttribute ? { ttl: { attributeName: table.ttlAttribute, enabled: true as const } } : {}),
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: options.deletionProtection,
      replicas: context.peerRegions.map((regionName) => ({
        regionName,
        pointInTimeRecovery: table.pointInTimeRecovery,
        consistencyMode: table.replication === 'sync' ? ('STRONG' as const) : ('EVENTUAL' as const),
        propagateTags: true as const,
      })),
    },
  }));
}

export interface FailureQueuePlan {
  readonly manifest: string;
  readonly arn: string;
  readonly args: { name: string; messageRetentionSeconds: number; sqsManagedSseEnabled: true };
}

/** SQS queues: where event-source mappings put batches that ran out of retries, kept 14 days for replay. */
export function failureQueuePlans(topology: Pick<Topology, 'queues'>, context: StageContext): FailureQueuePlan[] {
  return topology.queues
    .filter((queue: QueueSpec) => queue.service === 'sqs')
    .map((queue) => ({
      manifest: queue.name,
      arn: arnOf.sqsQueue(context, queue.name),
      args: { name: physicalName(context, queue.name), messageRetentionSeconds: 14 * 24 * 3600, sqsManagedSseEnabled: true },
    }));
}

export interface BrokerPlan {
  readonly name: string;
  /** Manifest MQ queues, named on the broker as in the manifest; ActiveMQ creates a queue on first use. */
  readonly queues: readonly string[];
  /**
   * Secrets Manager secret holding `{username, password}` for STOMP clients and the event-source mappings. Named
   * by region and replicated to every region, so a function can open any region's broker with a local read.
   */
  readonly credentialsSecretName: string;
  /** The secret of each region's broker, as replicated into this region. */
  readonly credentialsSecretArnPatterns: readonly string[];
  readonly args: {
    brokerName: string;
    engineType: 'ActiveMQ';
    engineVersion: string;
    hostInstanceType: string;
    deploymentMode: 'ACTIVE_STANDBY_MULTI_AZ';
    publiclyAccessible: false;
    autoMinorVersionUpgrade: true;
    logs: { general: true; audit: true };
  };
  /** ActiveMQ configuration: a dead-letter queue per queue (`DLQ.<queue>`), as the twin's broker has. */
  readonly configuration: string;
}

const brokerSecretName = (context: Pick<StageContext, 'environment'>, region: string) => `rotor/${context.environment}/broker-${region}`;

export function brokerPlan(topology: Pick<Topology, 'queues'>, context: StageContext): BrokerPlan {
  const name = physicalName(context, 'broker');
  return {
    name,
    queues: topology.queues.filter((queue) => queue.service === 'mq').map((queue) => queue.name),
    credentialsSecretName: brokerSecretName(context, context.region),
    credentialsSecretArnPatterns: context.regions.map((region) => secretArnPattern(context, brokerSecretName(context, region))),
    args: {
      brokerName: name,
      engineType: 'ActiveMQ',
      engineVersion: '5.18',
      hostInstanceType: 'mq.m5.large',
      deploymentMode: 'ACTIVE_STANDBY_MULTI_AZ',
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      logs: { general: true, audit: true },
    },
    configuration: [
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
      '<broker xmlns="http://activemq.apache.org/schema/core" schedulePeriodForDestinationPurge="10000">',
      '  <destinationPolicy><policyMap><policyEntries>',
      '    <policyEntry queue=">"><deadLetterStrategy><individualDeadLetterStrategy queuePrefix="DLQ." useQueueForQueueMessages="true"/></deadLetterStrategy></policyEntry>',
      '  </policyEntries></policyMap></destinationPolicy>',
      '</broker>',
    ].join('\n'),
  };
}

export interface DatabasePlan {
  readonly manifest: string;
  readonly globalClusterIdentifier: string;
  readonly clusterIdentifier: string;
  /** The primary stage creates the global cluster and its writer; the others add a read-only secondary. */
  readonly writerHere: boolean;
  readonly databaseName: string;
  /** `{username, password}` of the master user, created by the primary stage and replicated to every region. */
  readonly credentialsSecretName: string;
  readonly credentialsSecretArnPattern: string;
  readonly engine: 'aurora-postgresql';
  readonly engineVersion: string;
  readonly instanceClass: string;
  readonly instances: number;
}

export function databasePlans(topology: Pick<Topology, 'databases'>, context: StageContext): DatabasePlan[] {
  return topology.databases.map((database: DatabaseSpec) => {
    const credentialsSecretName = `rotor/${context.environment}/${database.name}`;
    return {
      manifest: database.name,
      globalClusterIdentifier: globalClusterIdentifier(database.name),
      clusterIdentifier: memberClusterIdentifier(database.name, context.region),
      writerHere: context.isPrimary,
      databaseName: 'rotor',
      credentialsSecretName,
      credentialsSecretArnPattern: secretArnPattern(context, credentialsSecretName),
      engine: database.engine,
      engineVersion: '16.6',
      instanceClass: 'db.r6g.large',
      instances: 2,
    };
  });
}

/** Secrets Manager appends six random characters to a secret's name in its ARN. */
export function secretArnPattern(context: Pick<StageContext, 'partition' | 'region' | 'account'>, name: string): string {
  return `arn:${context.partition}:secretsmanager:${context.region}:${context.account}:secret:${name}-??????`;
}
