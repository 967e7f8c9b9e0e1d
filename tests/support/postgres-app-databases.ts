import { sql, type Kysely } from 'kysely';
import { openDatabase, type DatabaseConfig, type OpenedDatabase } from '#shared/adapters/postgres/database.ts';
import { migrateSettlementDatabase, type SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import {
  migrateTradeMatchingDatabase,
  type TradeMatchingDatabase,
} from '#shared/adapters/postgres/migrations/trade-matching.ts';
import { createThrowawayDatabases } from '#tests/support/throwaway-postgres.ts';

/**
 * Both apps' databases, migrated, on each backend a test file runs against: an in-memory PGlite always, and a real
 * PostgreSQL when `ROTOR_TEST_POSTGRES_URL` is set, in two databases created for the run and dropped after it.
 */

export interface AppDatabases {
  readonly backend: DatabaseConfig['backend'];
  readonly tradeMatching: Kysely<TradeMatchingDatabase>;
  readonly settlement: Kysely<SettlementDatabase>;
  /** Empties every app table and restarts the outbox ids, keeping the schema. */
  truncate(): Promise<void>;
  close(): Promise<void>;
}

export interface PostgresTestBackend {
  readonly title: string;
  /** Undefined when the backend is not configured here; the suite is skipped with the reason in its title. */
  readonly open: (() => Promise<AppDatabases>) | undefined;
}

const postgresUrl = process.env.ROTOR_TEST_POSTGRES_URL;

export const POSTGRES_TEST_BACKENDS: readonly PostgresTestBackend[] = [
  {
    title: 'PGlite',
    // One in-memory instance per app: they vanish on close, so there is nothing to drop.
    open: () => openAppDatabases(async () => ({ configs: [{ backend: 'pglite' }, { backend: 'pglite' }], drop: async () => {} })),
  },
  {
    title: postgresUrl ? 'PostgreSQL' : 'PostgreSQL (skipped: set ROTOR_TEST_POSTGRES_URL, e.g. from .ci/postgres.sh)',
    open: postgresUrl ? () => openAppDatabases(() => createRunDatabases(postgresUrl)) : undefined,
  },
];

async function openAppDatabases(
  create: () => Promise<{ configs: [DatabaseConfig, DatabaseConfig]; drop: () => Promise<void> }>,
): Promise<AppDatabases> {
  const { configs, drop } = await create();
  const opened: OpenedDatabase<unknown>[] = [];
  try {
    const [tm, sm] = await Promise.all(configs.map((config) => openDatabase<unknown>(config)));
    opened.push(tm!, sm!);
    const tradeMatching = tm!.db as Kysely<TradeMatchingDatabase>;
    const settlement = sm!.db as Kysely<SettlementDatabase>;
    await migrateTradeMatchingDatabase(tradeMatching);
    await migrateSettlementDatabase(settlement);
    return {
      backend: tm!.backend,
      tradeMatching,
      settlement,
      truncate: async () => {
        await sql`truncate allocations, trades, outbox restart identity`.execute(tradeMatching);
        await sql`truncate ledger_postings, ledger_pairs, settlements, outbox restart identity`.execute(settlement);
      },
      close: async () => {
        await Promise.all(opened.map((database) => database.close()));
        await drop();
      },
    };
  } catch (error) {
    await Promise.all(opened.map((database) => database.close()));
    await drop();
    throw error;
  }
}

/** A trade matching and a settlement database, fresh for this run, so parallel runs and other suites never meet. */
async function createRunDatabases(url: string): Promise<{ configs: [DatabaseConfig, DatabaseConfig]; drop: () => Promise<void> }> {
  // Room for the concurrency tests: two transactions in flight and an observer watching their locks.
  const { configs, drop } = await createThrowawayDatabases(url, ['tm', 'sm'], { prefix: 'rotor_repo', maxConnections: 8 });
  return { configs: [configs[0]!, configs[1]!], drop };
}
