import type { TableSnapshot } from '#local/global/aurora/change-apply.ts';
import { ReplicaUnreachableError } from '#local/global/aurora/errors.ts';
import type { ReplicaDatabase } from '#local/global/aurora/replica-database.ts';
import type {
  ApplyResult,
  Change,
  ChangePage,
  LogBacklog,
  ReplicaDescription,
  ReplicaEndpoint,
  ReplicaSetup,
  RoleChange,
  ShippedTransaction,
} from '#local/global/aurora/replica-endpoint.ts';

/**
 * A region's database opened in the coordinator's own process. While the region is lost (its database closed)
 * every call fails as an unreachable region process would, so the coordinator treats both alike.
 */
export class InProcessReplica implements ReplicaEndpoint {
  #replica: ReplicaDatabase | undefined;

  constructor(readonly region: string) {}

  get available(): boolean {
    return this.#replica !== undefined;
  }

  connect(replica: ReplicaDatabase): void {
    this.#replica = replica;
  }

  disconnect(): void {
    this.#replica = undefined;
  }

  describe(): Promise<ReplicaDescription> {
    return this.#current().describe();
  }

  configure(setup: ReplicaSetup): Promise<ReplicaDescription> {
    return this.#current().configure(setup);
  }

  setRole(change: RoleChange): Promise<ReplicaDescription> {
    return this.#current().setRole(change);
  }

  backlogAfter(lsn: number): Promise<LogBacklog> {
    return this.#current().backlogAfter(lsn);
  }

  readChanges(afterLsn: number, limitTransactions: number): Promise<ChangePage> {
    return this.#current().readChanges(afterLsn, limitTransactions);
  }

  apply(transactions: readonly ShippedTransaction[]): Promise<ApplyResult> {
    return this.#current().apply(transactions);
  }

  tail(afterLsn: number): Promise<Change[]> {
    return this.#current().tail(afterLsn);
  }

  snapshot(): Promise<TableSnapshot> {
    return this.#current().snapshot();
  }

  restore(snapshot: TableSnapshot): Promise<ApplyResult> {
    return this.#current().restore(snapshot);
  }

  prune(throughLsn: number): Promise<void> {
    return this.#current().prune(throughLsn);
  }

  #current(): ReplicaDatabase {
    if (!this.#replica) throw new ReplicaUnreachableError(`${this.region}'s database is unavailable (region lost or closed)`);
    return this.#replica;
  }
}
