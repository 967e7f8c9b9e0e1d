import { sql, type Kysely } from 'kysely';
import type { AllocationStatus, TradeStatus } from '#domain/status.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import type { TradeRecord, TradeRepository } from '#domain/trade-matching.ts';
// One error class per refusal whatever the store, so callers catch the same thing in memory and in PostgreSQL.
import { DuplicateIdError, StaleStatusError } from '#shared/adapters/memory/in-memory-stores.ts';
import { jsonb } from '#shared/adapters/postgres/json-column.ts';
import type { TradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';

/**
 * Trades in PostgreSQL, for the matching stage. Construct it over the transaction that runs one `matchTradeLeg`
 * (see `withTradeMatchingTransaction`): the lookups, the counterpart update and the insert are then atomic, and
 * together with the outbox rows either all commit or none do.
 */

export class InconsistentTradeRecordError extends Error {
  override readonly name = 'InconsistentTradeRecordError';
  constructor(readonly id: string, why: string) {
    super(`trade ${id} cannot be stored: ${why}`);
  }
}

export class PostgresTradeRepository implements TradeRepository {
  constructor(private readonly db: Kysely<TradeMatchingDatabase>) {}

  async get(id: string): Promise<TradeRecord | undefined> {
    const trade = await this.db.selectFrom('trades').select(['id', 'leg', 'status']).where('id', '=', id).executeTakeFirst();
    if (!trade) return undefined;
    const allocations = await this.db
      .selectFrom('allocations')
      .select(['allocation_id', 'status'])
      .where('trade_id', '=', id)
      .orderBy('allocation_id')
      .execute();
    return {
      id: trade.id,
      leg: trade.leg,
      status: trade.status,
      allocations: Object.fromEntries(allocations.map((a) => [String(a.allocation_id), a.status])),
    };
  }

  /** Refuses with `DuplicateIdError` when the id is stored; the transaction stays usable (nothing failed in SQL). */
  async insert(record: TradeRecord): Promise<void> {
    const allocationRows = allocationRowsOf(record);
    const { leg } = record;
    const inserted = await this.db
      .insertInto('trades')
      .values({
        id: record.id,
        sender_id: leg.senderID,
        im_id: leg.imID,
        broker_id: leg.brokerID,
        trade_id: leg.tradeID,
        security: leg.security,
        transaction_indicator: leg.transactionIndicator,
        price: leg.price,
        quantity: leg.quantity,
        trade_date: leg.tradeDate,
        settlement_date: leg.settlementDate,
        delivery_instructions: leg.deliveryInstructions ?? null,
        status: record.status,
        leg: jsonb(leg),
        canonical_leg: jsonb(TradeLeg.canonical(leg)),
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) throw new DuplicateIdError(record.id);
    await this.db.insertInto('allocations').values(allocationRows).execute();
  }

  async updateStatus(id: string, from: TradeStatus, to: TradeStatus): Promise<void> {
    const updated = await this.db
      .updateTable('trades')
      .set({ status: to, updated_at: sql`now()` })
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) throw new StaleStatusError(id, from, await this.#statusOf(id));
  }

  /** The settlement roll-up (DESIGN §3.4): one allocation moves on, refused like `updateStatus` when stale. */
  async updateAllocationStatus(
    tradeId: string,
    allocationID: number,
    from: AllocationStatus,
    to: AllocationStatus,
  ): Promise<void> {
    const updated = await this.db
      .updateTable('allocations')
      .set({ status: to, updated_at: sql`now()` })
      .where('trade_id', '=', tradeId)
      .where('allocation_id', '=', allocationID)
      .where('status', '=', from)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) {
      const stored = await this.db
        .selectFrom('allocations')
        .select('status')
        .where('trade_id', '=', tradeId)
        .where('allocation_id', '=', allocationID)
        .executeTakeFirst();
      throw new StaleStatusError(`${tradeId}-${allocationID}`, from, stored?.status);
    }
  }

  /**
   * Writes a trade the settlement roll-up changed (`applySettlementResult`): every allocation and the trade status
   * that differ from `before`, each as a conditional update, so a concurrent change makes it fail, not overwrite.
   */
  async applyRollup(before: TradeRecord, after: TradeRecord): Promise<void> {
    for (const [allocationID, status] of Object.entries(after.allocations)) {
      const previous = before.allocations[allocationID];
      if (previous === undefined) throw new InconsistentTradeRecordError(after.id, `allocation ${allocationID} is new`);
      if (previous !== status) await this.updateAllocationStatus(after.id, Number(allocationID), previous, status);
    }
    if (before.status !== after.status) await this.updateStatus(after.id, before.status, after.status);
  }

  async #statusOf(id: string): Promise<TradeStatus | undefined> {
    const row = await this.db.selectFrom('trades').select('status').where('id', '=', id).executeTakeFirst();
    return row?.status;
  }
}

function allocationRowsOf(record: TradeRecord) {
  const keys = Object.keys(record.allocations);
  if (keys.length !== record.leg.allocations.length) {
    throw new InconsistentTradeRecordError(record.id, 'its allocation statuses do not cover exactly the leg\'s allocations');
  }
  return record.leg.allocations.map((allocation) => {
    const status = record.allocations[String(allocation.allocationID)];
    if (status === undefined) {
      throw new InconsistentTradeRecordError(record.id, `allocation ${allocation.allocationID} has no status`);
    }
    return {
      trade_id: record.id,
      allocation_id: allocation.allocationID,
      quantity: allocation.quantity,
      account: allocation.account,
      status,
    };
  });
}
