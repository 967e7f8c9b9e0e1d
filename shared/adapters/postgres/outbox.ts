import { sql, type Kysely } from 'kysely';
import { jsonb } from '#shared/adapters/postgres/json-column.ts';
import type { OutboxTable } from '#shared/adapters/postgres/migrations/outbox-table.ts';
import type { SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import type { TradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';

/**
 * The transactional outbox (DESIGN §3.3): events are appended in the transaction that changes the state they
 * describe, so a committed match always has its events and a rolled-back one never does. A relay reads the
 * unrelayed rows in id order, forwards them, and marks them relayed; a replayed input re-emits what the outbox
 * already holds for its aggregate instead of being dropped.
 */

export interface OutboxEvent {
  /** The trade or settlement id the event is about; the relay's partition key derives from it. */
  aggregateId: string;
  eventType: string;
  /** Anything JSON.stringify turns into the intended JSON (records holding `Decimal`s serialise as decimal text). */
  payload: unknown;
}

export interface StoredOutboxEvent extends OutboxEvent {
  /** Decimal text of a bigint: ids outgrow a JavaScript number's exact range long before the table fills. */
  id: string;
  createdAt: Date;
  relayedAt: Date | null;
}

interface OutboxDatabase {
  outbox: OutboxTable;
}

export class PostgresOutbox {
  readonly #db: Kysely<OutboxDatabase>;

  constructor(db: Kysely<TradeMatchingDatabase> | Kysely<SettlementDatabase>) {
    // Both apps' databases carry the same outbox table; kysely cannot see one database type as a part of another.
    this.#db = db as unknown as Kysely<OutboxDatabase>;
  }

  /** Appends in order; resolves the ids given, ascending. */
  async append(events: readonly OutboxEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const rows = await this.#db
      .insertInto('outbox')
      .values(
        events.map((event) => ({
          aggregate_id: event.aggregateId,
          event_type: event.eventType,
          payload: jsonb(event.payload),
          relayed_at: null,
        })),
      )
      .returning('id')
      .execute();
    return rows.map((row) => row.id);
  }

  /** The oldest events not yet relayed. */
  async unrelayed(limit: number): Promise<StoredOutboxEvent[]> {
    const rows = await this.#db
      .selectFrom('outbox')
      .selectAll()
      .where('relayed_at', 'is', null)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toStored);
  }

  /** Every event of one aggregate, oldest first, relayed or not: what a replayed input re-emits. */
  async eventsFor(aggregateId: string): Promise<StoredOutboxEvent[]> {
    const rows = await this.#db
      .selectFrom('outbox')
      .selectAll()
      .where('aggregate_id', '=', aggregateId)
      .orderBy('id')
      .execute();
    return rows.map(toStored);
  }

  /**
   * Up to `limit` events after `afterId` in id order, relayed or not, created no later than `until` when given:
   * how reconciliation pages through everything matching recorded. Resume with the last id of a page.
   */
  async page(afterId: string | undefined, limit: number, until?: Date): Promise<StoredOutboxEvent[]> {
    let query = this.#db.selectFrom('outbox').selectAll();
    if (afterId !== undefined) query = query.where('id', '>', afterId);
    if (until !== undefined) query = query.where('created_at', '<=', until);
    const rows = await query.orderBy('id').limit(limit).execute();
    return rows.map(toStored);
  }

  /** Marks events relayed; ones already marked keep their first time. Resolves how many were marked now. */
  async markRelayed(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.#db
      .updateTable('outbox')
      .set({ relayed_at: sql`now()` })
      .where('id', 'in', ids)
      .where('relayed_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }
}

function toStored(row: {
  id: string;
  aggregate_id: string;
  event_type: string;
  payload: unknown;
  created_at: Date;
  relayed_at: Date | null;
}): StoredOutboxEvent {
  return {
    id: row.id,
    aggregateId: row.aggregate_id,
    eventType: row.event_type,
    payload: row.payload,
    createdAt: row.created_at,
    relayedAt: row.relayed_at,
  };
}
