import type { RunningTwin } from '#local/controller/controller.ts';
import type { VerifyResult } from '#shared/verification/verify-run.ts';
import { APPS, runLoad, sleep, startDrillTwin, stopLoad, verifyTwin, type DrillProgress } from '#local/drills/drill-twin.ts';
import { experiment } from '#local/chaos/catalogue.ts';
import { auditNacks, laggingMappings, stuckMessages } from '#local/chaos/invariants.ts';

/**
 * `rotor drill chaos-matrix`: one fresh twin under steady generator load; each experiment in turn is injected for
 * its duration, ended, the system left to recover (reconciliation run where the runbook runs it: after an outage or
 * a partition), and judged: verify (nothing acknowledged lost, no effect twice, the ledger balanced), every NACK with
 * a reason (and the poison ones answered), nothing in a failure or dead-letter queue, every mapping caught up.
 * Experiments share the twin, one after the other, which keeps the CI profile short; verify judges every leg sent
 * so far, so a row's lost and duplicates are what appeared since the row before.
 */

export type MatrixProfile = 'ci' | 'soak';

interface ProfileSettings {
  readonly rate: number;
  readonly warmUpSeconds: number;
  readonly faultSeconds: number;
  readonly verifyTimeoutSeconds: number;
  readonly experiments: readonly string[];
}

const EVERY_EXPERIMENT = [
  'crash-after-write', 'crash-mid-batch', 'duplicate-kinesis-put', 'duplicate-mq-send', 'poison-messages', 'kinesis-throttle', 'dynamodb-throttle',
  'replication-pause', 'aurora-lag-spike', 'partition', 'arc-endpoints-all-but-one', 'arc-endpoints-all', 'region-kill',
];

/**
 * CI runs one experiment of each family (process crash, duplicate delivery, poison, throttling, partition, control
 * plane loss, outage) at a gentle rate, so the matrix stays within minutes on two cores; the soak runs them all.
 */
const CI_EXPERIMENTS = ['crash-after-write', 'crash-mid-batch', 'duplicate-kinesis-put', 'duplicate-mq-send', 'poison-messages', 'kinesis-throttle', 'partition', 'arc-endpoints-all', 'region-kill'];

export const PROFILES: Record<MatrixProfile, ProfileSettings> = {
  ci: { rate: 1, warmUpSeconds: 5, faultSeconds: 5, verifyTimeoutSeconds: 300, experiments: CI_EXPERIMENTS },
  soak: { rate: 4, warmUpSeconds: 15, faultSeconds: 30, verifyTimeoutSeconds: 300, experiments: EVERY_EXPERIMENT },
};

/** After these the runbook runs reconciliation: stores may disagree across the cut until it compares and replays. */
const RECONCILED_AFTER = new Set(['region-kill', 'partition']);
/**
 * Once verify has seen every judged leg terminal, each Kinesis mapping's iterator age must come back under this
 * (the load goes on, so it never stays at 0) within CATCH_UP_MS, or the shard counts as blocked.
 */
const CAUGHT_UP_AGE_MS = 30_000;
const CATCH_UP_MS = 90_000;

export interface MatrixRow {
  readonly experiment: string;
  readonly ok: boolean;
  readonly lost: number;
  readonly duplicates: number;
  readonly recovery_ms: number | null;
  readonly notes: string[];
}

export interface ChaosMatrixResult {
  readonly scenario: 'chaos-matrix';
  readonly profile: MatrixProfile;
  readonly ok: boolean;
  readonly rows: MatrixRow[];
  readonly legs_sent: number;
  readonly legs_acked: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly unexpected: number;
  readonly ledger_balanced: boolean;
  readonly load: { readonly rate_legs_per_s: number; readonly fault_s: number };
  readonly duration_ms: number;
  readonly notes: string[];
}

export interface ChaosMatrixOptions {
  readonly dataDir: string;
  readonly profile: MatrixProfile;
  /** Instead of the profile's list (e.g. `broken-skip-batch`, to see the matrix fail). */
  readonly experiments?: readonly string[];
  readonly rate?: number;
  readonly faultSeconds?: number;
  /** Instead of the profile's wait for legs in flight (a broken build's lost legs never arrive: no need to wait long). */
  readonly verifyTimeoutSeconds?: number;
  readonly progress: DrillProgress;
}

