import type { TableSnapshot } from '#local/global/aurora/change-apply.ts';
import type { Change, PendingTransaction, ShippedChange } from '#local/global/aurora/change-capture.ts';

/**
 * What the coordination of an Aurora global database needs from one region's database, whether that database is
 * a Kysely in the same process or a region process reached over HTTP (its replication agent). Every value that
 * could lose precision as a JavaScript number travels as PostgreSQL's JSON text or as a decimal string.
 */

/**
 * `writer`: accepts writes and captures them. `secondary`: rejects handler writes, accepts shipped transactions.
 * `fenced`: rejects both — a writer during a switchover, a region just restarted and not yet told its role, or an
 * old writer cut off by a failover. `unconfigured`: change capture was never installed in this database.
 */
export type ReplicaRole = 'unconfigured' | 'writer' | 'secondary' | 'fenced';

export interface ReplicaSetup {
  /** Idempotent DDL run before capture is installed (the app's tables), e.g. `create table if not exists …`. */
  readonly schema?: readonly string[];
  /** Replicated tables, `schema.table` or `table` (public); each needs a primary key. */
  readonly tables: readonly string[];
}

export type RoleChange =
  /** Accept writes again, keeping the log (first start, or a switchover that gave up). */
  | { readonly role: 'writer' }
  /** Promotion: the log continues after `logStartsAfter`, the last LSN of the old writer this database holds. */
  | { readonly role: 'writer'; readonly logStartsAfter: number }
  | { readonly role: 'fenced' }
  /** Keeps the applied position a secondary already holds. */
  | { readonly role: 'secondary' }
  /** A former writer holding exactly the data up to `appliedLsn` (after a switchover) becomes a secondary there. */
  | { readonly role: 'secondary'; readonly appliedLsn: number };

export interface ReplicaDescription {
  /** Changes whenever the database is reopened (e.g. its region restarted): its role must then be set again. */
  readonly incarnation: string;
  readonly role: ReplicaRole;
  /** Replicated tables, `schema.table`. */
  readonly tables: readonly string[];
  /** The writer's LSN this database has applied up to; null when it was never seeded as a secondary. */
  readonly appliedLsn: number | null;
  /** The last LSN in this database's own log (or covered by its data). */
  readonly logHead: number;
}

export interface LogBacklog {
  readonly logHead: number;
  /** Changes in this database's log after the given LSN. */
  readonly backlog: number;
  /** Age of the oldest of them on this database's clock; 0 when there are none. */
  readonly lagMs: number;
}

export interface ChangePage {
  readonly logHead: number;
  /** Whole source transactions, oldest first. */
  readonly transactions: readonly PendingTransaction[];
}

export type ShippedTransaction = Pick<PendingTransaction, 'txid' | 'changes'>;

export interface ApplyResult {
  readonly appliedLsn: number;
  readonly applied: number;
  /** Transactions already applied earlier (a retried delivery), left alone. */
  readonly skipped: number;
}

export interface ReplicaEndpoint {
  describe(): Promise<ReplicaDescription>;
  /** Installs change capture (idempotent); the role is unchanged, except that a new database starts fenced. */
  configure(setup: ReplicaSetup): Promise<ReplicaDescription>;
  setRole(change: RoleChange): Promise<ReplicaDescription>;
  backlogAfter(lsn: number): Promise<LogBacklog>;
  readChanges(afterLsn: number, limitTransactions: number): Promise<ChangePage>;
  /** Applies the transactions after the held position, in order; each commits with its position. */
  apply(transactions: readonly ShippedTransaction[]): Promise<ApplyResult>;
  /** Every change in this database's log after `lsn`, values exact (decimal strings where needed). */
  tail(afterLsn: number): Promise<Change[]>;
  snapshot(): Promise<TableSnapshot>;
  restore(snapshot: TableSnapshot): Promise<ApplyResult>;
  /** Drops log entries through `lsn`, which every secondary has applied. */
  prune(throughLsn: number): Promise<void>;
}

export type { Change, PendingTransaction, ShippedChange, TableSnapshot };
