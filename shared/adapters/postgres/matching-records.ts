import type { Kysely } from 'kysely';
import type { SettlementRecord } from '#domain/settlement.ts';
import type { TradeRecord } from '#domain/trade-matching.ts';
import type { SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import type { TradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';

/**
 * The matching databases' records read by id, many at a time, for reconciliation. Each comes in the shape the
 * matching safe store mirrors it (`{ id, status, record }`), so one test judges the database and its mirror alike.
 * The database is the record of what matching did: after an Aurora failover its mirror (a global table) can hold
 * states the promoted writer never received.
 */

export interface MatchingRecordItem {
  readonly id: string;
  readonly status: string;
  readonly record: TradeRecord | SettlementRecord;
}

export interface MatchingRecordReader {
  byIds(ids: readonly string[]): Promise<ReadonlyMap<string, MatchingRecordItem>>;
}

/** Ids per query: a bounded parameter list. */
const CHUNK = 500;

const chunks = <T>(values: readonly T[]): T[][] => Array.from({ length: Math.ceil(values.length / CHUNK) }, (_, index) => values.slice(index * CHUNK, (index + 1) * CHUNK));

export class PostgresTradeRecords implements MatchingRecordReader {
  constructor(private readonly db: Kysely<TradeMatchingDatabase>) {}

  async byIds(ids: readonly string[]): Promise<ReadonlyMap<string, MatchingRecordItem>> {
    const found = new Map<string, MatchingRecordItem>();
    for (const chunk of chunks([...new Set(ids)])) {
      const trades = await whenMigrated(() => this.db.selectFrom('trades').select(['id', 'leg', 'status']).where('id', 'in', chunk).execute());
      if (trades.length === 0) continue;
      const allocations = await this.db
        .selectFrom('allocations')
        .select(['trade_id', 'allocation_id', 'status'])
        .where('trade_id', 'in', trades.map((trade) => trade.id))
        .orderBy('allocation_id')
        .execute();
      const byTrade = new Map<string, typeof allocations>();
      for (const allocation of allocations) byTrade.set(allocation.trade_id, [...(byTrade.get(allocation.trade_id) ?? []), allocation]);
      for (const trade of trades) {
        const own = byTrade.get(trade.id) ?? [];
        const record: TradeRecord = { id: trade.id, leg: trade.leg, status: trade.status, allocations: Object.fromEntries(own.map((a) => [String(a.allocation_id), a.status])) };
        found.set(trade.id, { id: trade.id, status: trade.status, record });
      }
    }
    return found;
  }
}

export class PostgresSettlementRecords implements MatchingRecordReader {
  constructor(private readonly db: Kysely<SettlementDatabase>) {}

  async byIds(ids: readonly string[]): Promise<ReadonlyMap<string, MatchingRecordItem>> {
    const found = new Map<string, MatchingRecordItem>();
    for (const chunk of chunks([...new Set(ids)])) {
      const rows = await whenMigrated(() => this.db.selectFrom('settlements').select(['id', 'settlement', 'status']).where('id', 'in', chunk).execute());
      for (const row of rows) found.set(row.id, { id: row.id, status: row.status, record: { id: row.id, settlement: row.settlement, status: row.status } });
    }
    return found;
  }
}

/** A database matching never wrote to has no tables yet (it migrates on first use): it holds no records. */
async function whenMigrated<T>(query: () => Promise<T[]>): Promise<T[]> {
  try {
    return await query();
  } catch (error) {
    const code = (error as { code?: unknown } | undefined)?.code;
    if (code === '42P01' || (error instanceof Error && /relation "\w+" does not exist/.test(error.message))) return [];
    throw error;
  }
}
