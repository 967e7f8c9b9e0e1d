import { z } from 'zod';
import { AppName } from '#shared/topology/schema.ts';

/**
 * The inputs and outputs of the three reconciliation task functions (ops-reconcile, ops-replay, ops-report), the
 * contract the reconciliation workflow and `rotor reconcile` are written against (docs/reconciliation.md). Inputs
 * accept and drop fields they do not know, so a workflow can hand one task's whole output to the next.
 */

const runId = z.string().min(1).max(256);
const pass = z.int().min(1);
const isoTime = z.iso.datetime({ offset: true });
const count = z.int().nonnegative();

/** Source ids reported per pair at most; the rest is found by the next pass. */
export const MAX_MISSING_IDS_PER_PAIR = 500;

export const ReconcileInput = z.object({
  app: AppName,
  runId,
  pass,
  /** Source items recorded after this are left out; now when absent. Give every pass of a run the same one. */
  until: isoTime.optional(),
  /** Only these pairs; all of the app's when absent. */
  pairs: z.array(z.string().min(1)).optional(),
  /**
   * Only the app's own stage pairs. A rotation's drain check: while it runs, the other app's messages already go
   * to the target region (they follow the edge), so the source would wait for them in vain.
   */
  ownStagesOnly: z.boolean().optional(),
});
export type ReconcileInput = z.infer<typeof ReconcileInput>;

export const PairResult = z.object({
  pair: z.string(),
  source: z.string(),
  destination: z.string(),
  checked: count,
  /** `absent` + `differs`. */
  missing: count,
  /** Nothing stored under an id the source item should have produced. */
  absent: count,
  /** Stored, but not with the content or status the source item implies. */
  differs: count,
  /** Source ids, at most MAX_MISSING_IDS_PER_PAIR (fewer when the output would grow too large for a workflow). */
  missingIds: z.array(z.string()).max(MAX_MISSING_IDS_PER_PAIR),
});
export type PairResult = z.infer<typeof PairResult>;

export const ReconcileOutput = z.object({
  app: AppName,
  runId,
  pass,
  until: isoTime,
  checked: count,
  missing: count,
  pairs: z.array(PairResult),
});
export type ReconcileOutput = z.infer<typeof ReconcileOutput>;

export const ReplayInput = z.object({
  app: AppName,
  runId,
  pass,
  pairs: z.array(z.object({ pair: z.string().min(1), missingIds: z.array(z.string()) })),
});
export type ReplayInput = z.infer<typeof ReplayInput>;

export const ReplayOutput = z.object({
  app: AppName,
  runId,
  pass,
  replayed: count,
  pairs: z.array(z.object({ pair: z.string(), replayed: count, skipped: count })),
});
export type ReplayOutput = z.infer<typeof ReplayOutput>;

export const RunOutcome = z.enum(['CONVERGED', 'NOT_CONVERGED', 'FAILED']);
export type RunOutcome = z.infer<typeof RunOutcome>;

export const ReportInput = z.object({
  app: AppName,
  runId,
  outcome: RunOutcome,
  /** What a Step Functions Catch puts in its ResultPath. */
  error: z.object({ Error: z.string().optional(), Cause: z.string().optional() }).optional(),
});
export type ReportInput = z.infer<typeof ReportInput>;

export const ReportOutput = z.object({
  app: AppName,
  runId,
  outcome: RunOutcome,
  startedAt: isoTime,
  finishedAt: isoTime,
  passes: count,
  replayed: count,
  /** Missing in the last pass. */
  missingAtEnd: count,
  pairs: z.array(z.object({ pair: z.string(), checked: count, missing: count, replayed: count })),
  replayedIds: z.array(z.object({ pair: z.string(), id: z.string(), pass })),
  /** Present, and true, only when replayedIds was cut to keep the output within a workflow's payload limit. */
  replayedIdsTruncated: z.literal(true).optional(),
});
export type ReportOutput = z.infer<typeof ReportOutput>;
