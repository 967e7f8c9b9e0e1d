import type { AppName } from '#shared/topology/schema.ts';
import type { RunOutcome } from './schemas.ts';

/**
 * The audit trail of reconciliation runs (docs/reconciliation.md): when a run started, what each pass found, which
 * ids each replay sent again, and how the run ended. `ops-report` builds its report from it alone, so what an
 * operator reads afterwards is what the run recorded while it ran.
 */

export interface PairCounts {
  readonly pair: string;
  readonly source: string;
  readonly destination: string;
  readonly checked: number;
  readonly missing: number;
  readonly absent: number;
  readonly differs: number;
}

export interface PassRecord {
  readonly app: AppName;
  readonly runId: string;
  readonly pass: number;
  readonly until: string;
  readonly checkedAt: string;
  readonly checked: number;
  readonly missing: number;
  readonly pairs: readonly PairCounts[];
}

export interface PairReplay {
  readonly pair: string;
  readonly replayed: number;
  readonly skipped: number;
  /** The source ids sent again. */
  readonly ids: readonly string[];
}

export interface ReplayRecord {
  readonly app: AppName;
  readonly runId: string;
  readonly pass: number;
  readonly replayedAt: string;
  readonly pairs: readonly PairReplay[];
}

export interface RunRecord {
  readonly app: AppName;
  readonly runId: string;
  readonly startedAt: string;
  /** The highest pass recorded. */
  readonly passes: number;
  readonly finishedAt?: string;
  readonly outcome?: RunOutcome;
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

export interface RunFinish {
  readonly outcome: RunOutcome;
  readonly finishedAt: string;
  readonly error?: { readonly Error?: string; readonly Cause?: string };
}

export interface RunHistory {
  /** Undefined when no pass of the run got as far as recording it. */
  readonly run?: RunRecord;
  /** Ascending by pass. */
  readonly passes: readonly PassRecord[];
  /** Ascending by pass. */
  readonly replays: readonly ReplayRecord[];
}

export interface AuditTrail {
  /** Records the run's start; a second call (a retried first pass) keeps the first start. */
  runStarted(app: AppName, runId: string, startedAt: string): Promise<void>;
  /** Records a pass; recording the same pass again replaces it. */
  passChecked(record: PassRecord): Promise<void>;
  /** Records what a replay sent, every id of it; recording the same pass again replaces it. */
  replayed(record: ReplayRecord): Promise<void>;
  /** Records the end of the run, creating the run record if no pass did; resolves the run as recorded. */
  runFinished(app: AppName, runId: string, finish: RunFinish): Promise<RunRecord>;
  history(app: AppName, runId: string): Promise<RunHistory>;
}

/** The audit table's item ids. */
export const AuditId = {
  run: (runId: string) => `run:${runId}`,
  pass: (runId: string, pass: number) => `run:${runId}:pass:${pass}`,
  /** What one pass's replay did per pair, naming its chunks. */
  replay: (runId: string, pass: number) => `run:${runId}:replay:${pass}`,
  replayChunk: (runId: string, pass: number, pair: string, chunk: number) => `run:${runId}:replay:${pass}:${pair}:${chunk}`,
} as const;
