/**
 * The global-database control port: how the rotation and disaster-recovery task functions move an app's Aurora
 * Global Database writer to another region (DESIGN §4). A database is addressed by its manifest name (`tm-db`);
 * the adapter knows the AWS names (shared/topology/global-database-names.ts).
 *
 * Both operations are asynchronous, as on AWS: they return once the change has been accepted, and the caller polls
 * `describe` until `writerRegion` is the target and `status` is `available` again.
 */

/** AWS's global cluster status: `available`, `switching-over`, `failing-over`, `modifying`, … */
export type GlobalDatabaseStatus = string;

export interface GlobalDatabaseMember {
  readonly region: string;
  readonly clusterArn: string;
  readonly isWriter: boolean;
  /** `connected`, or `pending-resync` for an old writer cut off by a failover until it is rebuilt. */
  readonly synchronization: string | undefined;
}

/** A switchover or failover the database is going through (AWS's `FailoverState`). */
export interface GlobalDatabaseOperation {
  readonly kind: 'switchover' | 'failover';
  readonly fromRegion: string | undefined;
  readonly toRegion: string | undefined;
  /** AWS's `FailoverState.Status`: `pending`, `failing-over` or `cancelling`. */
  readonly status: string;
}

export interface GlobalDatabaseDescription {
  readonly database: string;
  readonly globalClusterIdentifier: string;
  readonly status: GlobalDatabaseStatus;
  /** Undefined while no member is the writer (possible for a moment during a failover). */
  readonly writerRegion: string | undefined;
  readonly members: readonly GlobalDatabaseMember[];
  readonly operation: GlobalDatabaseOperation | undefined;
}

export interface FailoverOptions {
  /**
   * True: promote the target at once with what it has applied, losing the old writer's unreplicated tail (the old
   * writer may be unreachable). False: a switchover through the failover call (waits for the target to catch up).
   */
  readonly allowDataLoss: boolean;
}

export interface GlobalDatabaseControl {
  describe(database: string): Promise<GlobalDatabaseDescription>;
  /** Planned move of the writer, without data loss; the old writer becomes a secondary. */
  switchover(database: string, toRegion: string): Promise<GlobalDatabaseDescription>;
  failover(database: string, toRegion: string, options: FailoverOptions): Promise<GlobalDatabaseDescription>;
}

/** The database has no global cluster (or the caller may not see it). */
export class GlobalDatabaseNotFoundError extends Error {
  override readonly name = 'GlobalDatabaseNotFoundError';
  readonly transient = false;
}

/** The global cluster has no member in the requested region. */
export class GlobalDatabaseMemberNotFoundError extends Error {
  override readonly name = 'GlobalDatabaseMemberNotFoundError';
  readonly transient = false;
}

/**
 * The global cluster cannot do this now: another switchover or failover runs, the target is the writer already,
 * or the target is not a synchronised secondary. Transient: the state it depends on changes by itself.
 */
export class GlobalDatabaseStateError extends Error {
  override readonly name = 'GlobalDatabaseStateError';
  readonly transient = true;
}

/** The RDS API did not answer, timed out, throttled or failed internally; try again. */
export class GlobalDatabaseUnavailableError extends Error {
  override readonly name = 'GlobalDatabaseUnavailableError';
  readonly transient = true;
}

/** The RDS API refused the request for another reason (a malformed parameter, missing permissions, …). */
export class GlobalDatabaseRequestError extends Error {
  override readonly name = 'GlobalDatabaseRequestError';
  readonly transient = false;
}
