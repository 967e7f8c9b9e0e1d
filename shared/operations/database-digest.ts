import { createHash } from 'node:crypto';
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { SETTLEMENT_TABLES } from '#shared/adapters/postgres/migrations/settlement.ts';
import { TRADE_MATCHING_TABLES } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import type { AppName } from '#shared/topology/schema.ts';
import { canonicalJson, sha256 } from './table-digest.ts';

/**
 * A content digest of an app's PostgreSQL database: its business tables (shared/adapters/postgres/migrations),
 * each row as PostgreSQL's own JSON of it (`to_jsonb`, keys in jsonb's fixed order, numeric text exact, times in
 * UTC), rows in primary-key order (text keys in byte order, whatever the database's collation). Left out: columns
 * that change when nothing happened to the data, i.e. `outbox.relayed_at`, which a no-op re-emission or the relay
 * of a row sets after the fact.
 *
 * Rows are read a page at a time, each page in its own short transaction: PGlite has one session, which a long
 * transaction would take from the stages.
 */

interface KeyColumn {
  readonly column: string;
  readonly type: 'text' | 'bigint';
}

export interface DigestedTable {
  readonly table: string;
  /** The primary key, in order. */
  readonly key: readonly KeyColumn[];
  readonly omit: readonly string[];
}

const text = (column: string): KeyColumn => ({ column, type: 'text' });
const integer = (column: string): KeyColumn => ({ column, type: 'bigint' });
const OUTBOX: DigestedTable = { table: 'outbox', key: [integer('id')], omit: ['relayed_at'] };

/** Every business table of each app's database; a test holds these to the migrations' table lists. */
export const DIGESTED_TABLES: Record<AppName, readonly DigestedTable[]> = {
  'trade-matching': [
    { table: 'trades', key: [text('id')], omit: [] },
    { table: 'allocations', key: [text('trade_id'), integer('allocation_id')], omit: [] },
    OUTBOX,
  ],
  settlement: [
    { table: 'settlements', key: [text('id')], omit: [] },
    { table: 'ledger_pairs', key: [text('pair_id')], omit: [] },
    { table: 'ledger_postings', key: [text('pair_id'), integer('posting_index')], omit: [] },
    OUTBOX,
  ],
};

/** The tables the migrations create, for the test that keeps `DIGESTED_TABLES` complete. */
export const MIGRATED_TABLES: Record<AppName, readonly string[]> = { 'trade-matching': TRADE_MATCHING_TABLES, settlement: SETTLEMENT_TABLES };

export interface DatabaseDigest {
  readonly rows: number;
  readonly digest: string;
}

export interface DatabaseDigestOptions {
  readonly pageSize?: number;
}

export async function digestDatabase(db: Kysely<any>, app: AppName, options: DatabaseDigestOptions = {}): Promise<DatabaseDigest> {
  const tables: Record<string, string> = {};
  let rows = 0;
  for (const table of DIGESTED_TABLES[app]) {
    const digested = await digestRows(db, table, options.pageSize ?? 1_000);
    tables[table.table] = digested.digest;
    rows += digested.rows;
  }
  return { rows, digest: sha256(canonicalJson(tables)) };
}

async function digestRows(db: Kysely<any>, table: DigestedTable, pageSize: number): Promise<DatabaseDigest> {
  const hash = createHash('sha256');
  let rows = 0;
  let after: readonly string[] | undefined;
  for (;;) {
    let page: Array<Record<string, string>>;
    try {
      page = await db.transaction().execute(async (trx) => {
        await sql`set local timezone to 'UTC'`.execute(trx);
        return (await pageQuery(table, after, pageSize).execute(trx)).rows as Array<Record<string, string>>;
      });
    } catch (error) {
      // A database the stages never wrote to may not have its tables yet (they migrate on first use): no rows.
      if (after === undefined && isMissingRelation(error)) break;
      throw error;
    }
    for (const row of page) hash.update(`${row.content}\n`);
    rows += page.length;
    if (page.length < pageSize) break;
    const last = page.at(-1)!;
    after = table.key.map((_, index) => last[`k${index}`]!);
  }
  return { rows, digest: hash.digest('hex') };
}

function pageQuery(table: DigestedTable, after: readonly string[] | undefined, pageSize: number): RawBuilder<unknown> {
  const keyOf = ({ column, type }: KeyColumn) => (type === 'text' ? sql`t.${sql.ref(column)} collate "C"` : sql`t.${sql.ref(column)}`);
  const keys = sql.join(table.key.map(keyOf));
  const keyTexts = sql.join(table.key.map(({ column }, index) => sql`t.${sql.ref(column)}::text as ${sql.ref(`k${index}`)}`));
  const content = table.omit.reduce<RawBuilder<unknown>>((json, column) => sql`${json} - ${column}::text`, sql`to_jsonb(t)`);
  const bound = after
    ? sql`where (${keys}) > (${sql.join(table.key.map(({ type }, index) => (type === 'text' ? sql`${after[index]}::text collate "C"` : sql`${after[index]}::bigint`)))})`
    : sql``;
  return sql`select ${keyTexts}, (${content})::text as content from ${sql.table(table.table)} t ${bound} order by ${keys} limit ${pageSize}`;
}

function isMissingRelation(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '42P01' || (error instanceof Error && /relation "[^"]+" does not exist/.test(error.message));
}
