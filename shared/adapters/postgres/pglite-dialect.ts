import type { PGlite, Results } from '@electric-sql/pglite';
import {
  CompiledQuery,
  IdentifierNode,
  RawNode,
  createQueryId,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

/**
 * Kysely dialect over one PGlite instance, for the twin and for tests.
 *
 * PGlite is a single PostgreSQL session. Unless callers take turns, two kysely transactions would share that
 * session: one's ROLLBACK would discard the other's work and one's COMMIT would publish the other's
 * half-finished rows. This driver therefore hands the session to one connection at a time (FIFO), which gives
 * the same guarantees matching relies on from Aurora: transactions are atomic and never interleave.
 */

export class PGliteDialectError extends Error {
  override readonly name: string = 'PGliteDialectError';
}

/** The session stayed taken for longer than allowed: usually a query issued on `db` inside a `db.transaction()`. */
export class PGliteConnectionTimeoutError extends PGliteDialectError {
  override readonly name = 'PGliteConnectionTimeoutError';
  constructor(timeoutMs: number) {
    super(
      `waited ${timeoutMs} ms for the PGlite session; another connection or transaction still holds it. ` +
        'PGlite has one session, so a query on `db` issued from inside a transaction waits for that same ' +
        'transaction: use the transaction object (`trx`) for every query inside it.',
    );
  }
}

export class PGliteClosedError extends PGliteDialectError {
  override readonly name = 'PGliteClosedError';
  constructor() {
    super('the PGlite database is closed (the Kysely instance was destroyed)');
  }
}

export interface PGliteDialectConfig {
  /** A PGlite instance, or a factory called once on first use. The dialect owns it and closes it on destroy. */
  readonly database: PGlite | (() => Promise<PGlite>);
  /** How long a caller may wait for the session before failing; defaults to 30 s. 0 waits forever. */
  readonly acquireTimeoutMs?: number;
}

const DEFAULT_ACQUIRE_TIMEOUT_MS = 30_000;
const COMMANDS_WITH_AFFECTED_ROWS = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/** Grants one holder at a time, in arrival order. */
class SessionLock {
  readonly #waiters: Array<() => void> = [];
  #held = false;

  async acquire(timeoutMs: number): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = (): void => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              const position = this.#waiters.indexOf(grant);
              if (position >= 0) this.#waiters.splice(position, 1);
              reject(new PGliteConnectionTimeoutError(timeoutMs));
            }, timeoutMs)
          : undefined;
      this.#waiters.push(grant);
    });
  }

  release(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#held = false;
  }
}

class PGliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const result: Results<R> = await this.#pglite.query<R>(compiledQuery.sql, [...compiledQuery.parameters]);
    const affected = result.rowCount ?? result.affectedRows;
    const reportsAffectedRows = result.command !== undefined && COMMANDS_WITH_AFFECTED_ROWS.has(result.command);
    return {
      rows: result.rows,
      ...(reportsAffectedRows && affected !== undefined ? { numAffectedRows: BigInt(affected) } : {}),
    };
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new PGliteDialectError('streaming queries are not supported by the PGlite dialect; page with LIMIT/OFFSET');
  }

  /** Leaves the session clean for the next holder even if a ROLLBACK or COMMIT never got to run. */
  async resetSession(): Promise<void> {
    if (!this.#pglite.closed && this.#pglite.isInTransaction()) {
      await this.#pglite.exec('ROLLBACK');
    }
  }
}

class PGliteDriver implements Driver {
  readonly #config: PGliteDialectConfig;
  readonly #lock = new SessionLock();
  #pglite: PGlite | undefined;
  #destroyed = false;

  constructor(config: PGliteDialectConfig) {
    this.#config = config;
  }

  async init(): Promise<void> {
    const source = this.#config.database;
    this.#pglite = typeof source === 'function' ? await source() : source;
    await this.#pglite.waitReady;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.acquire(this.#config.acquireTimeoutMs ?? DEFAULT_ACQUIRE_TIMEOUT_MS);
    if (this.#destroyed || !this.#pglite || this.#pglite.closed) {
      this.#lock.release();
      throw new PGliteClosedError();
    }
    return new PGliteConnection(this.#pglite);
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    let statement = 'start transaction';
    if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode) statement += ` ${settings.accessMode}`;
    await connection.executeQuery(CompiledQuery.raw(statement));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async savepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await runSavepointCommand(connection, 'savepoint', savepointName, compileQuery);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await runSavepointCommand(connection, 'rollback to', savepointName, compileQuery);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    savepointName: string,
    compileQuery: QueryCompiler['compileQuery'],
  ): Promise<void> {
    await runSavepointCommand(connection, 'release', savepointName, compileQuery);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    try {
      await (connection as PGliteConnection).resetSession();
    } finally {
      this.#lock.release();
    }
  }

  async destroy(): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    // Waiting for the session lets a transaction in flight finish instead of dying mid-statement.
    await this.#lock.acquire(0);
    try {
      if (this.#pglite && !this.#pglite.closed) await this.#pglite.close();
    } finally {
      this.#lock.release();
    }
  }
}

async function runSavepointCommand(
  connection: DatabaseConnection,
  command: 'savepoint' | 'rollback to' | 'release',
  savepointName: string,
  compileQuery: QueryCompiler['compileQuery'],
): Promise<void> {
  // The identifier node makes the compiler quote the name, so a savepoint name can never inject SQL.
  const node = RawNode.createWithChildren([RawNode.createWithSql(`${command} `), IdentifierNode.create(savepointName)]);
  await connection.executeQuery(compileQuery(node, createQueryId()));
}

export class PGliteDialect implements Dialect {
  readonly #config: PGliteDialectConfig;

  constructor(config: PGliteDialectConfig) {
    this.#config = config;
  }

  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }

  createDriver(): Driver {
    return new PGliteDriver(this.#config);
  }

  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}
