import type { Kysely } from 'kysely';
import { DEFAULT_FEE_BPS, Ledger, type PostingSet } from '#domain/ledger.ts';
import type { OutboxEventRecord, SettlementRecordMessage, SettlementResultRecord, TradeLegRecord } from '#domain/pipeline-messages.ts';
import { applySettlementResult } from '#domain/settlement-rollup.ts';
import { pairSettlement, Settlement } from '#domain/settlement.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import { matchTradeLeg } from '#domain/trade-matching.ts';
import type { SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import type { TradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import { matchOutcomeEvents, pairingEvents, rollupEvents } from '#shared/adapters/postgres/outbox-events.ts';
import type { OutboxEvent, PostgresOutbox, StoredOutboxEvent } from '#shared/adapters/postgres/outbox.ts';
import { withSettlementTransaction, withTradeMatchingTransaction } from '#shared/adapters/postgres/unit-of-work.ts';
import type { Forward } from '#shared/pipeline/forward.ts';
import { LEDGER_POSTING_SETS_METRIC, LEDGER_UNBALANCED_SETS_METRIC, outcomeMetricName, type OutcomeCounts } from '#shared/pipeline/outcome-counts.ts';
import type { Overtakable } from '#shared/pipeline/key-order.ts';
import type { SafeStore } from '#shared/ports/safe-store.ts';

/**
 * Matching (DESIGN §3.3–§3.5): one PostgreSQL transaction per record, serialized per match key, holding the
 * decision, the counterpart's update, the ledger (settlement) and the outbox rows describing the change. After the
 * commit the stage mirrors each changed record into its safe store and forwards the outbox rows to egress.
 *
 * A record that changes nothing — a redelivery, a replay by reconciliation, a crash after the commit — re-emits
 * the outbox rows already stored for the records it concerns, so whatever did not get past egress the first time
 * does now; everything downstream is keyed by those rows' ids and takes no second effect.
 */

export interface MatchingStageDependencies<DB> {
  readonly db: Kysely<DB>;
  readonly store: SafeStore;
  readonly egressStream: string;
  readonly feeBps?: number;
  /** Counts each committed outbox event by type, and each ledger posting set, once. */
  readonly outcomes?: OutcomeCounts;
}

/** The id egress and its stores know an outbox row by: one per effect, the same for every re-emission. */
export function outboxRecordId(event: Pick<OutboxEvent, 'eventType' | 'aggregateId' | 'payload'>): string {
  const payload = (event.payload ?? {}) as { allocationID?: unknown; messageId?: unknown };
  const suffix = payload.messageId !== undefined ? `:${String(payload.messageId)}` : payload.allocationID !== undefined ? `:${String(payload.allocationID)}` : '';
  return `${event.eventType}:${event.aggregateId}${suffix}`;
}

/** The stream record egress receives for an outbox row: reconciliation derives what egress must have stored from it. */
export function toRecord(event: StoredOutboxEvent): OutboxEventRecord {
  return { kind: 'event', id: outboxRecordId(event), outboxId: event.id, eventType: event.eventType, aggregateId: event.aggregateId, payload: event.payload };
}

/** Rows appended by this transaction are its new effects; re-emitted rows are not. */
type Appended = StoredOutboxEvent & { readonly appended?: true };

async function appendAndRead(outbox: PostgresOutbox, events: readonly OutboxEvent[]): Promise<Appended[]> {
  const ids = await outbox.append(events);
  return events.map((event, index) => ({ ...event, id: ids[index]!, createdAt: new Date(), relayedAt: null, appended: true as const }));
}

/** Called once the transaction committed: what it appended happened, exactly once. */
function countCommitted(outcomes: OutcomeCounts | undefined, events: readonly Appended[]): void {
  for (const event of events) if (event.appended) outcomes?.add(outcomeMetricName(event.eventType));
}

async function storedEventsOf(outbox: PostgresOutbox, aggregateIds: readonly string[]): Promise<StoredOutboxEvent[]> {
  const events = (await Promise.all(aggregateIds.map((id) => outbox.eventsFor(id)))).flat();
  return events.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

/**
 * The safe-store mirror of a record's latest state (versioned by outbox row, so an older row never overwrites a
 * newer one), or, for a rejection, the rejection itself.
 */
async function mirror(store: SafeStore, record: OutboxEventRecord): Promise<void> {
  const payload = record.payload as { status?: string; trade?: { status: string }; code?: string };
  const version = Number(record.outboxId);
  if (record.eventType.endsWith('.rejected')) {
    await store.putIfAbsent({ id: record.id, eventType: record.eventType, aggregateId: record.aggregateId, nack: record.payload, version });
    return;
  }
  const state = payload.trade ?? payload;
  await store.putIfNewer({ id: record.aggregateId, version, eventType: record.eventType, status: state.status, record: state });
}

async function mirrorAndForward(deps: Pick<MatchingStageDependencies<unknown>, 'store' | 'egressStream'>, events: readonly StoredOutboxEvent[]): Promise<Forward[]> {
  const records = events.map(toRecord);
  // Versioned writes: side by side is safe, the newest state of each record wins whatever the order.
  await Promise.all(records.map((record) => mirror(deps.store, record)));
  return records.map((record) => ({ stream: deps.egressStream, partitionKey: record.aggregateId, record }));
}

export function tradeMatchingStep(deps: MatchingStageDependencies<TradeMatchingDatabase>) {
  return async (input: TradeLegRecord | SettlementResultRecord): Promise<Forward[]> => {
    if (input.kind === 'trade-leg') {
      const { leg } = input;
      const events = await withTradeMatchingTransaction(deps.db, { serializeOn: TradeLeg.partitionKey(leg) }, async ({ trades, outbox }) => {
        const decision = await matchTradeLeg(leg, trades);
        if (decision.kind === 'duplicate') return storedEventsOf(outbox, [TradeLeg.id(leg), TradeLeg.counterpartId(leg)]);
        return appendAndRead(outbox, matchOutcomeEvents(leg, decision, input.id));
      });
      countCommitted(deps.outcomes, events);
      return mirrorAndForward(deps, events);
    }
    const { result } = input;
    const tradeId = TradeLeg.id(result);
    const events = await withTradeMatchingTransaction(deps.db, { serializeOn: TradeLeg.partitionKey(result) }, async ({ trades, outbox }) => {
      const trade = await trades.get(tradeId);
      if (!trade) throw new UnknownTradeError(tradeId, result.settlementId);
      const outcome = applySettlementResult(trade, { allocationID: result.allocationID, status: result.status });
      if (outcome.kind === 'applied') {
        await trades.applyRollup(trade, outcome.trade);
        return appendAndRead(outbox, rollupEvents({ allocationID: result.allocationID, status: result.status }, outcome));
      }
      if (outcome.kind === 'refused') throw new RollupRefusedError(outcome.reason);
      return storedEventsOf(outbox, [tradeId]);
    });
    countCommitted(deps.outcomes, events);
    return mirrorAndForward(deps, events);
  };
}

export function settlementMatchingStep(deps: MatchingStageDependencies<SettlementDatabase>) {
  const feeBps = deps.feeBps ?? DEFAULT_FEE_BPS;
  return async (input: SettlementRecordMessage): Promise<Forward[]> => {
    const { settlement } = input;
    let posted: PostingSet | undefined;
    const events = await withSettlementTransaction(deps.db, { serializeOn: Settlement.partitionKey(settlement) }, async ({ settlements, ledger, outbox }) => {
      posted = undefined;
      const decision = await pairSettlement(settlement, settlements);
      if (decision.kind === 'duplicate') return storedEventsOf(outbox, [Settlement.id(settlement), Settlement.counterpartId(settlement)]);
      if (decision.kind === 'settled') {
        const set = Ledger.postingsFor(decision.record.settlement, feeBps);
        if (await ledger.post(set)) posted = set;
      }
      return appendAndRead(outbox, pairingEvents(settlement, decision, input.id));
    });
    countCommitted(deps.outcomes, events);
    if (posted) {
      deps.outcomes?.add(LEDGER_POSTING_SETS_METRIC);
      if (!Ledger.isBalanced(posted.postings)) deps.outcomes?.add(LEDGER_UNBALANCED_SETS_METRIC);
    }
    return mirrorAndForward(deps, events);
  };
}

/** Marks forwarded outbox rows relayed, once egress's stream accepted them. */
export async function markRelayed(outbox: PostgresOutbox, forwards: readonly Forward[]): Promise<void> {
  const ids = forwards.flatMap((forward) => (forward.record.kind === 'event' ? [forward.record.outboxId] : []));
  await outbox.markRelayed(ids);
}

/**
 * A settlement result for a trade this database does not hold. After a failover that lost the trade's tail this
 * is possible: reconciliation replays the trade's legs, and the result, which changed nothing, lets them overtake
 * it in its lane and is retried after them. A result whose trade never comes goes to the on-failure queue after
 * its retries, and reconciliation replays it once the trade is back.
 */
export class UnknownTradeError extends Error implements Overtakable {
  override readonly name = 'UnknownTradeError';
  readonly overtakable = true;
  constructor(readonly tradeId: string, readonly settlementId: string) {
    super(`settlement ${settlementId} reports on trade ${tradeId}, which is not in the trade-matching database`);
  }
}

/** A result the trade's state cannot take (a second, different outcome for a settled allocation). */
export class RollupRefusedError extends Error {
  override readonly name = 'RollupRefusedError';
}
