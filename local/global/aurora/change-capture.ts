import { sql, type Kysely } from 'kysely';
import { ReplicationSetupError } from '#local/global/aurora/errors.ts';
import { parseJsonExactly } from '#local/global/aurora/exact-json.ts';

/**
 * Change capture for the twin's Aurora Global Database: on AWS, storage-level replication ships every committed
 * page; here row triggers append each change to `rotor_replication.changes` in the changing transaction itself,
 * so a change is in the log exactly when it is committed.
 *
 * Log order equals commit order because the capture trigger takes one transaction-scoped advisory lock before
 * numbering a change: a second writing transaction waits until the first has committed (or rolled back), so a
 * transaction's changes get consecutive LSNs and no lower LSN can become visible after a higher one. A shipper
 * can therefore read "everything after my position" and never skip a late commit. The price is that writing
 * transactions on replicated tables run one at a time on the writer, which the twin can afford.
 */

// Any Kysely: replicated tables belong to the apps, and the replication schema is addressed with raw SQL.
export type AnyKysely = Kysely<any>;

export type ChangeOperation = 'INSERT' | 'UPDATE' | 'DELETE';

/** One captured row change, as kept in the writer's log and reported in an unreplicated tail. */
export interface Change {
  /** Position in the writer's log; increases with commit order across role changes. */
  readonly lsn: number;
  /** The source transaction; changes sharing it were committed together and are applied together. */
  readonly txid: string;
  /** `schema.table`. */
  readonly table: string;
  readonly op: ChangeOperation;
  /** The primary key of the row before the change (for an INSERT, of the new row). */
  readonly primaryKey: Record<string, unknown>;
  /** The row after the change; null for a DELETE. Fractions and integers beyond 2^53 are decimal strings. */
  readonly row: Record<string, unknown> | null;
  /** When the writer captured the change (ISO 8601). */
  readonly capturedAt: string;
}

export interface TableShape {
  readonly schema: string;
  readonly name: string;
  readonly qualifiedName: string;
  readonly columns: readonly string[];
  readonly primaryKey: readonly string[];
}

export const REPLICATION_SCHEMA = 'rotor_replication';
const CAPTURE_TRIGGER = 'rotor_replication_capture';
const NO_TRUNCATE_TRIGGER = 'rotor_replication_no_truncate';
const READ_ONLY_TRIGGER = 'rotor_replication_read_only';
/** Any fixed bigint works; it only has to be the same for every capture in the database. */
const CAPTURE_LOCK_KEY = 7_400_112_233;

const INSTALL_STATEMENTS = [
  `create schema if not exists rotor_replication`,
  `create sequence if not exists rotor_replication.lsn`,
  `create table if not exists rotor_replication.changes (
     lsn bigint primary key,
     txid bigint not null,
     table_name text not null,
     op text not null check (op in ('INSERT', 'UPDATE', 'DELETE')),
     primary_key jsonb not null,
     row_data jsonb,
     captured_at timestamptz not null default clock_timestamp()
   )`,
  `create index if not exists changes_txid on rotor_replication.changes (txid)`,
  // Everything through this LSN is in this database's data but no longer in its log (pruned, or applied before a
  // promotion). Unlike the sequence it is transactional, so a snapshot sees a position that matches its rows.
  `create table if not exists rotor_replication.log_floor (
     singleton boolean primary key default true check (singleton),
     lsn bigint not null
   )`,
  // The secondary's own record of how far it has applied the writer's log: kept with the data, so a restarted
  // shipper resumes exactly where the committed data ends.
  `create table if not exists rotor_replication.apply_position (
     singleton boolean primary key default true check (singleton),
     applied_lsn bigint not null,
     applied_txid bigint,
     applied_at timestamptz not null default clock_timestamp()
   )`,
  `create or replace function rotor_replication.capture() returns trigger language plpgsql as $body$
   declare
     key_source jsonb;
     row_key jsonb := '{}'::jsonb;
     i integer;
   begin
     perform pg_advisory_xact_lock(${CAPTURE_LOCK_KEY});
     if TG_OP = 'INSERT' then key_source := to_jsonb(NEW); else key_source := to_jsonb(OLD); end if;
     for i in 0 .. TG_NARGS - 1 loop
       row_key := row_key || jsonb_build_object(TG_ARGV[i], key_source -> TG_ARGV[i]);
     end loop;
     insert into rotor_replication.changes (lsn, txid, table_name, op, primary_key, row_data)
     values (nextval('rotor_replication.lsn'), pg_current_xact_id()::text::bigint,
             TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP, row_key,
             case when TG_OP = 'DELETE' then null else to_jsonb(NEW) end);
     return null;
   end
   $body$`,
  `create or replace function rotor_replication.reject_truncate() returns trigger language plpgsql as $body$
   begin
     raise exception 'TRUNCATE of replicated table %.% is not replicated; delete the rows instead',
       TG_TABLE_SCHEMA, TG_TABLE_NAME using errcode = 'feature_not_supported';
   end
   $body$`,
  // Same SQLSTATE (25006) and wording as a write sent to an Aurora reader endpoint.
  `create or replace function rotor_replication.reject_write() returns trigger language plpgsql as $body$
   begin
     raise exception 'cannot execute % in a read-only transaction', TG_OP using errcode = 'read_only_sql_transaction';
   end
   $body$`,
];

