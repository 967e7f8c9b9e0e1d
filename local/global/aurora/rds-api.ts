import { createHash } from 'node:crypto';
import { globalClusterIdentifier, memberClusterIdentifier } from '#shared/topology/global-database-names.ts';
import {
  DbClusterNotFoundError,
  GlobalClusterNotFoundError,
  InvalidActionError,
  InvalidGlobalClusterStateError,
  InvalidParameterCombinationError,
  InvalidParameterValueError,
  MissingParameterError,
} from '#local/global/aurora/rds-errors.ts';

/**
 * The global-cluster part of the RDS API over the twin's Aurora Global Databases: `DescribeGlobalClusters`,
 * `SwitchoverGlobalCluster` and `FailoverGlobalCluster`, with AWS's names, shapes and faults (the HTTP side is
 * rds-api-server.ts). Each manifest database is the global cluster `rotor-<database>` with one member cluster per
 * region, `rotor-<database>-<region>`.
 *
 * Switchover and failover are asynchronous as on AWS: the call validates, answers at once with the cluster
 * `switching-over` / `failing-over` and the old writer still the writer, and the coordinator does the work in the
 * background. Callers poll DescribeGlobalClusters until the target is the writer and the status is `available`.
 * A switchover the coordinator abandons (the secondary could not catch up) leaves the roles unchanged and the
 * cluster `available`, as AWS cancels one; why it failed is kept for `rotor status` (`lastOperation`).
 *
 * Nothing here contacts a region: the roles are the coordinator's, so a failover is served with the old writer's
 * region dead. Replication lag is not part of this API (RDS publishes it as the CloudWatch metric
 * `AuroraGlobalDBRPOLag`); the twin reports it in `rotor status` under `components.aurora`.
 */

/** What the API needs of a global database: `AuroraGlobalCoordinator` in the twin, `AuroraGlobalDatabase` in tests. */
export interface GlobalDatabaseModel {
  readonly writerRegion: string;
  readonly secondaryRegions: readonly string[];
  /** Old writers cut off by a failover, until reattached. */
  readonly detachedRegions: readonly string[];
  switchover(toRegion: string): Promise<void>;
  failover(toRegion: string): Promise<unknown>;
}

export interface RdsGlobalClusterSource {
  /** The manifest database, e.g. `tm-db`. */
  readonly database: string;
  readonly model: GlobalDatabaseModel;
}

/** The account the twin's ARNs name, as the ARC emulator's do. */
export const TWIN_ACCOUNT_ID = '000000000000';
export const RDS_ACTIONS = ['DescribeGlobalClusters', 'SwitchoverGlobalCluster', 'FailoverGlobalCluster'] as const;
export type RdsAction = (typeof RDS_ACTIONS)[number];
export type RdsParameters = Readonly<Record<string, string>>;

export const clusterArn = (region: string, identifier: string) => `arn:aws:rds:${region}:${TWIN_ACCOUNT_ID}:cluster:${identifier}`;
const globalClusterArn = (identifier: string) => `arn:aws:rds::${TWIN_ACCOUNT_ID}:global-cluster:${identifier}`;

type OperationKind = 'switchover' | 'failover';

export interface GlobalClusterOperation {
  readonly kind: OperationKind;
  readonly fromRegion: string;
  readonly toRegion: string;
  readonly startedAt: string;
}

export interface SettledOperation extends GlobalClusterOperation {
  readonly finishedAt: string;
  readonly outcome: 'succeeded' | 'failed';
  readonly error?: string;
}

interface RunningOperation extends GlobalClusterOperation {
  /** AWS's FailoverState.Status: `pending` until the coordinator has started on it. */
  status: 'pending' | 'failing-over';
  done: Promise<void>;
}

export interface GlobalClusterMemberView {
  readonly DBClusterArn: string;
  readonly Readers: readonly string[];
  readonly IsWriter: boolean;
  readonly GlobalWriteForwardingStatus: 'disabled';
  readonly SynchronizationStatus: 'connected' | 'pending-resync';
}

