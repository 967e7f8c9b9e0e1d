import type { LedgerRepository, PostingSet } from '#domain/ledger.ts';
import type { SettlementRecord, SettlementRepository } from '#domain/settlement.ts';
import type { TradeRecord, TradeRepository } from '#domain/trade-matching.ts';

/** Stores for `rotor simulate` and tests: the same ports the PostgreSQL adapters implement, held in memory. */

export class StaleStatusError extends Error {
  override readonly name = 'StaleStatusError';
  constructor(readonly id: string, readonly expected: string, readonly actual: string | undefined) {
    super(`${id} is ${actual ?? 'absent'}, expected ${expected}`);
  }
}

export class DuplicateIdError extends Error {
  override readonly name = 'DuplicateIdError';
  constructor(readonly id: string) {
    super(`${id} is already stored`);
  }
}

/** Records are frozen on the way in, so handing them out needs no copy and no caller can change the store. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

class InMemoryStatusStore<R extends { id: string; status: S }, S extends string> {
  protected readonly records = new Map<string, R>();

  async get(id: string): Promise<R | undefined> {
    return this.records.get(id);
  }

  async insert(record: R): Promise<void> {
    if (this.records.has(record.id)) throw new DuplicateIdError(record.id);
    this.records.set(record.id, deepFreeze(record));
  }

  async updateStatus(id: string, from: S, to: S): Promise<void> {
    const record = this.records.get(id);
    if (record?.status !== from) throw new StaleStatusError(id, from, record?.status);
    this.records.set(id, deepFreeze({ ...record, status: to }));
  }

  all(): R[] {
    return [...this.records.values()];
  }
}

export class InMemoryTradeRepository
  extends InMemoryStatusStore<TradeRecord, TradeRecord['status']>
  implements TradeRepository
{
  /** Writes a whole record back (settlement roll-up changes allocations and status together). */
  async replace(record: TradeRecord): Promise<void> {
    if (!this.records.has(record.id)) throw new StaleStatusError(record.id, 'present', undefined);
    this.records.set(record.id, deepFreeze(record));
  }
}

export class InMemorySettlementRepository
  extends InMemoryStatusStore<SettlementRecord, SettlementRecord['status']>
  implements SettlementRepository {}

export class InMemoryLedger implements LedgerRepository {
  readonly #sets = new Map<string, PostingSet>();

  async post(set: PostingSet): Promise<boolean> {
    if (this.#sets.has(set.pairId)) return false;
    this.#sets.set(set.pairId, set);
    return true;
  }

  all(): PostingSet[] {
    return [...this.#sets.values()];
  }
}
