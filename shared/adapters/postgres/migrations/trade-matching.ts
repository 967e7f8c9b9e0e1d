import type { ColumnType, Generated, Kysely, MigrationResult } from 'kysely';
import type { AllocationStatus, TradeStatus } from '#domain/status.ts';
import type { TradeLeg } from '#domain/trade-leg.ts';
import { OUTBOX_IDS_PAST_A_LOST_TAIL, OUTBOX_STATEMENTS, type OutboxTable } from '#shared/adapters/postgres/migrations/outbox-table.ts';
import {
  runStatementMigrations,
  schemaStatements,
  type StatementMigration,
} from '#shared/adapters/postgres/migrations/run-migrations.ts';

/**
 * The trade matching app's database (`tm-db`): trades, their allocations and the outbox.
 *
 * Every leg field has a column, so operators and reconciliation can query trades in SQL with the right types;
 * `leg` keeps the leg exactly as received (the price text as sent, `deliveryInstructions` absent or present),
 * which is what the repository hands back, and `canonical_leg` holds `TradeLeg.canonical(leg)`, so two stored
 * legs say the same thing exactly when their canonical forms are equal, also in SQL.
 */

const TRADE_STATUSES = "'UNMATCHED', 'MATCHED', 'MISMATCHED', 'SETTLED'";
const ALLOCATION_STATUSES = "'UNSETTLED', 'SETTLED', 'MISMATCHED'";

export const TRADE_MATCHING_MIGRATIONS: readonly StatementMigration[] = [
  {
    name: '0001_trades_allocations_outbox',
    statements: [
      `create table if not exists trades (
         id text primary key,
         sender_id text not null,
         im_id text not null,
         broker_id text not null,
         trade_id text not null,
         security text not null,
         transaction_indicator text not null check (transaction_indicator in ('B', 'S')),
         price numeric(38, 6) not null check (price > 0),
         quantity bigint not null check (quantity > 0),
         trade_date date not null,
         settlement_date date not null check (settlement_date >= trade_date),
         delivery_instructions text,
         status text not null check (status in (${TRADE_STATUSES})),
         leg jsonb not null,
         canonical_leg jsonb not null,
         created_at timestamptz not null default now(),
         updated_at timestamptz not null default now()
       )`,
      // The counterpart lookup of DESIGN §3.3 rule 1, for SQL-side matching and reconciliation queries.
      `create index if not exists trades_match_key
         on trades (im_id, broker_id, trade_id, transaction_indicator, trade_date, settlement_date)`,
      `create table if not exists allocations (
         trade_id text not null references trades (id) on delete cascade,
         allocation_id integer not null check (allocation_id > 0),
         quantity bigint not null check (quantity > 0),
         account text not null,
         status text not null check (status in (${ALLOCATION_STATUSES})),
         updated_at timestamptz not null default now(),
         primary key (trade_id, allocation_id)
       )`,
      ...OUTBOX_STATEMENTS,
    ],
  },
  { name: '0002_outbox_ids_past_a_lost_tail', statements: [...OUTBOX_IDS_PAST_A_LOST_TAIL] },
];

/** The tables an Aurora Global Database replicates for trade matching (each has a primary key). */
export const TRADE_MATCHING_TABLES: readonly string[] = ['trades', 'allocations', 'outbox'];

/** Idempotent DDL creating every table, for an Aurora Global Database's `schema` option. */
export const TRADE_MATCHING_SCHEMA: readonly string[] = schemaStatements(TRADE_MATCHING_MIGRATIONS);

export async function migrateTradeMatchingDatabase(db: Kysely<any>): Promise<readonly MigrationResult[]> {
  return runStatementMigrations(db, 'trade matching', TRADE_MATCHING_MIGRATIONS, {
    migrationTableName: 'tm_migrations',
    migrationLockTableName: 'tm_migrations_lock',
  });
}

type Numeric = ColumnType<string, string, string>;
type Int8 = ColumnType<string, string | number, string | number>;
type IsoDate = ColumnType<string, string, string>;

export interface TradesTable {
  id: string;
  sender_id: string;
  im_id: string;
  broker_id: string;
  trade_id: string;
  security: string;
  transaction_indicator: TradeLeg['transactionIndicator'];
  price: Numeric;
  quantity: Int8;
  trade_date: IsoDate;
  settlement_date: IsoDate;
  delivery_instructions: string | null;
  status: TradeStatus;
  leg: TradeLeg;
  canonical_leg: TradeLeg;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface AllocationsTable {
  trade_id: string;
  allocation_id: number;
  quantity: Int8;
  account: string;
  status: AllocationStatus;
  updated_at: Generated<Date>;
}

export interface TradeMatchingDatabase {
  trades: TradesTable;
  allocations: AllocationsTable;
  outbox: OutboxTable;
}