export interface GlobalClusterView {
  readonly GlobalClusterIdentifier: string;
  readonly GlobalClusterResourceId: string;
  readonly GlobalClusterArn: string;
  readonly Status: 'available' | 'switching-over' | 'failing-over';
  readonly Engine: 'aurora-postgresql';
  readonly StorageEncrypted: boolean;
  readonly DeletionProtection: boolean;
  readonly GlobalClusterMembers: readonly GlobalClusterMemberView[];
  readonly FailoverState?: {
    readonly Status: string;
    readonly FromDbClusterArn: string;
    readonly ToDbClusterArn: string;
    readonly IsDataLossAllowed: boolean;
  };
}

class GlobalClusterEntry {
  readonly identifier: string;
  running: RunningOperation | undefined;
  last: SettledOperation | undefined;

  constructor(
    readonly database: string,
    readonly model: GlobalDatabaseModel,
  ) {
    this.identifier = globalClusterIdentifier(database);
  }

  regions(): string[] {
    return [...new Set([this.model.writerRegion, ...this.model.secondaryRegions, ...this.model.detachedRegions])].sort();
  }

  memberArn(region: string): string {
    return clusterArn(region, memberClusterIdentifier(this.database, region));
  }

  /** The member region a TargetDbClusterIdentifier (ARN or identifier) names; DBClusterNotFoundFault otherwise. */
  regionOfTarget(target: string): string {
    const region = this.regions().find((candidate) => target === this.memberArn(candidate) || target === memberClusterIdentifier(this.database, candidate));
    if (!region) throw new DbClusterNotFoundError(`DBCluster ${target} not found in global cluster ${this.identifier}.`);
    return region;
  }

  view(): GlobalClusterView {
    const writer = this.model.writerRegion;
    const detached = new Set(this.model.detachedRegions);
    const running = this.running;
    return {
      GlobalClusterIdentifier: this.identifier,
      GlobalClusterResourceId: `cluster-${createHash('sha256').update(this.identifier).digest('hex').slice(0, 26)}`,
      GlobalClusterArn: globalClusterArn(this.identifier),
      Status: running ? (running.kind === 'switchover' ? 'switching-over' : 'failing-over') : 'available',
      Engine: 'aurora-postgresql',
      StorageEncrypted: true,
      DeletionProtection: false,
      GlobalClusterMembers: this.regions().map((region) => ({
        DBClusterArn: this.memberArn(region),
        Readers: region === writer ? this.model.secondaryRegions.map((secondary) => this.memberArn(secondary)) : [],
        IsWriter: region === writer,
        GlobalWriteForwardingStatus: 'disabled',
        SynchronizationStatus: detached.has(region) ? 'pending-resync' : 'connected',
      })),
      ...(running
        ? {
            FailoverState: {
              Status: running.status,
              FromDbClusterArn: this.memberArn(running.fromRegion),
              ToDbClusterArn: this.memberArn(running.toRegion),
              IsDataLossAllowed: running.kind === 'failover',
            },
          }
        : {}),
    };
  }
}

export class RdsGlobalClusterApi {
  readonly #clusters = new Map<string, GlobalClusterEntry>();

  constructor(sources: readonly RdsGlobalClusterSource[]) {
    for (const { database, model } of sources) {
      const entry = new GlobalClusterEntry(database, model);
      this.#clusters.set(entry.identifier, entry);
    }
  }

  /** Runs one action; the result is the content of its `<Action>Result` element. */
  invoke(action: string, parameters: RdsParameters): Record<string, unknown> {
    switch (action) {
      case 'DescribeGlobalClusters':
        return this.describeGlobalClusters(parameters);
      case 'SwitchoverGlobalCluster':
        return this.switchoverGlobalCluster(parameters);
      case 'FailoverGlobalCluster':
        return this.failoverGlobalCluster(parameters);
      default:
        throw new InvalidActionError(action);
    }
  }

