import type { AuditTrail } from './audit-trail.ts';
import type { ReportInput, ReportOutput } from './schemas.ts';

/**
 * The end of a run (ops-report): records how it ended and builds the missing-transaction report from the audit
 * trail — what the last pass still found missing, per pair, and every id the run replayed, with its pass.
 */

export interface ReportDependencies {
  readonly audit: AuditTrail;
  readonly now?: () => Date;
}

/**
 * How many bytes of replayed ids the report returns. It is a workflow's output (256 KB at most); the audit table
 * keeps every id regardless.
 */
export const REPLAYED_IDS_BUDGET_BYTES = 180 * 1024;

/** A Step Functions error's Cause can carry a whole stack trace; the audit item keeps its head. */
const MAX_CAUSE_CHARS = 8 * 1024;

export async function reportRun(input: ReportInput, deps: ReportDependencies): Promise<ReportOutput> {
  const now = deps.now ?? (() => new Date());
  const history = await deps.audit.history(input.app, input.runId);
  const error = input.error && {
    ...(input.error.Error === undefined ? {} : { Error: input.error.Error }),
    ...(input.error.Cause === undefined ? {} : { Cause: input.error.Cause.slice(0, MAX_CAUSE_CHARS) }),
  };
  const run = await deps.audit.runFinished(input.app, input.runId, { outcome: input.outcome, finishedAt: now().toISOString(), ...(error ? { error } : {}) });

  const last = history.passes.at(-1);
  const pairNames = [...new Set([...(last?.pairs.map((pair) => pair.pair) ?? []), ...history.replays.flatMap((replay) => replay.pairs.map((pair) => pair.pair))])];
  const replayedByPair = new Map<string, number>();
  for (const replay of history.replays) {
    for (const pair of replay.pairs) replayedByPair.set(pair.pair, (replayedByPair.get(pair.pair) ?? 0) + pair.replayed);
  }
  const pairs = pairNames.map((name) => {
    const counts = last?.pairs.find((pair) => pair.pair === name);
    return { pair: name, checked: counts?.checked ?? 0, missing: counts?.missing ?? 0, replayed: replayedByPair.get(name) ?? 0 };
  });

  const everyId = history.replays.flatMap((replay) => replay.pairs.flatMap((pair) => pair.ids.map((id) => ({ pair: pair.pair, id, pass: replay.pass }))));
  const replayedIds: ReportOutput['replayedIds'] = [];
  let left = REPLAYED_IDS_BUDGET_BYTES;
  for (const entry of everyId) {
    left -= Buffer.byteLength(JSON.stringify(entry), 'utf8') + 1;
    if (left < 0) break;
    replayedIds.push(entry);
  }

  return {
    app: input.app,
    runId: input.runId,
    outcome: input.outcome,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt ?? now().toISOString(),
    passes: history.passes.length,
    replayed: [...replayedByPair.values()].reduce((sum, count) => sum + count, 0),
    missingAtEnd: last?.missing ?? 0,
    pairs,
    replayedIds,
    ...(replayedIds.length < everyId.length ? { replayedIdsTruncated: true as const } : {}),
  };
}