/**
 * Installs change capture on `tables` (idempotent): the replication schema, a capture trigger per table, and a
 * (disabled) read-only guard used when the database serves as a secondary. Tables are `schema.table` or `table`
 * (public).
 */
export async function enableReplication(db: AnyKysely, tables: readonly string[]): Promise<TableShape[]> {
  for (const statement of INSTALL_STATEMENTS) await sql.raw(statement).execute(db);
  const shapes: TableShape[] = [];
  for (const table of tables) {
    const shape = await describeTable(db, table);
    const existing = await existingTriggers(db, shape);
    const target = sql.id(shape.schema, shape.name);
    const keyArguments = sql.join(shape.primaryKey.map((column) => sql.lit(column)));
    if (!existing.has(CAPTURE_TRIGGER)) {
      await sql`create trigger ${sql.id(CAPTURE_TRIGGER)} after insert or update or delete on ${target}
        for each row execute function rotor_replication.capture(${keyArguments})`.execute(db);
    }
    if (!existing.has(NO_TRUNCATE_TRIGGER)) {
      await sql`create trigger ${sql.id(NO_TRUNCATE_TRIGGER)} before truncate on ${target}
        for each statement execute function rotor_replication.reject_truncate()`.execute(db);
    }
    if (!existing.has(READ_ONLY_TRIGGER)) {
      await sql`create trigger ${sql.id(READ_ONLY_TRIGGER)} before insert or update or delete or truncate on ${target}
        for each statement execute function rotor_replication.reject_write()`.execute(db);
      await sql`alter table ${target} disable trigger ${sql.id(READ_ONLY_TRIGGER)}`.execute(db);
    }
    shapes.push(shape);
  }
  return shapes;
}

/**
 * Makes the database accept writes (capture on, guard off) or reject them (guard on, capture off). Each table is
 * switched in its own statement: ALTER TABLE waits for transactions that are writing the table, so once every
 * table is guarded no transaction with uncaptured-yet-uncommitted writes remains, without one big lock that
 * could deadlock against an application transaction spanning several tables.
 */
export async function setWritable(db: AnyKysely, tables: readonly TableShape[], writable: boolean): Promise<void> {
  for (const table of tables) {
    const target = sql.id(table.schema, table.name);
    if (writable) {
      await sql`alter table ${target} enable trigger ${sql.id(CAPTURE_TRIGGER)},
        enable trigger ${sql.id(NO_TRUNCATE_TRIGGER)}, disable trigger ${sql.id(READ_ONLY_TRIGGER)}`.execute(db);
    } else {
      await sql`alter table ${target} enable trigger ${sql.id(READ_ONLY_TRIGGER)},
        disable trigger ${sql.id(CAPTURE_TRIGGER)}, disable trigger ${sql.id(NO_TRUNCATE_TRIGGER)}`.execute(db);
    }
  }
}

