/** Base class for the twin's Aurora Global Database model; `instanceof` tells its failures from the database's own. */
export class AuroraGlobalDatabaseError extends Error {
  override readonly name: string = 'AuroraGlobalDatabaseError';
}

/** A replicated table cannot carry change capture (missing, or without a primary key to address rows by). */
export class ReplicationSetupError extends AuroraGlobalDatabaseError {
  override readonly name = 'ReplicationSetupError';
}

/** The region is unknown, detached after a failover, or closed, so it cannot serve the request. */
export class RegionUnavailableError extends AuroraGlobalDatabaseError {
  override readonly name: string = 'RegionUnavailableError';
}

/** The requested role change makes no sense in the current topology (e.g. switching over to the writer). */
export class InvalidRoleChangeError extends AuroraGlobalDatabaseError {
  override readonly name = 'InvalidRoleChangeError';
}

/**
 * A managed switchover gave up because a secondary did not catch up within the allowed time. The writer was
 * reopened for writes and no role changed, as Aurora leaves the global database when a switchover fails.
 */
export class SwitchoverTimeoutError extends AuroraGlobalDatabaseError {
  override readonly name = 'SwitchoverTimeoutError';
  constructor(
    readonly targetRegion: string,
    readonly timeoutMs: number,
    readonly backlog: number,
    readonly shippingPaused: boolean,
  ) {
    super(
      `switchover to ${targetRegion} abandoned: the secondaries were still ${backlog} change(s) behind after ` +
        `${timeoutMs} ms${shippingPaused ? ' (replication is paused: resume it first)' : ''}; ` +
        'the writer accepts writes again and the roles are unchanged',
    );
  }
}

/** The role state file exists but cannot be understood, so starting would risk two writers. */
export class RoleStateError extends AuroraGlobalDatabaseError {
  override readonly name = 'RoleStateError';
}

/** The request needs the database in another role (e.g. shipped changes sent to a writer or a fenced region). */
export class ReplicaRoleError extends AuroraGlobalDatabaseError {
  override readonly name = 'ReplicaRoleError';
}

/** Shipped changes reached a secondary that was never seeded from a snapshot, so it has no position to continue. */
export class ReplicaNotSeededError extends AuroraGlobalDatabaseError {
  override readonly name = 'ReplicaNotSeededError';
}

/**
 * A region's replication agent could not be reached or did not answer in time: the region is down, restarting,
 * or cut off. Shipping retries; role changes that need the region fail with this.
 */
export class ReplicaUnreachableError extends RegionUnavailableError {
  override readonly name = 'ReplicaUnreachableError';
}

/** A region's replication agent answered with an error of its own; `remoteName` is its error class. */
export class ReplicaRequestError extends AuroraGlobalDatabaseError {
  override readonly name = 'ReplicaRequestError';
  constructor(
    readonly status: number,
    readonly remoteName: string,
    message: string,
    /** The SQLSTATE, when the database itself refused. */
    readonly code?: string,
  ) {
    super(message);
  }
}
