import { sql, type Kysely } from 'kysely';
import { Settlement, type SettlementRecord, type SettlementRepository } from '#domain/settlement.ts';
import type { SettlementStatus } from '#domain/status.ts';
// One error class per refusal whatever the store, so callers catch the same thing in memory and in PostgreSQL.
import { DuplicateIdError, StaleStatusError } from '#shared/adapters/memory/in-memory-stores.ts';
import { jsonb } from '#shared/adapters/postgres/json-column.ts';
import type { SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';

/**
 * Settlements in PostgreSQL, for settlement matching. Construct it over the transaction that runs one
 * `pairSettlement` (see `withSettlementTransaction`), so the pairing, the ledger posting and the outbox rows
 * commit together. Reads hand back the settlement exactly as it was stored (`settlement` jsonb).
 */
export class PostgresSettlementRepository implements SettlementRepository {
  constructor(private readonly db: Kysely<SettlementDatabase>) {}

  async get(id: string): Promise<SettlementRecord | undefined> {
    const row = await this.db
      .selectFrom('settlements')
      .select(['id', 'settlement', 'status'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row && { id: row.id, settlement: row.settlement, status: row.status };
  }

  /** Refuses with `DuplicateIdError` when the id is stored; the transaction stays usable (nothing failed in SQL). */
  async insert(record: SettlementRecord): Promise<void> {
    const { settlement } = record;
    const inserted = await this.db
      .insertInto('settlements')
      .values({
        id: record.id,
        pair_id: Settlement.pairId(settlement),
        sender_id: settlement.senderID,
        im_id: settlement.imID,
        broker_id: settlement.brokerID,
        trade_id: settlement.tradeID,
        allocation_id: settlement.allocationID,
        security: settlement.security,
        transaction_indicator: settlement.transactionIndicator,
        price: settlement.price,
        quantity: settlement.quantity,
        account: settlement.account,
        trade_date: settlement.tradeDate,
        settlement_date: settlement.settlementDate,
        delivery_instructions: settlement.deliveryInstructions ?? null,
        status: record.status,
        settlement: jsonb(settlement),
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (!inserted) throw new DuplicateIdError(record.id);
  }

  async updateStatus(id: string, from: SettlementStatus, to: SettlementStatus): Promise<void> {
    const updated = await this.db
      .updateTable('settlements')
      .set({ status: to, updated_at: sql`now()` })
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) {
      const stored = await this.db.selectFrom('settlements').select('status').where('id', '=', id).executeTakeFirst();
      throw new StaleStatusError(id, from, stored?.status);
    }
  }
}
