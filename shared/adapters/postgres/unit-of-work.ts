import { sql, type Kysely, type Transaction } from 'kysely';
import { PostgresLedgerRepository } from '#shared/adapters/postgres/ledger-repository.ts';
import type { SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import type { TradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import { PostgresOutbox } from '#shared/adapters/postgres/outbox.ts';
import { PostgresSettlementRepository } from '#shared/adapters/postgres/settlement-repository.ts';
import { PostgresTradeRepository } from '#shared/adapters/postgres/trade-repository.ts';

/**
 * One transaction per input, serialized per key.
 *
 * Both legs of a trade can be in flight at once (a redelivery, a second consumer after a rotation, two Lambda
 * invocations during a resharding). With no lock, each transaction looks for its counterpart, finds none because
 * the other has not committed, and stores its leg UNMATCHED: both wait forever. A row lock cannot prevent that,
 * because neither row exists yet. So the transaction first takes a transaction-scoped advisory lock on the key
 * both inputs share (`TradeLeg.partitionKey`, `Settlement.partitionKey`): the second waits until the first
 * commits or rolls back, then finds its counterpart. The lock is released with the transaction, also on a crash.
 *
 * READ COMMITTED is required, not just the default: each statement then sees what committed before it started,
 * so the lookups after the lock see the other transaction's rows. Under REPEATABLE READ the snapshot would be taken
 * by the lock statement itself, before the wait, and the race would return.
 */

export interface SerializeOn {
  /** Every input that may touch the same rows must give the same key: for trades `TradeLeg.partitionKey(leg)`. */
  readonly serializeOn: string;
}

export interface TradeMatchingUnitOfWork {
  readonly trades: PostgresTradeRepository;
  readonly outbox: PostgresOutbox;
  readonly transaction: Transaction<TradeMatchingDatabase>;
}

export interface SettlementUnitOfWork {
  readonly settlements: PostgresSettlementRepository;
  readonly ledger: PostgresLedgerRepository;
  readonly outbox: PostgresOutbox;
  readonly transaction: Transaction<SettlementDatabase>;
}

/** Runs `work` in one transaction: it commits if `work` resolves and rolls back, rethrowing, if it throws. */
export function withTradeMatchingTransaction<T>(
  db: Kysely<TradeMatchingDatabase>,
  { serializeOn }: SerializeOn,
  work: (unit: TradeMatchingUnitOfWork) => Promise<T>,
): Promise<T> {
  return inSerializedTransaction(db, `trade-matching:${serializeOn}`, (transaction) =>
    work({ trades: new PostgresTradeRepository(transaction), outbox: new PostgresOutbox(transaction), transaction }),
  );
}

export function withSettlementTransaction<T>(
  db: Kysely<SettlementDatabase>,
  { serializeOn }: SerializeOn,
  work: (unit: SettlementUnitOfWork) => Promise<T>,
): Promise<T> {
  return inSerializedTransaction(db, `settlement:${serializeOn}`, (transaction) =>
    work({
      settlements: new PostgresSettlementRepository(transaction),
      ledger: new PostgresLedgerRepository(transaction),
      outbox: new PostgresOutbox(transaction),
      transaction,
    }),
  );
}

function inSerializedTransaction<DB, T>(
  db: Kysely<DB>,
  lockKey: string,
  work: (transaction: Transaction<DB>) => Promise<T>,
): Promise<T> {
  return db
    .transaction()
    .setIsolationLevel('read committed')
    .execute(async (transaction) => {
      // A 64-bit hash of the key: two keys sharing a hash only wait for each other, they never corrupt anything.
      await sql`select pg_advisory_xact_lock(hashtextextended(${lockKey}, 0))`.execute(transaction);
      return work(transaction);
    });
}
