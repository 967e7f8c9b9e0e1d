import { APPS, runLoad, startDrillTwin, runRotation, stopLoad, verifyTwin, type DrillProgress, type WorkflowRun } from '#local/drills/drill-twin.ts';
import { regionRto, verdictFields, workflowSummaries, type DrillResult } from '#local/drills/drill-result.ts';

/**
 * `rotor drill planned-rotation`: a fresh twin under steady load; both apps rotate to the other region side by side
 * while the generator keeps sending (it follows the edge); the load goes on in the new region, stops,
 * and verify judges every leg sent. RPO is 0 by evidence when each rotation read its source's watermark in the
 * target before switching the writer over (the Aurora switchover itself waits for the secondary to catch up).
 */

export interface DrillOptions {
  readonly dataDir: string;
  /** Generator legs per second. */
  readonly rate: number;
  readonly warmUpSeconds: number;
  readonly afterSeconds: number;
  readonly verifyTimeoutSeconds: number;
  readonly progress: DrillProgress;
}

export async function plannedRotationDrill(options: DrillOptions): Promise<DrillResult> {
  const began = Date.now();
  const notes: string[] = [];
  const twin = await startDrillTwin(options);
  try {
    const source = twin.activeRegion('trade-matching');
    const target = twin.regions.find((region) => region !== source)!;
    await runLoad(options.warmUpSeconds, `load into ${source}`, options.progress);

    // Both apps at once, as a region rotation: each app's canary crosses the other app.
    const runs: WorkflowRun[] = await Promise.all(
      APPS.map((app) => runRotation(twin, app, { sourceRegion: twin.activeRegion(app), targetRegion: target, unplanned: false, progress: options.progress })),
    );
    const rotated = runs.every((run) => run.execution.status === 'SUCCEEDED');
    if (!rotated) notes.push('a rotation did not succeed; see workflows[].error');

    await runLoad(options.afterSeconds, `load into ${target}`, options.progress);
    await stopLoad(twin);
    const verdict = await verifyTwin(twin, options.verifyTimeoutSeconds * 1000, options.progress);
    const watermarksSeen = runs.every((run) => run.execution.events.some((event) => event.type === 'StateExited' && event.stateName === 'ReadWatermark'));
    const digestsEqual = runs.every((run) => (run.execution.output as { digestsEqual?: boolean } | undefined)?.digestsEqual === true);
    if (!digestsEqual) notes.push('a rotation found its stores changed between the source before and the target after (digestsEqual false)');
    return {
      scenario: 'planned-rotation',
      ok: rotated && verdict.ok && verdict.lost === 0 && verdict.duplicates === 0 && digestsEqual,
      ...verdictFields(verdict),
      rto_ms: regionRto(runs),
      rpo_ms: rotated && watermarksSeen ? 0 : null,
      lost_before_recovery: verdict.lost,
      lost_after_recovery: verdict.lost,
      recovered_by_replay: runs.reduce((sum, run) => sum + run.replayed, 0),
      report: null,
      workflows: workflowSummaries(runs),
      load: { rate_legs_per_s: options.rate, warm_up_s: options.warmUpSeconds, after_s: options.afterSeconds },
      duration_ms: Date.now() - began,
      notes,
    };
  } finally {
    await twin.stop();
  }
}
