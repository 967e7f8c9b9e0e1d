import { randomUUID } from 'node:crypto';
import {
  applyTransactions,
  becomeSecondaryAt,
  readApplyPosition,
  restoreSnapshot,
  takeSnapshot,
  type TableSnapshot,
} from '#local/global/aurora/change-apply.ts';
import {
  backlogAfter,
  changesAfter,
  enableReplication,
  logHead,
  pendingTransactions,
  pruneLogThrough,
  replicatedTableNames,
  replicationInstalled,
  setWritable,
  startLogAfter,
  describeTable,
  type AnyKysely,
  type Change,
  type ShippedChange,
  type TableShape,
} from '#local/global/aurora/change-capture.ts';
import { ReplicaNotSeededError, ReplicaRoleError } from '#local/global/aurora/errors.ts';
import type {
  ApplyResult,
  ChangePage,
  LogBacklog,
  ReplicaDescription,
  ReplicaEndpoint,
  ReplicaRole,
  ReplicaSetup,
  RoleChange,
  ShippedTransaction,
} from '#local/global/aurora/replica-endpoint.ts';
import { sql } from 'kysely';

/**
 * One region's database as a member of an Aurora global database: the local operations (capture, apply, roles,
 * snapshot, tail) that a coordinator drives, in the region's own process or in-process.
 *
 * A database that already carries change capture opens **fenced**: after a restart its role is whatever the
 * coordinator says, and until it says so no handler may write — a writer that was failed away from while it was
 * down must not take writes the moment it returns.
 */
export class ReplicaDatabase implements ReplicaEndpoint {
  readonly #db: AnyKysely;
  readonly incarnation = randomUUID();
  #role: ReplicaRole = 'unconfigured';
  #tables: TableShape[] = [];
  /** Changes to data and roles run one at a time, so a retried delivery never races its first attempt. */
  #exclusive: Promise<unknown> = Promise.resolve();

  private constructor(db: AnyKysely) {
    this.#db = db;
  }

  static async open(db: AnyKysely): Promise<ReplicaDatabase> {
    const replica = new ReplicaDatabase(db);
    if (await replicationInstalled(db)) {
      const names = await replicatedTableNames(db);
      replica.#tables = await Promise.all(names.map((name) => describeTable(db, name)));
      await setWritable(db, replica.#tables, false);
      replica.#role = 'fenced';
    }
    return replica;
  }

  get role(): ReplicaRole {
    return this.#role;
  }

  async describe(): Promise<ReplicaDescription> {
    const installed = this.#role !== 'unconfigured';
    return {
      incarnation: this.incarnation,
      role: this.#role,
      tables: this.#tables.map((table) => table.qualifiedName),
      appliedLsn: installed ? ((await readApplyPosition(this.#db))?.lsn ?? null) : null,
      logHead: installed ? await logHead(this.#db) : 0,
    };
  }

  configure(setup: ReplicaSetup): Promise<ReplicaDescription> {
    return this.#serially(async () => {
      for (const statement of setup.schema ?? []) await sql.raw(statement).execute(this.#db);
      this.#tables = await enableReplication(this.#db, setup.tables);
      // Capture is installed writable; anything but a writer must stay closed to handlers.
      const writable = this.#role === 'writer';
      await setWritable(this.#db, this.#tables, writable);
      if (this.#role === 'unconfigured') this.#role = 'fenced';
      return this.describe();
    });
  }

  setRole(change: RoleChange): Promise<ReplicaDescription> {
    return this.#serially(async () => {
      this.#requireConfigured('change its role');
      if (change.role === 'writer') {
        if ('logStartsAfter' in change) await startLogAfter(this.#db, change.logStartsAfter);
        await setWritable(this.#db, this.#tables, true);
      } else {
        await setWritable(this.#db, this.#tables, false);
        if (change.role === 'secondary' && 'appliedLsn' in change) await becomeSecondaryAt(this.#db, change.appliedLsn);
      }
      this.#role = change.role;
      return this.describe();
    });
  }

  async backlogAfter(lsn: number): Promise<LogBacklog> {
    this.#requireConfigured('report its log');
    const [head, { backlog, lagMs }] = await Promise.all([logHead(this.#db), backlogAfter(this.#db, lsn)]);
    return { logHead: head, backlog, lagMs: backlog === 0 ? 0 : lagMs };
  }

  async readChanges(afterLsn: number, limitTransactions: number): Promise<ChangePage> {
    this.#requireConfigured('ship its log');
    const transactions = await pendingTransactions(this.#db, afterLsn, limitTransactions);
    return { logHead: await logHead(this.#db), transactions };
  }

  apply(transactions: readonly ShippedTransaction[]): Promise<ApplyResult> {
    return this.#serially(async () => {
      if (this.#role !== 'secondary') {
        throw new ReplicaRoleError(`shipped changes are only applied by a secondary; this database is ${this.#role}`);
      }
      const position = await readApplyPosition(this.#db);
      if (!position) throw new ReplicaNotSeededError('this secondary was never seeded from a snapshot of the writer');
      const tables = new Map(this.#tables.map((table) => [table.qualifiedName, table]));
      let appliedLsn = position.lsn;
      const due: (readonly ShippedChange[])[] = [];
      for (const transaction of transactions) {
        const last = transaction.changes.at(-1)?.lsn;
        if (last === undefined || last <= appliedLsn) continue;
        due.push(transaction.changes);
        appliedLsn = last;
      }
      await applyTransactions(this.#db, tables, due);
      return { appliedLsn, applied: due.length, skipped: transactions.length - due.length };
    });
  }

  async tail(afterLsn: number): Promise<Change[]> {
    this.#requireConfigured('report its log');
    return changesAfter(this.#db, afterLsn);
  }

  async snapshot(): Promise<TableSnapshot> {
    this.#requireConfigured('take a snapshot');
    return takeSnapshot(this.#db, this.#tables);
  }

  restore(snapshot: TableSnapshot): Promise<ApplyResult> {
    return this.#serially(async () => {
      if (this.#role === 'writer' || this.#role === 'unconfigured') {
        throw new ReplicaRoleError(`only a fenced database or a secondary is rebuilt from a snapshot; this one is ${this.#role}`);
      }
      const appliedLsn = await restoreSnapshot(this.#db, this.#tables, snapshot);
      return { appliedLsn, applied: 0, skipped: 0 };
    });
  }

  prune(throughLsn: number): Promise<void> {
    return this.#serially(async () => {
      this.#requireConfigured('prune its log');
      await pruneLogThrough(this.#db, throughLsn);
    });
  }

  #requireConfigured(action: string): void {
    if (this.#role === 'unconfigured') {
      throw new ReplicaRoleError(`cannot ${action}: change capture is not installed in this database (configure it first)`);
    }
  }

  #serially<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.#exclusive.then(operation, operation);
    this.#exclusive = next.catch(() => undefined);
    return next;
  }
}