export async function chaosMatrixDrill(options: ChaosMatrixOptions): Promise<ChaosMatrixResult> {
  const began = Date.now();
  const settings = PROFILES[options.profile];
  const names = options.experiments ?? settings.experiments;
  const unknown = names.filter((name) => !experiment(name));
  if (unknown.length > 0) throw new Error(`no experiment named ${unknown.join(', ')}`);
  const rate = options.rate ?? settings.rate;
  const faultSeconds = options.faultSeconds ?? settings.faultSeconds;
  const verifyTimeoutSeconds = options.verifyTimeoutSeconds ?? settings.verifyTimeoutSeconds;
  const twin = await startDrillTwin({ dataDir: options.dataDir, rate, progress: options.progress });
  const rows: MatrixRow[] = [];
  const notes: string[] = [];
  let last: VerifyResult | undefined;
  const stuck: Record<string, number> = {};
  try {
    await runLoad(settings.warmUpSeconds, 'warm-up', options.progress);
    for (const name of names) {
      const row = await runExperiment(twin, name, { faultSeconds, verifyTimeoutMs: verifyTimeoutSeconds * 1000, previous: last, stuck, progress: options.progress });
      rows.push(row.row);
      last = row.verdict;
      options.progress(`${name}: ${row.row.ok ? 'ok' : 'NOT OK'} (lost ${row.row.lost}, duplicates ${row.row.duplicates}, recovery ${row.row.recovery_ms ?? 'n/a'} ms)${row.row.ok ? '' : ` — ${row.row.notes.join(' | ')}`}`);
    }
    await stopLoad(twin);
    const final = await verifyTwin(twin, verifyTimeoutSeconds * 1000, options.progress);
    if (!final.ok) notes.push('the final verify (every leg the generator sent) is not ok');
    return {
      scenario: 'chaos-matrix',
      profile: options.profile,
      ok: final.ok && rows.every((row) => row.ok),
      rows,
      legs_sent: final.legs_sent,
      legs_acked: final.legs_acked,
      lost: final.lost,
      duplicates: final.duplicates,
      unexpected: final.unexpected,
      ledger_balanced: final.ledger_balanced,
      load: { rate_legs_per_s: rate, fault_s: faultSeconds },
      duration_ms: Date.now() - began,
      notes,
    };
  } finally {
    await twin.chaos.stop().catch(() => undefined);
    await twin.stop();
  }
}

