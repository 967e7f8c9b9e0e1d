import type { VerifyResult } from '#shared/verification/verify-run.ts';
import type { WorkflowRun } from '#local/drills/drill-twin.ts';

/** The drill JSON (DESIGN §5): verify's fields plus the scenario's RTO, RPO and recovery counts. */

export interface DrillResult {
  readonly scenario: string;
  /** region-outage only: whether the TM inbound store replicated synchronously. */
  readonly zero_rpo?: boolean;
  readonly ok: boolean;
  readonly legs_sent: number;
  readonly legs_acked: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly unexpected: number;
  readonly ledger_balanced: boolean;
  readonly rto_ms: number | null;
  readonly rpo_ms: number | null;
  readonly lost_before_recovery: number;
  readonly lost_after_recovery: number;
  readonly recovered_by_replay: number;
  /** Path of the missing-transaction report, if the scenario wrote one. */
  readonly report: string | null;
  readonly workflows: ReadonlyArray<{ app: string; state_machine: string; execution: string; status: string; rto_ms: number | null; error?: string }>;
  readonly load: { readonly rate_legs_per_s: number; readonly warm_up_s: number; readonly after_s: number };
  readonly duration_ms: number;
  readonly notes: readonly string[];
  /** A few ids per verdict (lost, unexpected, duplicates), as verify names them. */
  readonly examples: VerifyResult['examples'];
}

export function workflowSummaries(runs: readonly WorkflowRun[]): DrillResult['workflows'] {
  return runs.map((run) => ({
    app: run.app,
    state_machine: run.execution.stateMachineName,
    execution: run.execution.name,
    status: run.execution.status,
    rto_ms: run.rtoMs,
    ...(run.execution.error ? { error: `${run.execution.error}: ${run.execution.cause ?? ''}` } : {}),
  }));
}

/** The slowest app's RTO: the region is back only when both apps serve; null when any never did. */
export function regionRto(runs: readonly WorkflowRun[]): number | null {
  if (runs.some((run) => run.rtoMs === null)) return null;
  return Math.max(...runs.map((run) => run.rtoMs!));
}

export function verdictFields(verdict: VerifyResult): Pick<DrillResult, 'legs_sent' | 'legs_acked' | 'lost' | 'duplicates' | 'unexpected' | 'ledger_balanced' | 'examples'> {
  return {
    examples: verdict.examples,
    legs_sent: verdict.legs_sent,
    legs_acked: verdict.legs_acked,
    lost: verdict.lost,
    duplicates: verdict.duplicates,
    unexpected: verdict.unexpected,
    ledger_balanced: verdict.ledger_balanced,
  };
}
