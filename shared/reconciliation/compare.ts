import type { AppName } from '#shared/topology/schema.ts';
import type { AuditTrail, PairCounts } from './audit-trail.ts';
import { inWindow, selectPairs, type Expectation, type Item, type PairSpec } from './pair-graph.ts';
import type { ReconciliationReads } from './reads.ts';
import { MAX_MISSING_IDS_PER_PAIR, type PairResult, type ReconcileInput, type ReconcileOutput } from './schemas.ts';

/**
 * One reconciliation pass (ops-reconcile): for each pair of the app's graph, page through the source, apply the
 * window, derive what each source item should have left downstream, read those ids from the destination stores,
 * and count what is absent or stored differently. Pairs reading the same source share one pass over it.
 */

export interface CompareDependencies {
  /** The app's pair graph. */
  readonly graph: (app: AppName) => readonly PairSpec[];
  readonly reads: ReconciliationReads;
  readonly audit: AuditTrail;
  readonly now?: () => Date;
}

/**
 * How many bytes of missing ids a pass reports in all. The output travels through Step Functions, whose states
 * take 256 KB at most; upstream pairs are served first, since replaying them also restores what is downstream.
 */
export const MISSING_IDS_BUDGET_BYTES = 160 * 1024;

type Verdict = 'met' | 'absent' | 'differs';

interface Tally {
  checked: number;
  absent: number;
  differs: number;
  missingIds: string[];
}

/** Unmet when any expectation is; absent when some unmet expectation found nothing stored at all. */
export function judge(expectations: readonly Expectation[], found: (table: string, id: string) => Item | undefined): Verdict {
  let verdict: Verdict = 'met';
  for (const expectation of expectations) {
    const stored = expectation.anyOf.map((probe) => ({ probe, item: found(probe.table, probe.id) }));
    if (stored.some(({ probe, item }) => item !== undefined && probe.matches(item))) continue;
    if (stored.every(({ item }) => item === undefined)) return 'absent';
    verdict = 'differs';
  }
  return verdict;
}

async function comparePage(pair: PairSpec, page: readonly Item[], until: Date, reads: ReconciliationReads, tally: Tally): Promise<void> {
  const items = page.filter((item) => inWindow(item, until) && (pair.includes?.(item) ?? true));
  if (items.length === 0) return;
  const expectations = items.map((item) => pair.expected(item));
  const idsByTable = new Map<string, Set<string>>();
  for (const probe of expectations.flat().flatMap((expectation) => expectation.anyOf)) {
    const ids = idsByTable.get(probe.table) ?? idsByTable.set(probe.table, new Set()).get(probe.table)!;
    ids.add(probe.id);
  }
  const stored = new Map(await Promise.all([...idsByTable].map(async ([table, ids]) => [table, await reads.lookup(table, [...ids])] as const)));
  const found = (table: string, id: string) => stored.get(table)?.get(id);
  items.forEach((item, index) => {
    tally.checked += 1;
    const verdict = judge(expectations[index]!, found);
    if (verdict === 'met') return;
    tally[verdict] += 1;
    if (tally.missingIds.length < MAX_MISSING_IDS_PER_PAIR) tally.missingIds.push(item.id);
  });
}

/** Cuts the pairs' id lists, in pair order, to what fits the budget; the counts still say how many are missing. */
function withinBudget(pairs: PairResult[], budgetBytes: number): PairResult[] {
  let left = budgetBytes;
  return pairs.map((pair) => {
    const kept: string[] = [];
    for (const id of pair.missingIds) {
      const size = Buffer.byteLength(JSON.stringify(id), 'utf8') + 1;
      if (size > left) break;
      kept.push(id);
      left -= size;
    }
    return { ...pair, missingIds: kept };
  });
}

export async function reconcile(input: ReconcileInput, deps: CompareDependencies): Promise<ReconcileOutput> {
  const now = deps.now ?? (() => new Date());
  const startedAt = now();
  const until = input.until ? new Date(input.until) : startedAt;
  const pairs = selectPairs(deps.graph(input.app), input.pairs).filter((pair) => !(input.ownStagesOnly && pair.interApp));
  if (input.pass === 1) await deps.audit.runStarted(input.app, input.runId, startedAt.toISOString());

  const tallies = new Map<PairSpec, Tally>(pairs.map((pair) => [pair, { checked: 0, absent: 0, differs: 0, missingIds: [] }]));
  const bySource = new Map<string, PairSpec[]>();
  for (const pair of pairs) {
    const key = JSON.stringify(pair.source);
    bySource.set(key, [...(bySource.get(key) ?? []), pair]);
  }
  for (const group of bySource.values()) {
    for await (const page of deps.reads.pages(group[0]!.source, until)) {
      for (const pair of group) await comparePage(pair, page, until, deps.reads, tallies.get(pair)!);
    }
  }

  const results = withinBudget(
    pairs.map((pair): PairResult => {
      const tally = tallies.get(pair)!;
      return {
        pair: pair.name,
        source: pair.sourceName,
        destination: pair.destinationName,
        checked: tally.checked,
        missing: tally.absent + tally.differs,
        absent: tally.absent,
        differs: tally.differs,
        missingIds: tally.missingIds,
      };
    }),
    MISSING_IDS_BUDGET_BYTES,
  );
  const output: ReconcileOutput = {
    app: input.app,
    runId: input.runId,
    pass: input.pass,
    until: until.toISOString(),
    checked: results.reduce((sum, pair) => sum + pair.checked, 0),
    missing: results.reduce((sum, pair) => sum + pair.missing, 0),
    pairs: results,
  };
  await deps.audit.passChecked({
    app: input.app,
    runId: input.runId,
    pass: input.pass,
    until: output.until,
    checkedAt: now().toISOString(),
    checked: output.checked,
    missing: output.missing,
    pairs: results.map(({ missingIds: _ids, ...counts }): PairCounts => counts),
  });
  return output;
}
