import { sql, type Transaction } from 'kysely';
import { logHead, type AnyKysely, type ShippedChange, type TableShape } from '#local/global/aurora/change-capture.ts';
import { ReplicationSetupError } from '#local/global/aurora/errors.ts';

/**
 * Applying the writer's changes on a secondary. Every apply runs with `session_replication_role = replica`,
 * the mode PostgreSQL's own logical replication uses: ordinary triggers do not fire, so neither the read-only
 * guard (handlers stay locked out while the shipper writes) nor foreign-key checks and cascades (the writer
 * already ran them and captured their effects) get in the way. Setting it needs a superuser, which PGlite's
 * session and the twin's PostgreSQL user are.
 */

const RESYNC_CHUNK_ROWS = 500;

export interface ApplyPosition {
  readonly lsn: number;
  readonly txid: string | null;
}

/** Undefined when the database has never been a secondary (it has to be seeded from a snapshot first). */
export async function readApplyPosition(db: AnyKysely): Promise<ApplyPosition | undefined> {
  const { rows } = await sql<{ applied_lsn: string; applied_txid: string | null }>`
    select applied_lsn, applied_txid from rotor_replication.apply_position`.execute(db);
  const row = rows[0];
  if (!row) return undefined;
  return { lsn: Number(row.applied_lsn), txid: row.applied_txid == null ? null : String(row.applied_txid) };
}

/** Turns a former writer that holds exactly the data up to `lsn` into a secondary positioned there. */
export async function becomeSecondaryAt(db: AnyKysely, lsn: number): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await sql`delete from rotor_replication.changes`.execute(trx);
    await writeApplyPosition(trx, { lsn, txid: null });
  });
}

export async function writeApplyPosition(db: AnyKysely | Transaction<any>, position: ApplyPosition): Promise<void> {
  await sql`
    insert into rotor_replication.apply_position (singleton, applied_lsn, applied_txid, applied_at)
    values (true, ${position.lsn}, ${position.txid}, clock_timestamp())
    on conflict (singleton) do update
      set applied_lsn = excluded.applied_lsn, applied_txid = excluded.applied_txid, applied_at = excluded.applied_at`
    .execute(db);
}

/**
 * Applies source transactions in log order and advances the position, in one target transaction: all of them or
 * none, so the secondary always holds a prefix of the writer's log. One commit for a shipped page instead of one
 * per source transaction keeps a busy writer's secondary from spending its time committing.
 */
export async function applyTransactions(
  db: AnyKysely,
  tables: ReadonlyMap<string, TableShape>,
  transactions: readonly (readonly ShippedChange[])[],
): Promise<void> {
  const last = transactions.at(-1)?.at(-1);
  if (!last) return;
  await db.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    for (const changes of transactions) for (const change of changes) await applyChange(trx, shapeOf(tables, change.table), change);
    await writeApplyPosition(trx, { lsn: last.lsn, txid: last.txid });
  });
}

async function applyChange(trx: Transaction<any>, table: TableShape, change: ShippedChange): Promise<void> {
  const target = sql.id(table.schema, table.name);
  const keyColumns = sql.join(table.primaryKey.map((column) => sql.id(column)));
  const keyOf = (json: string) => sql`(select ${keyColumns} from jsonb_populate_record(null::${target}, ${json}::jsonb))`;
  if (change.op === 'DELETE') {
    await sql`delete from ${target} where (${keyColumns}) = ${keyOf(change.keyJson)}`.execute(trx);
  } else if (change.op === 'UPDATE' && change.rowJson !== null) {
    // An update that changed the primary key moves the row: the old key must go, or the upsert leaves it behind.
    await sql`delete from ${target} where (${keyColumns}) = ${keyOf(change.keyJson)}
      and (${keyColumns}) <> ${keyOf(change.rowJson)}`.execute(trx);
  }
  if (change.rowJson !== null) await upsertRows(trx, table, `[${change.rowJson}]`);
}

/** Converting through the table's row type gives every column its declared type, whatever JSON carried it. */
async function upsertRows(trx: Transaction<any>, table: TableShape, rowsJson: string): Promise<void> {
  const target = sql.id(table.schema, table.name);
  const columns = sql.join(table.columns.map((column) => sql.id(column)));
  const keyColumns = sql.join(table.primaryKey.map((column) => sql.id(column)));
  const otherColumns = table.columns.filter((column) => !table.primaryKey.includes(column));
  const onConflict =
    otherColumns.length === 0
      ? sql`do nothing`
      : sql`do update set ${sql.join(otherColumns.map((column) => sql`${sql.id(column)} = excluded.${sql.id(column)}`))}`;
  await sql`insert into ${target} (${columns})
    select ${columns} from jsonb_populate_recordset(null::${target}, ${rowsJson}::jsonb)
    on conflict (${keyColumns}) ${onConflict}`.execute(trx);
}

function shapeOf(tables: ReadonlyMap<string, TableShape>, table: string): TableShape {
  const shape = tables.get(table);
  if (!shape) throw new ReplicationSetupError(`the writer logged a change to ${table}, which this secondary does not replicate`);
  return shape;
}

/** A writer's replicated rows (PostgreSQL JSON text per row) and the log position they correspond to. */
export interface TableSnapshot {
  readonly lsn: number;
  /** `schema.table` → one JSON object text per row. */
  readonly tables: Readonly<Record<string, readonly string[]>>;
}

/**
 * Reads the rows and the log position in one repeatable-read snapshot, so the position matches the rows. Rows stay
 * PostgreSQL's JSON text, so no value passes through a JavaScript number.
 */
export async function takeSnapshot(writer: AnyKysely, tables: readonly TableShape[]): Promise<TableSnapshot> {
  return writer
    .transaction()
    .setIsolationLevel('repeatable read')
    .setAccessMode('read only')
    .execute(async (trx) => {
      const lsn = await logHead(trx);
      const contents: Record<string, string[]> = {};
      for (const table of tables) {
        const result = await sql<{ row_json: string }>`
          select to_jsonb(t)::text as row_json from ${sql.id(table.schema, table.name)} t`.execute(trx);
        contents[table.qualifiedName] = result.rows.map((row) => row.row_json);
      }
      return { lsn, tables: contents };
    });
}

/**
 * Rebuilds a secondary as an exact copy of the snapshot's writer, the way Aurora re-creates a detached cluster as
 * a new secondary: its replicated tables are replaced and its position set in one transaction, so either the old
 * data and position stay, or the new ones are complete. Returns the position it now holds.
 */
export async function restoreSnapshot(
  secondary: AnyKysely,
  tables: readonly TableShape[],
  snapshot: TableSnapshot,
): Promise<number> {
  await secondary.transaction().execute(async (trx) => {
    await sql`set local session_replication_role = replica`.execute(trx);
    for (const table of tables) await sql`delete from ${sql.id(table.schema, table.name)}`.execute(trx);
    for (const table of tables) {
      const rows = snapshot.tables[table.qualifiedName] ?? [];
      for (let start = 0; start < rows.length; start += RESYNC_CHUNK_ROWS) {
        await upsertRows(trx, table, `[${rows.slice(start, start + RESYNC_CHUNK_ROWS).join(',')}]`);
      }
    }
    // Its old log (from a term as writer) describes data that has just been replaced.
    await sql`delete from rotor_replication.changes`.execute(trx);
    await sql`insert into rotor_replication.log_floor (singleton, lsn) values (true, ${snapshot.lsn})
      on conflict (singleton) do update set lsn = excluded.lsn`.execute(trx);
    await writeApplyPosition(trx, { lsn: snapshot.lsn, txid: null });
  });
  return snapshot.lsn;
}