async function runExperiment(
  twin: RunningTwin,
  name: string,
  /** Messages in failure and dead-letter queues so far (updated): a row is charged only with what it added. */
  context: { faultSeconds: number; verifyTimeoutMs: number; previous: VerifyResult | undefined; stuck: Record<string, number>; progress: DrillProgress },
): Promise<{ row: MatrixRow; verdict: VerifyResult | undefined }> {
  const notes: string[] = [];
  const nacksBefore = name === 'poison-messages' ? await auditNacks(twin, twin.activeRegion('trade-matching')).catch(() => undefined) : undefined;
  const run = await twin.chaos.start(name, { durationMs: context.faultSeconds * 1000 });
  notes.push(...run.notes);
  if (run.state === 'failed') return { row: { experiment: name, ok: false, lost: 0, duplicates: 0, recovery_ms: null, notes: [...notes, `not injected: ${run.error}`] }, verdict: context.previous };
  await runLoad(context.faultSeconds, `${name} in force`, context.progress);
  // The run may have ended by its own timer a moment earlier; either way its notes say what the fault struck.
  await twin.chaos.stop(name);
  const stoppedAt = Date.now();
  const ended = twin.chaos.status().recent.find((candidate) => candidate.id === run.id);
  notes.push(...(ended?.notes.slice(run.notes.length) ?? []));
  if (RECONCILED_AFTER.has(name)) notes.push(...(await reconcile(twin, context.progress)));
  let verdict: VerifyResult;
  try {
    verdict = await verifyTwin(twin, context.verifyTimeoutMs, context.progress);
  } catch (error) {
    return { row: { experiment: name, ok: false, lost: 0, duplicates: 0, recovery_ms: null, notes: [...notes, `verify failed: ${(error as Error).message}`] }, verdict: context.previous };
  }
  const recoveredAt = Date.now();
  const lost = Math.max(0, verdict.lost - (context.previous?.lost ?? 0));
  const duplicates = Math.max(0, verdict.duplicates - (context.previous?.duplicates ?? 0));
  let ok = verdict.lost === 0 && duplicates === 0 && verdict.unexpected === 0 && verdict.ledger_balanced;
  if (verdict.lost > 0) notes.push(`verify: ${verdict.lost} acknowledged legs not terminal, e.g. ${verdict.examples.lost.slice(0, 3).join(', ')}`);
  if (verdict.unexpected > 0) notes.push(`verify: ${verdict.unexpected} legs in an unexpected state`);
  if (!verdict.ledger_balanced) notes.push('ledger NOT balanced');

  const nacks = await auditNacks(twin, twin.activeRegion('trade-matching')).catch((error: unknown) => ({ error: String(error) }));
  if ('error' in nacks) {
    ok = false;
    notes.push(`NACKs could not be read: ${nacks.error}`);
  } else {
    if (nacks.withoutReason.length > 0) {
      ok = false;
      notes.push(`${nacks.withoutReason.length} NACKs without a code or reason, e.g. ${nacks.withoutReason.slice(0, 3).join(', ')}`);
    }
    if (nacksBefore) {
      // Poison: 3 malformed, 2 oversized and 1 conflicting duplicate must each have been answered.
      const answered = await waitForNacks(twin, nacksBefore.nacks + 6);
      const codes = Object.entries(answered.byCode).map(([code, count]) => `${code} ${count - (nacksBefore.byCode[code] ?? 0)}`).filter((entry) => !entry.endsWith(' 0'));
      notes.push(`NACKs added: ${answered.nacks - nacksBefore.nacks} (${codes.join(', ')})`);
      if (answered.nacks - nacksBefore.nacks < 6) ok = false;
    }
  }
  const stuck = await stuckMessages(twin);
  const added = Object.entries(stuck).filter(([queue, depth]) => depth > (context.stuck[queue] ?? 0));
  Object.assign(context.stuck, stuck);
  if (added.length > 0) {
    ok = false;
    notes.push(`new in failure or dead-letter queues: ${added.map(([queue, depth]) => `${queue} ${depth}`).join(', ')}`);
  }
  const lagging = await caughtUp(twin);
  if (lagging.length > 0) {
    ok = false;
    notes.push(`mappings not caught up within ${CATCH_UP_MS / 1000} s: ${lagging.join('; ')}`);
  }
  return { row: { experiment: name, ok, lost, duplicates, recovery_ms: ok ? recoveredAt - stoppedAt : null, notes }, verdict };
}

async function caughtUp(twin: RunningTwin): Promise<string[]> {
  const deadline = Date.now() + CATCH_UP_MS;
  for (;;) {
    const lagging = await laggingMappings(twin, CAUGHT_UP_AGE_MS);
    if (lagging.length === 0 || Date.now() >= deadline) return lagging;
    await sleep(3_000);
  }
}

async function waitForNacks(twin: RunningTwin, atLeast: number): Promise<Awaited<ReturnType<typeof auditNacks>>> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const audit = await auditNacks(twin, twin.activeRegion('trade-matching'));
    if (audit.nacks >= atLeast || Date.now() >= deadline) return audit;
    await sleep(2_000);
  }
}

/** Both apps' reconciliation workflows in the active region, as the runbook runs them after an outage or a partition. */
async function reconcile(twin: RunningTwin, progress: DrillProgress): Promise<string[]> {
  const notes: string[] = [];
  await Promise.all(
    APPS.map(async (app) => {
      const prefix = app === 'trade-matching' ? 'tm' : 'sm';
      const started = await twin.workflows.start(`${prefix}-reconciliation`, { app, until: new Date().toISOString(), maxPasses: 5, propagationSeconds: 2 }, { region: twin.activeRegion(app) });
      while (twin.workflows.describe(started.name).status === 'RUNNING') await sleep(500);
      const finished = twin.workflows.describe(started.name);
      const replayed = (finished.output as { replayed?: number } | undefined)?.replayed ?? 0;
      progress(`${prefix}-reconciliation ${finished.status}, replayed ${replayed}`);
      notes.push(`${prefix}-reconciliation ${finished.status}, replayed ${replayed}${finished.error ? ` (${finished.error})` : ''}`);
    }),
  );
  return notes;
}
