import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Settlement } from '#domain/settlement.ts';
import type { TradeLeg } from '#domain/trade-leg.ts';
import { settlementMatchingStep, tradeMatchingStep } from '#shared/pipeline/matching-stage.ts';
import { OutcomeCounts } from '#shared/pipeline/outcome-counts.ts';
import type { PutIfAbsentResult, SafeStore, SafeStoreItem } from '#shared/ports/safe-store.ts';
import { aBrokerLeg, anImLeg } from '#tests/factories/trade-legs.ts';
import { POSTGRES_TEST_BACKENDS, type AppDatabases } from '#tests/support/postgres-app-databases.ts';

/** The matching stage counts each committed outcome once — what the dashboard shows as trades by status and the ledger check. */

/** The stage mirrors into its safe store; the store is not what is judged here. */
class MapSafeStore implements SafeStore {
  readonly items = new Map<string, SafeStoreItem>();
  async putIfAbsent(item: SafeStoreItem): Promise<PutIfAbsentResult<SafeStoreItem>> {
    const existing = this.items.get(item.id);
    if (existing) return { stored: false, existing };
    this.items.set(item.id, item);
    return { stored: true };
  }
  async putIfNewer(item: SafeStoreItem & { version: number }): Promise<boolean> {
    const existing = this.items.get(item.id) as { version?: number } | undefined;
    if (existing && (existing.version ?? 0) >= item.version) return false;
    this.items.set(item.id, item);
    return true;
  }
  async get(id: string) {
    return this.items.get(id);
  }
  async recordDelivery(): Promise<number> {
    return 1;
  }
}

const backend = POSTGRES_TEST_BACKENDS[0]!;

describe('matching outcome counts', () => {
  let databases: AppDatabases;
  beforeAll(async () => {
    databases = await backend.open!();
  });
  afterAll(() => databases?.close());
  beforeEach(() => databases.truncate());

  const legRecord = (leg: TradeLeg, id: string) => ({ kind: 'trade-leg' as const, id, leg });
  const settlementOf = (leg: TradeLeg): Settlement => {
    const { allocations, quantity: _block, ...common } = leg;
    return { ...common, ...allocations[0]! };
  };

  it('counts trade outcomes once per committed effect, not again when a record is redelivered', async () => {
    // Prepare: a matching pair and a leg that waits alone.
    const outcomes = new OutcomeCounts();
    const step = tradeMatchingStep({ db: databases.tradeMatching, store: new MapSafeStore(), egressStream: 'tm-egress', outcomes });
    const im = anImLeg({ tradeID: 'T1' });
    const broker = aBrokerLeg({ tradeID: 'T1' });
    const alone = anImLeg({ tradeID: 'T2' });

    // Act: the three legs, then the broker's leg redelivered.
    await step(legRecord(im, 'm1'));
    await step(legRecord(broker, 'm2'));
    await step(legRecord(alone, 'm3'));
    const firstPass = Object.fromEntries(outcomes.drain());
    const replayForwards = await step(legRecord(broker, 'm2'));

    // Assess: two UNMATCHED stores, then both legs MATCHED; the redelivery re-emits its rows but counts nothing.
    expect(firstPass).toEqual({ 'Events.trade.unmatched': 2, 'Events.trade.matched': 2 });
    expect(replayForwards.length).toBeGreaterThan(0);
    expect(outcomes.drain()).toEqual([]);
  });

  it('counts a SETTLED pair, its ledger posting set once, and no unbalanced set', async () => {
    // Prepare: the two settlements of one allocation of a matched trade, from each leg.
    const outcomes = new OutcomeCounts();
    const step = settlementMatchingStep({ db: databases.settlement, store: new MapSafeStore(), egressStream: 'sm-egress', outcomes });
    const imSettlement = settlementOf(anImLeg({ tradeID: 'T9' }));
    const brokerSettlement = settlementOf(aBrokerLeg({ tradeID: 'T9' }));

    // Act: both, then the second again.
    await step({ kind: 'settlement', id: 's1', settlement: imSettlement });
    await step({ kind: 'settlement', id: 's2', settlement: brokerSettlement });
    await step({ kind: 'settlement', id: 's2', settlement: brokerSettlement });

    // Assess
    expect(Object.fromEntries(outcomes.drain())).toEqual({ 'Events.settlement.unmatched': 1, 'Events.settlement.settled': 2, LedgerPostingSets: 1 });
  });
});