/**
 * Starts this database's log where the one it replicated left off: numbering continues after `lsn`, so a promoted
 * writer's changes sort after everything it applied, and its own older log (from an earlier term as writer) goes.
 */
export async function startLogAfter(db: AnyKysely, lsn: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`delete from rotor_replication.changes`.execute(trx);
    await setLogFloor(trx, lsn);
    await sql`select setval('rotor_replication.lsn', greatest(${lsn}::bigint,
      (select last_value from rotor_replication.lsn), 1))`.execute(trx);
  });
}

async function setLogFloor(db: AnyKysely, lsn: number): Promise<void> {
  await sql`insert into rotor_replication.log_floor (singleton, lsn) values (true, ${lsn})
    on conflict (singleton) do update set lsn = greatest(rotor_replication.log_floor.lsn, excluded.lsn)`.execute(db);
}

/** The position of the last committed change visible to `db` (a transaction's snapshot, when given one). */
export async function logHead(db: AnyKysely): Promise<number> {
  const { rows } = await sql<{ lsn: string | null }>`
    select greatest((select max(lsn) from rotor_replication.changes),
                    (select lsn from rotor_replication.log_floor), 0) as lsn`.execute(db);
  return Number(rows[0]?.lsn ?? 0);
}

/** The oldest unapplied change's age on the writer's clock, and how many changes are unapplied. */
export async function backlogAfter(db: AnyKysely, lsn: number): Promise<{ lagMs: number; backlog: number }> {
  const { rows } = await sql<{ age_ms: number | null; backlog: string }>`
    select (extract(epoch from clock_timestamp() - min(captured_at)) * 1000)::float8 as age_ms, count(*) as backlog
    from rotor_replication.changes where lsn > ${lsn}`.execute(db);
  const row = rows[0];
  return { lagMs: Math.max(0, Math.round(row?.age_ms ?? 0)), backlog: Number(row?.backlog ?? 0) };
}

/** A change as shipped: key and row stay PostgreSQL's JSON text, so no value passes through a JavaScript number. */
export interface ShippedChange {
  readonly lsn: number;
  readonly txid: string;
  readonly table: string;
  readonly op: ChangeOperation;
  readonly keyJson: string;
  readonly rowJson: string | null;
}

/** Whether change capture was ever installed in this database (the replication schema exists). */
export async function replicationInstalled(db: AnyKysely): Promise<boolean> {
  const { rows } = await sql<{ installed: boolean }>`
    select exists (select 1 from pg_namespace where nspname = ${REPLICATION_SCHEMA}) as installed`.execute(db);
  return rows[0]?.installed === true;
}

/** The tables carrying the capture trigger, as `schema.table`: what an earlier `enableReplication` set up. */
export async function replicatedTableNames(db: AnyKysely): Promise<string[]> {
  const { rows } = await sql<{ qualified_name: string }>`
    select n.nspname || '.' || c.relname as qualified_name from pg_trigger t
    join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    where t.tgname = ${CAPTURE_TRIGGER} and not t.tgisinternal
    order by 1`.execute(db);
  return rows.map((row) => row.qualified_name);
}

export interface PendingTransaction {
  readonly txid: string;
  /** Age of the transaction's last change on the writer's clock: how long ago it committed, near enough. */
  readonly ageMs: number;
  readonly changes: readonly ShippedChange[];
}

