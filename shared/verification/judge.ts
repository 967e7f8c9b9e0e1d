import type { SimulationResult } from '#shared/simulation/in-memory-pipeline.ts';

/**
 * `rotor verify` (DESIGN §5, §6): judges what the stores hold against what the generator sent. The expected final
 * state comes from running the pure domain over exactly the legs sent, in order — the ground truth of those legs,
 * whatever prefix of a run has gone out so far.
 */

export interface SentLeg {
  readonly messageId: string;
  readonly tradeId: string;
}

export interface TradeState {
  readonly status: string;
  readonly allocations: Readonly<Record<string, string>>;
}

/** What the stores of the judged region hold for the ids in question. */
export interface Observed {
  /** Message ids in the in-gateway store: the legs the gateway acknowledged. */
  readonly acked: ReadonlySet<string>;
  readonly tradesInDatabase: ReadonlyMap<string, TradeState>;
  readonly tradesInStore: ReadonlyMap<string, string>;
  /** Outbound message id → how many times it was delivered to its queue. */
  readonly deliveries: ReadonlyMap<string, number>;
  readonly settlementsInDatabase: ReadonlyMap<string, string>;
  readonly settlementsInStore: ReadonlyMap<string, string>;
  readonly ledgerBalanced: boolean;
}

export interface VerifyReport {
  readonly ok: boolean;
  readonly legs_sent: number;
  readonly legs_acked: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly unexpected: number;
  readonly ledger_balanced: boolean;
  /** Acked legs not yet terminal whose state may still get there: lost if the pipeline has stopped. */
  readonly examples: { readonly lost: string[]; readonly unexpected: string[]; readonly duplicates: string[] };
}

export const TRADE_STATUSES = ['UNMATCHED', 'MATCHED', 'MISMATCHED', 'SETTLED'] as const;

/** Outbound ids a trade's journey produces, for the reader to look up. */
export const responseId = (tradeId: string, status: string) => `response:${tradeId}:${status}`;
export const resultId = (settlementId: string, status: string) => `result:${settlementId}:${status}`;

/**
 * Whether `actual` may still end as `expected`. An expected UNMATCHED (or UNSETTLED) is only "no counterpart sent
 * yet, as far as the generator's last progress record says": a counterpart sent since then may already have matched
 * it, so any state counts as on its way there; a run that has finished records every leg, and such a leg that never
 * settles into the ground truth ends up lost.
 */
const canStillBecome = (actual: string, expected: string) =>
  actual === expected ||
  actual === 'UNMATCHED' ||
  actual === 'UNSETTLED' ||
  expected === 'UNMATCHED' ||
  expected === 'UNSETTLED' ||
  (actual === 'MATCHED' && expected === 'SETTLED');

const EXAMPLES = 10;

export function judge(legs: readonly SentLeg[], expected: SimulationResult, observed: Observed): VerifyReport {
  const settlementsOf = groupByTrade(Object.keys(expected.settlements));
  const allocationsOf = groupByTrade(Object.keys(expected.allocations));
  const lost: string[] = [];
  const unexpected: string[] = [];
  const duplicates: string[] = [];
  let acked = 0;

  const judgedTrades = new Set<string>();
  for (const leg of legs) {
    if (!observed.acked.has(leg.messageId)) continue;
    acked += 1;
    const wanted = expected.trades[leg.tradeId];
    // A leg the domain rejected (a conflicting duplicate) ends as a NACK, not as a trade of its own.
    if (wanted === undefined || judgedTrades.has(leg.tradeId)) continue;
    judgedTrades.add(leg.tradeId);
    const verdict = judgeTrade(leg.tradeId, wanted, allocationsOf.get(leg.tradeId) ?? [], settlementsOf.get(leg.tradeId) ?? [], expected, observed);
    if (verdict === 'unexpected') unexpected.push(leg.tradeId);
    if (verdict === 'pending') lost.push(leg.tradeId);
  }

  for (const tradeId of judgedTrades) {
    const ids = [
      ...TRADE_STATUSES.map((status) => responseId(tradeId, status)),
      ...(settlementsOf.get(tradeId) ?? []).flatMap((settlementId) => ['SETTLED', 'MISMATCHED'].map((status) => resultId(settlementId, status))),
    ];
    for (const id of ids) if ((observed.deliveries.get(id) ?? 0) > 1) duplicates.push(id);
  }
  const duplicateCount = duplicates.reduce((sum, id) => sum + (observed.deliveries.get(id) ?? 0) - 1, 0);
  const report = {
    legs_sent: legs.length,
    legs_acked: acked,
    lost: lost.length,
    duplicates: duplicateCount,
    unexpected: unexpected.length,
    ledger_balanced: observed.ledgerBalanced,
  };
  return {
    ok: report.legs_acked === report.legs_sent && report.lost === 0 && report.duplicates === 0 && report.unexpected === 0 && report.ledger_balanced,
    ...report,
    examples: { lost: lost.slice(0, EXAMPLES), unexpected: unexpected.slice(0, EXAMPLES), duplicates: duplicates.slice(0, EXAMPLES) },
  };
}

function judgeTrade(
  tradeId: string,
  wanted: string,
  allocationKeys: readonly string[],
  settlementIds: readonly string[],
  expected: SimulationResult,
  observed: Observed,
): 'terminal' | 'pending' | 'unexpected' {
  const inDatabase = observed.tradesInDatabase.get(tradeId);
  if (inDatabase && !canStillBecome(inDatabase.status, wanted)) return 'unexpected';
  for (const key of allocationKeys) {
    const actual = inDatabase?.allocations[key.slice(tradeId.length + 1)];
    if (actual !== undefined && !canStillBecome(actual, expected.allocations[key]!)) return 'unexpected';
  }
  for (const settlementId of settlementIds) {
    const actual = observed.settlementsInDatabase.get(settlementId);
    if (actual !== undefined && !canStillBecome(actual, expected.settlements[settlementId]!)) return 'unexpected';
  }

  const tradeDone =
    inDatabase?.status === wanted && observed.tradesInStore.get(tradeId) === wanted && (observed.deliveries.get(responseId(tradeId, wanted)) ?? 0) > 0;
  const allocationsDone = allocationKeys.every((key) => inDatabase?.allocations[key.slice(tradeId.length + 1)] === expected.allocations[key]);
  const settlementsDone = settlementIds.every((settlementId) => {
    const status = expected.settlements[settlementId]!;
    return (
      observed.settlementsInDatabase.get(settlementId) === status &&
      observed.settlementsInStore.get(settlementId) === status &&
      (status === 'UNMATCHED' || (observed.deliveries.get(resultId(settlementId, status)) ?? 0) > 0)
    );
  });
  return tradeDone && allocationsDone && settlementsDone ? 'terminal' : 'pending';
}

/** `<trade id>-<n>` keys grouped by trade id (trade ids never end in `-<digits>`: their parts are alphanumeric). */
function groupByTrade(keys: readonly string[]): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const key of keys) {
    const tradeId = key.slice(0, key.lastIndexOf('-'));
    groups.set(tradeId, [...(groups.get(tradeId) ?? []), key]);
  }
  return groups;
}
