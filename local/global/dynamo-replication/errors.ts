/** The replication log on disk cannot be read back; the endpoint refuses to start rather than drop acknowledged writes. */
export class ReplicationLogCorruptError extends Error {
  override readonly name = 'ReplicationLogCorruptError';
}

/** A GlobalTables call names a region or table it was not configured with, or the configuration contradicts itself. */
export class GlobalTablesConfigurationError extends Error {
  override readonly name = 'GlobalTablesConfigurationError';
}

/** An endpoint or link was used after close(). */
export class ReplicationClosedError extends Error {
  override readonly name = 'ReplicationClosedError';
}

/**
 * A peer region could not apply a synchronous write before its deadline (partitioned, paused or down).
 * Transient: the write was rolled back and may be retried.
 */
export class PeerUnavailableError extends Error {
  override readonly name = 'PeerUnavailableError';
}

/** The peer was applying its own write to the same item of a synchronous table; the caller's write was rolled back. */
export class ReplicatedWriteConflictError extends Error {
  override readonly name = 'ReplicatedWriteConflictError';
}

/** The link is cut by a chaos partition; deliveries fail until heal(). */
export class LinkPartitionedError extends Error {
  override readonly name = 'LinkPartitionedError';
}

/**
 * dynalite answered an internal call (version store, peer writes, key lookups) with an error. `type` is the
 * DynamoDB error name from `__type` (e.g. ResourceNotFoundException), which callers branch on.
 */
export class DynaliteRequestError extends Error {
  override readonly name = 'DynaliteRequestError';

  constructor(
    readonly operation: string,
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(`${operation} failed with ${type} (HTTP ${status}): ${message}`);
  }
}

/** A BatchWriteItem or BatchGetItem still left work unprocessed after every retry. */
export class DynaliteBatchIncompleteError extends Error {
  override readonly name = 'DynaliteBatchIncompleteError';
}
