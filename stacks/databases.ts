import { isPermanent, type StagePlan } from './plan/index.ts';
import type { DatabasePlan } from './plan/data.ts';
import type { Network } from './network.ts';
import { logicalName } from './names.ts';

/**
 * Aurora PostgreSQL global databases, one per app. The primary stage creates the global cluster, its writer
 * cluster and the master credentials (a secret replicated to every region); another stage adds its region's
 * read-only secondary, which `ops-switchover` promotes. Functions reach their region's cluster endpoint with
 * `postgres://…?credentials=<secret>`.
 */
export function createDatabases(plan: StagePlan, network: Network) {
  const permanent = isPermanent(plan.context);
  const subnetGroup = new aws.rds.SubnetGroup('DatabaseSubnets', { name: `rotor-${plan.context.environment}-databases`, subnetIds: network.privateSubnets });
  return plan.databases.map((database) => {
    const cluster = plan.context.isPrimary ? writer(database, plan, subnetGroup, network, permanent) : secondary(database, subnetGroup, network, permanent);
    for (let index = 0; index < database.instances; index += 1) {
      new aws.rds.ClusterInstance(logicalName('Database', database.manifest, `instance-${index + 1}`), {
        identifier: `${database.clusterIdentifier}-${index + 1}`,
        clusterIdentifier: cluster.id,
        instanceClass: database.instanceClass,
        engine: database.engine,
        engineVersion: database.engineVersion,
        dbSubnetGroupName: subnetGroup.name,
        performanceInsightsEnabled: true,
      });
    }
    const url = $interpolate`postgres://${cluster.endpoint}:5432/${database.databaseName}?sslmode=require&credentials=${encodeURIComponent(database.credentialsSecretName)}`;
    return { manifest: database.manifest, cluster, url };
  });
}

function writer(database: DatabasePlan, plan: StagePlan, subnetGroup: aws.rds.SubnetGroup, network: Network, permanent: boolean) {
  const global = new aws.rds.GlobalCluster(logicalName('Database', database.manifest, 'global'), {
    globalClusterIdentifier: database.globalClusterIdentifier,
    engine: database.engine,
    engineVersion: database.engineVersion,
    databaseName: database.databaseName,
    storageEncrypted: true,
    deletionProtection: permanent,
  });
  const username = 'rotor';
  const password = new random.RandomPassword(logicalName('Database', database.manifest, 'password'), { length: 32, special: false });
  const secret = new aws.secretsmanager.Secret(logicalName('Database', database.manifest, 'credentials'), {
    name: database.credentialsSecretName,
    recoveryWindowInDays: 7,
    replicas: plan.context.peerRegions.map((region) => ({ region })),
  });
  new aws.secretsmanager.SecretVersion(logicalName('Database', database.manifest, 'credentials-value'), {
    secretId: secret.id,
    secretString: $jsonStringify({ username, password: password.result }),
  });
  return new aws.rds.Cluster(
    logicalName('Database', database.manifest),
    {
      clusterIdentifier: database.clusterIdentifier,
      globalClusterIdentifier: global.id,
      engine: database.engine,
      engineVersion: database.engineVersion,
      databaseName: database.databaseName,
      masterUsername: username,
      masterPassword: password.result,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: network.securityGroups,
      storageEncrypted: true,
      backupRetentionPeriod: 7,
      deletionProtection: permanent,
      skipFinalSnapshot: !permanent,
      ...(permanent ? { finalSnapshotIdentifier: `${database.clusterIdentifier}-final` } : {}),
    },
    // A switchover makes this cluster a secondary; the stack must not try to undo it.
    { ignoreChanges: ['globalClusterIdentifier', 'replicationSourceIdentifier', 'masterPassword'] },
  );
}

function secondary(database: DatabasePlan, subnetGroup: aws.rds.SubnetGroup, network: Network, permanent: boolean) {
  const kmsKey = aws.kms.getAliasOutput({ name: 'alias/aws/rds' });
  return new aws.rds.Cluster(
    logicalName('Database', database.manifest),
    {
      clusterIdentifier: database.clusterIdentifier,
      globalClusterIdentifier: database.globalClusterIdentifier,
      engine: database.engine,
      engineVersion: database.engineVersion,
      dbSubnetGroupName: subnetGroup.name,
      vpcSecurityGroupIds: network.securityGroups,
      storageEncrypted: true,
      kmsKeyId: kmsKey.targetKeyArn,
      deletionProtection: permanent,
      skipFinalSnapshot: true,
    },
    { ignoreChanges: ['replicationSourceIdentifier', 'globalClusterIdentifier'] },
  );
}