/** The next `limit` whole source transactions after `lsn`, oldest first. */
export async function pendingTransactions(db: AnyKysely, lsn: number, limit: number): Promise<PendingTransaction[]> {
  const { rows } = await sql<ChangeRow & { age_ms: number }>`
    with pending as (
      select txid, min(lsn) as first_lsn, max(captured_at) as last_captured_at
      from rotor_replication.changes where lsn > ${lsn}
      group by txid order by min(lsn) limit ${limit}
    )
    select c.lsn, c.txid, c.table_name, c.op, c.primary_key::text as key_json, c.row_data::text as row_json,
           c.captured_at, (extract(epoch from clock_timestamp() - p.last_captured_at) * 1000)::float8 as age_ms
    from rotor_replication.changes c join pending p on p.txid = c.txid
    where c.lsn > ${lsn} order by c.lsn`.execute(db);
  const transactions: Array<{ txid: string; ageMs: number; changes: ShippedChange[] }> = [];
  for (const row of rows) {
    const change = toShippedChange(row);
    const current = transactions.at(-1);
    if (current && current.txid === change.txid) current.changes.push(change);
    else transactions.push({ txid: change.txid, ageMs: row.age_ms, changes: [change] });
  }
  return transactions;
}

/** Every change in the log after `lsn`: on a returning old writer, the changes its secondary never received. */
export async function changesAfter(db: AnyKysely, lsn: number): Promise<Change[]> {
  const { rows } = await sql<ChangeRow>`
    select lsn, txid, table_name, op, primary_key::text as key_json, row_data::text as row_json, captured_at
    from rotor_replication.changes where lsn > ${lsn} order by lsn`.execute(db);
  return rows.map(toChange);
}

/** Drops log entries every secondary has applied; a failover only ever needs what lies beyond them. */
export async function pruneLogThrough(db: AnyKysely, lsn: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`delete from rotor_replication.changes where lsn <= ${lsn}`.execute(trx);
    await setLogFloor(trx, lsn);
  });
}

interface ChangeRow {
  lsn: string;
  txid: string;
  table_name: string;
  op: ChangeOperation;
  key_json: string;
  row_json: string | null;
  captured_at: Date;
}

function toShippedChange(row: ChangeRow): ShippedChange {
  return {
    lsn: Number(row.lsn),
    txid: String(row.txid),
    table: row.table_name,
    op: row.op,
    keyJson: row.key_json,
    rowJson: row.row_json,
  };
}

function toChange(row: ChangeRow): Change {
  return {
    lsn: Number(row.lsn),
    txid: String(row.txid),
    table: row.table_name,
    op: row.op,
    primaryKey: parseJsonExactly(row.key_json) as Record<string, unknown>,
    row: row.row_json === null ? null : (parseJsonExactly(row.row_json) as Record<string, unknown>),
    capturedAt: new Date(row.captured_at).toISOString(),
  };
}

export async function describeTable(db: AnyKysely, table: string): Promise<TableShape> {
  const [schema, name] = table.includes('.') ? table.split('.', 2) : ['public', table];
  const qualifiedName = `${schema}.${name}`;
  const { rows: columns } = await sql<{ attname: string }>`
    select a.attname from pg_attribute a
    join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${schema} and c.relname = ${name} and c.relkind in ('r', 'p')
      and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
    order by a.attnum`.execute(db);
  if (columns.length === 0) {
    throw new ReplicationSetupError(`cannot replicate ${qualifiedName}: no such table (create it before replicating it)`);
  }
  const { rows: keys } = await sql<{ attname: string }>`
    select a.attname from pg_index i
    join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
    cross join lateral unnest(i.indkey) with ordinality as k(attnum, position)
    join pg_attribute a on a.attrelid = c.oid and a.attnum = k.attnum
    where n.nspname = ${schema} and c.relname = ${name} and i.indisprimary
    order by k.position`.execute(db);
  if (keys.length === 0) {
    throw new ReplicationSetupError(
      `cannot replicate ${qualifiedName}: it has no primary key, so its changes cannot be applied to one row`,
    );
  }
  return {
    schema: schema!,
    name: name!,
    qualifiedName,
    columns: columns.map((column) => column.attname),
    primaryKey: keys.map((key) => key.attname),
  };
}

async function existingTriggers(db: AnyKysely, table: TableShape): Promise<Set<string>> {
  const { rows } = await sql<{ tgname: string }>`
    select t.tgname from pg_trigger t
    join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = ${table.schema} and c.relname = ${table.name} and not t.tgisinternal`.execute(db);
  return new Set(rows.map((row) => row.tgname));
}
