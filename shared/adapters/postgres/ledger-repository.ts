import type { Kysely } from 'kysely';
import { Decimal } from '#domain/decimal.ts';
import { LedgerBalances, type LedgerRepository, type Posting, type PostingSet } from '#domain/ledger.ts';
import type { SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';

/**
 * The ledger in PostgreSQL (DESIGN §3.5). Construct it over the transaction that settles the pair: the pair row
 * and its postings then commit with the SETTLED statuses or not at all. Amounts travel as decimal text both ways;
 * a JavaScript number never holds money.
 */

export class CorruptLedgerPostingError extends Error {
  override readonly name = 'CorruptLedgerPostingError';
  constructor(readonly pairId: string, readonly postingIndex: number, why: string) {
    super(`ledger posting ${postingIndex} of pair ${pairId} cannot be read: ${why}`);
  }
}

const MICROS_PER_UNIT = 1_000_000n;

export class PostgresLedgerRepository implements LedgerRepository {
  constructor(private readonly db: Kysely<SettlementDatabase>) {}

  /**
   * Claims the pair id first: a concurrent transaction posting the same pair waits on that row and, once the first
   * commits, finds it taken and records nothing.
   */
  async post(set: PostingSet): Promise<boolean> {
    const claimed = await this.db
      .insertInto('ledger_pairs')
      .values({ pair_id: set.pairId })
      .onConflict((conflict) => conflict.column('pair_id').doNothing())
      .returning('pair_id')
      .executeTakeFirst();
    if (!claimed) return false;
    await this.db
      .insertInto('ledger_postings')
      .values(
        set.postings.map((posting, index) => ({
          pair_id: set.pairId,
          posting_index: index,
          account: posting.account,
          kind: posting.kind,
          security: posting.kind === 'security' ? posting.security : null,
          amount: posting.kind === 'cash' ? posting.amount.toString() : posting.quantity.toString(),
        })),
      )
      .execute();
    return true;
  }

  /** Every posted set, by pair id, postings in the order they were posted. */
  async postingSets(): Promise<PostingSet[]> {
    const rows = await this.db
      .selectFrom('ledger_postings')
      .selectAll()
      .orderBy('pair_id')
      .orderBy('posting_index')
      .execute();
    const sets = new Map<string, Posting[]>();
    for (const row of rows) {
      const postings = sets.get(row.pair_id) ?? [];
      postings.push(toPosting(row));
      sets.set(row.pair_id, postings);
    }
    return [...sets].map(([pairId, postings]) => ({ pairId, postings }));
  }

  /** Balances per account, computed by the same code `rotor simulate` uses. */
  async balances(): Promise<LedgerBalances> {
    const balances = new LedgerBalances();
    for (const set of await this.postingSets()) balances.apply(set);
    return balances;
  }
}

function toPosting(row: {
  pair_id: string;
  posting_index: number;
  account: string;
  kind: 'cash' | 'security';
  security: string | null;
  amount: string;
}): Posting {
  const amount = Decimal.parse(row.amount);
  if (row.kind === 'cash') return { account: row.account, kind: 'cash', amount };
  if (row.security === null) throw new CorruptLedgerPostingError(row.pair_id, row.posting_index, 'a security posting names no security');
  if (amount.micros % MICROS_PER_UNIT !== 0n) {
    throw new CorruptLedgerPostingError(row.pair_id, row.posting_index, `security quantity ${row.amount} is not whole`);
  }
  return { account: row.account, kind: 'security', security: row.security, quantity: amount.micros / MICROS_PER_UNIT };
}
