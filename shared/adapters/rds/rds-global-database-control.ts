import {
  DescribeGlobalClustersCommand,
  FailoverGlobalClusterCommand,
  RDSClient,
  SwitchoverGlobalClusterCommand,
  type GlobalCluster,
} from '@aws-sdk/client-rds';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { isServerError, networkErrorCode } from '#shared/adapters/aws/network-errors.ts';
import {
  GlobalDatabaseMemberNotFoundError,
  GlobalDatabaseNotFoundError,
  GlobalDatabaseRequestError,
  GlobalDatabaseStateError,
  GlobalDatabaseUnavailableError,
  type FailoverOptions,
  type GlobalDatabaseControl,
  type GlobalDatabaseDescription,
  type GlobalDatabaseMember,
} from '#shared/ports/global-database.ts';
import { globalClusterIdentifier, regionOfClusterArn } from '#shared/topology/global-database-names.ts';

/**
 * Aurora Global Database control over the RDS API (`@aws-sdk/client-rds`). The client is the SDK's default:
 * region from `AWS_REGION`, endpoint from `AWS_ENDPOINT_URL_RDS` when set (the twin sets it), so the same code runs
 * against AWS and the twin. Lag is not read here: RDS publishes it only as the CloudWatch metric
 * `AuroraGlobalDBRPOLag` (the twin shows it in `rotor status`), and the switchover itself waits for it.
 *
 * The target cluster is named by its ARN, as AWS asks for a cluster in another region; the member is found by the
 * region in its ARN.
 */

const STATE_FAULTS = new Set(['InvalidGlobalClusterStateFault', 'InvalidDBClusterStateFault']);
const UNAVAILABLE_FAULTS = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded', 'ServiceUnavailable', 'InternalFailure', 'TimeoutError']);

export class RdsGlobalDatabaseControl implements GlobalDatabaseControl {
  constructor(private readonly client: RDSClient) {}

  /** The SDK's default configuration, with timeouts so a task function never waits out its whole budget. */
  static fromEnvironment(): RdsGlobalDatabaseControl {
    return new RdsGlobalDatabaseControl(
      new RDSClient({ requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 15_000, throwOnRequestTimeout: true }) }),
    );
  }

  async describe(database: string): Promise<GlobalDatabaseDescription> {
    const identifier = globalClusterIdentifier(database);
    const output = await this.call(database, () => this.client.send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: identifier })));
    const cluster = output.GlobalClusters?.find((candidate) => candidate.GlobalClusterIdentifier === identifier);
    if (!cluster) throw new GlobalDatabaseNotFoundError(`there is no global cluster ${identifier} for database ${database}`);
    return describeCluster(database, cluster);
  }

  async switchover(database: string, toRegion: string): Promise<GlobalDatabaseDescription> {
    const target = await this.memberIn(database, toRegion);
    const output = await this.call(database, () =>
      this.client.send(new SwitchoverGlobalClusterCommand({ GlobalClusterIdentifier: globalClusterIdentifier(database), TargetDbClusterIdentifier: target.clusterArn })),
    );
    return describeCluster(database, output.GlobalCluster ?? {});
  }

  async failover(database: string, toRegion: string, { allowDataLoss }: FailoverOptions): Promise<GlobalDatabaseDescription> {
    const target = await this.memberIn(database, toRegion);
    const output = await this.call(database, () =>
      this.client.send(
        new FailoverGlobalClusterCommand({
          GlobalClusterIdentifier: globalClusterIdentifier(database),
          TargetDbClusterIdentifier: target.clusterArn,
          // AWS refuses the two together: AllowDataLoss for a failover, Switchover for a switchover.
          ...(allowDataLoss ? { AllowDataLoss: true } : { Switchover: true }),
        }),
      ),
    );
    return describeCluster(database, output.GlobalCluster ?? {});
  }

  private async memberIn(database: string, region: string): Promise<GlobalDatabaseMember> {
    const described = await this.describe(database);
    const member = described.members.find((candidate) => candidate.region === region);
    if (!member) {
      throw new GlobalDatabaseMemberNotFoundError(
        `global cluster ${described.globalClusterIdentifier} has no member in ${region} (members: ${described.members.map((m) => m.region).join(', ') || 'none'})`,
      );
    }
    return member;
  }

  private async call<T>(database: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw translate(error, database);
    }
  }
}

function describeCluster(database: string, cluster: GlobalCluster): GlobalDatabaseDescription {
  const members = (cluster.GlobalClusterMembers ?? []).map(
    (member): GlobalDatabaseMember => ({
      region: regionOfClusterArn(member.DBClusterArn ?? '') ?? 'unknown',
      clusterArn: member.DBClusterArn ?? '',
      isWriter: member.IsWriter === true,
      synchronization: member.SynchronizationStatus,
    }),
  );
  const failover = cluster.FailoverState;
  return {
    database,
    globalClusterIdentifier: cluster.GlobalClusterIdentifier ?? globalClusterIdentifier(database),
    status: cluster.Status ?? 'unknown',
    writerRegion: members.find((member) => member.isWriter)?.region,
    members,
    operation: failover?.Status
      ? {
          kind: failover.IsDataLossAllowed ? 'failover' : 'switchover',
          fromRegion: regionOfClusterArn(failover.FromDbClusterArn ?? ''),
          toRegion: regionOfClusterArn(failover.ToDbClusterArn ?? ''),
          status: failover.Status,
        }
      : undefined,
  };
}

function translate(error: unknown, database: string): Error {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  const options = { cause: error };
  if (name === 'GlobalClusterNotFoundFault') return new GlobalDatabaseNotFoundError(`${database}: ${message}`, options);
  if (name === 'DBClusterNotFoundFault') return new GlobalDatabaseMemberNotFoundError(`${database}: ${message}`, options);
  if (STATE_FAULTS.has(name)) return new GlobalDatabaseStateError(`${database}: ${message}`, options);
  const network = networkErrorCode(error);
  if (network || UNAVAILABLE_FAULTS.has(name) || isServerError(error)) {
    return new GlobalDatabaseUnavailableError(`the RDS API did not serve ${database}: ${network ?? name}: ${message}`, options);
  }
  return new GlobalDatabaseRequestError(`${database}: ${name || 'error'}: ${message}`, options);
}
