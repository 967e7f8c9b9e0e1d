import type { ColumnType, Generated, Kysely, MigrationResult } from 'kysely';
import type { Settlement } from '#domain/settlement.ts';
import type { SettlementStatus } from '#domain/status.ts';
import { OUTBOX_IDS_PAST_A_LOST_TAIL, OUTBOX_STATEMENTS, type OutboxTable } from '#shared/adapters/postgres/migrations/outbox-table.ts';
import {
  runStatementMigrations,
  schemaStatements,
  type StatementMigration,
} from '#shared/adapters/postgres/migrations/run-migrations.ts';

/**
 * The settlement app's database (`sm-db`): settlements, the ledger and the outbox.
 *
 * A settlement pair is posted once: `ledger_pairs` takes the pair id as its primary key and is written in the
 * same transaction as the postings, so a second posting of the pair finds the row and records nothing.
 * A posting moves either cash or one security; `security` is null exactly for cash, so a security whose symbol
 * happens to be `CASH` can never be mistaken for money.
 */

const SETTLEMENT_STATUSES = "'UNMATCHED', 'SETTLED', 'MISMATCHED'";

export const SETTLEMENT_MIGRATIONS: readonly StatementMigration[] = [
  {
    name: '0001_settlements_ledger_outbox',
    statements: [
      `create table if not exists settlements (
         id text primary key,
         pair_id text not null,
         sender_id text not null,
         im_id text not null,
         broker_id text not null,
         trade_id text not null,
         allocation_id integer not null check (allocation_id > 0),
         security text not null,
         transaction_indicator text not null check (transaction_indicator in ('B', 'S')),
         price numeric(38, 6) not null check (price > 0),
         quantity bigint not null check (quantity > 0),
         account text not null,
         trade_date date not null,
         settlement_date date not null check (settlement_date >= trade_date),
         delivery_instructions text,
         status text not null check (status in (${SETTLEMENT_STATUSES})),
         settlement jsonb not null,
         created_at timestamptz not null default now(),
         updated_at timestamptz not null default now()
       )`,
      `create index if not exists settlements_pair on settlements (pair_id)`,
      `create table if not exists ledger_pairs (
         pair_id text primary key,
         posted_at timestamptz not null default now()
       )`,
      `create table if not exists ledger_postings (
         pair_id text not null references ledger_pairs (pair_id),
         posting_index smallint not null check (posting_index >= 0),
         account text not null,
         kind text not null check (kind in ('cash', 'security')),
         security text,
         amount numeric(38, 6) not null,
         primary key (pair_id, posting_index),
         check ((kind = 'cash') = (security is null)),
         check (kind = 'cash' or amount = trunc(amount))
       )`,
      `create index if not exists ledger_postings_account on ledger_postings (account)`,
      ...OUTBOX_STATEMENTS,
    ],
  },
  { name: '0002_outbox_ids_past_a_lost_tail', statements: [...OUTBOX_IDS_PAST_A_LOST_TAIL] },
];

/** The tables an Aurora Global Database replicates for settlement (each has a primary key). */
export const SETTLEMENT_TABLES: readonly string[] = ['settlements', 'ledger_pairs', 'ledger_postings', 'outbox'];

/** Idempotent DDL creating every table, for an Aurora Global Database's `schema` option. */
export const SETTLEMENT_SCHEMA: readonly string[] = schemaStatements(SETTLEMENT_MIGRATIONS);

export async function migrateSettlementDatabase(db: Kysely<any>): Promise<readonly MigrationResult[]> {
  return runStatementMigrations(db, 'settlement', SETTLEMENT_MIGRATIONS, {
    migrationTableName: 'sm_migrations',
    migrationLockTableName: 'sm_migrations_lock',
  });
}

type Numeric = ColumnType<string, string, string>;
type Int8 = ColumnType<string, string | number, string | number>;
type IsoDate = ColumnType<string, string, string>;

export interface SettlementsTable {
  id: string;
  pair_id: string;
  sender_id: string;
  im_id: string;
  broker_id: string;
  trade_id: string;
  allocation_id: number;
  security: string;
  transaction_indicator: Settlement['transactionIndicator'];
  price: Numeric;
  quantity: Int8;
  account: string;
  trade_date: IsoDate;
  settlement_date: IsoDate;
  delivery_instructions: string | null;
  status: SettlementStatus;
  settlement: Settlement;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface LedgerPairsTable {
  pair_id: string;
  posted_at: Generated<Date>;
}

export interface LedgerPostingsTable {
  pair_id: string;
  posting_index: number;
  account: string;
  kind: 'cash' | 'security';
  security: string | null;
  amount: Numeric;
}

export interface SettlementDatabase {
  settlements: SettlementsTable;
  ledger_pairs: LedgerPairsTable;
  ledger_postings: LedgerPostingsTable;
  outbox: OutboxTable;
}