  describeGlobalClusters(parameters: RdsParameters): { GlobalClusters: GlobalClusterView[] } {
    if (Object.keys(parameters).some((name) => name.startsWith('Filters.'))) {
      throw new InvalidParameterValueError('The twin does not filter global clusters; name one with GlobalClusterIdentifier or list them all.');
    }
    const identifier = parameters.GlobalClusterIdentifier;
    if (identifier === undefined) return { GlobalClusters: [...this.#clusters.values()].map((entry) => entry.view()) };
    return { GlobalClusters: [this.#entry(identifier).view()] };
  }

  switchoverGlobalCluster(parameters: RdsParameters): { GlobalCluster: GlobalClusterView } {
    return { GlobalCluster: this.#start('switchover', parameters) };
  }

  failoverGlobalCluster(parameters: RdsParameters): { GlobalCluster: GlobalClusterView } {
    const allowDataLoss = booleanParameter(parameters, 'AllowDataLoss');
    const switchover = booleanParameter(parameters, 'Switchover');
    if (allowDataLoss && switchover) throw new InvalidParameterCombinationError('AllowDataLoss and Switchover cannot be specified together.');
    // Without AllowDataLoss, AWS's FailoverGlobalCluster is a switchover (formerly "managed planned failover").
    return { GlobalCluster: this.#start(allowDataLoss ? 'failover' : 'switchover', parameters) };
  }

  /** The last switchover or failover of a manifest database that has finished, for `rotor status`. */
  lastOperation(database: string): SettledOperation | undefined {
    return this.#clusters.get(globalClusterIdentifier(database))?.last;
  }

  /** Resolves once no switchover or failover is running. */
  async settled(): Promise<void> {
    await Promise.all([...this.#clusters.values()].map((entry) => entry.running?.done));
  }

  #entry(identifier: string): GlobalClusterEntry {
    const entry = this.#clusters.get(identifier);
    if (!entry) throw new GlobalClusterNotFoundError(identifier);
    return entry;
  }

  #start(kind: OperationKind, parameters: RdsParameters): GlobalClusterView {
    const entry = this.#entry(required(parameters, 'GlobalClusterIdentifier'));
    const toRegion = entry.regionOfTarget(required(parameters, 'TargetDbClusterIdentifier'));
    const fromRegion = entry.model.writerRegion;
    if (entry.running) {
      const { kind: runningKind, toRegion: runningTarget } = entry.running;
      throw new InvalidGlobalClusterStateError(`Global cluster ${entry.identifier} is already in a ${runningKind} to ${entry.memberArn(runningTarget)}; wait until it is available.`);
    }
    if (toRegion === fromRegion) {
      throw new InvalidGlobalClusterStateError(`${entry.memberArn(toRegion)} is already the primary cluster of global cluster ${entry.identifier}.`);
    }
    if (entry.model.detachedRegions.includes(toRegion)) {
      throw new InvalidGlobalClusterStateError(`${entry.memberArn(toRegion)} is pending resynchronisation after a failover and cannot become the primary cluster.`);
    }
    const running: RunningOperation = { kind, fromRegion, toRegion, startedAt: new Date().toISOString(), status: 'pending', done: Promise.resolve() };
    entry.running = running;
    running.done = this.#run(entry, running);
    return entry.view();
  }

  async #run(entry: GlobalClusterEntry, running: RunningOperation): Promise<void> {
    // The caller's answer is built first, as AWS answers before the promotion has begun.
    await Promise.resolve();
    running.status = 'failing-over';
    const { kind, fromRegion, toRegion, startedAt } = running;
    try {
      await (kind === 'switchover' ? entry.model.switchover(toRegion) : entry.model.failover(toRegion));
      entry.last = { kind, fromRegion, toRegion, startedAt, finishedAt: new Date().toISOString(), outcome: 'succeeded' };
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      entry.last = { kind, fromRegion, toRegion, startedAt, finishedAt: new Date().toISOString(), outcome: 'failed', error: reason };
    } finally {
      entry.running = undefined;
    }
  }
}

function required(parameters: RdsParameters, name: string): string {
  const value = parameters[name];
  if (value === undefined || value === '') throw new MissingParameterError(name);
  return value;
}

function booleanParameter(parameters: RdsParameters, name: string): boolean {
  const value = parameters[name];
  if (value === undefined) return false;
  if (value !== 'true' && value !== 'false') throw new InvalidParameterValueError(`${name} must be true or false, not ${value}.`);
  return value === 'true';
}
