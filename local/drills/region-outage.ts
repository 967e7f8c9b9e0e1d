import { APPS, runLoad, startDrillTwin, runRotation, sleep, stopLoad, verifyTwin, type WorkflowRun } from '#local/drills/drill-twin.ts';
import { regionRto, verdictFields, workflowSummaries, type DrillResult } from '#local/drills/drill-result.ts';
import { inboundMessages, replayMissing, writeMissingTransactionReport } from '#local/drills/missing-transactions.ts';
import type { DrillOptions } from '#local/drills/planned-rotation.ts';

/**
 * `rotor drill region-outage`: a fresh twin under steady load; the active region is SIGKILLed; disaster recovery
 * runs for both apps in the survivor (touching only it and the ARC cluster) while the generator moves there with
 * the edge; the load goes on, stops, and verify judges (lost before recovery). Then, unless told not to, the failback
 * path: the old region restarts, what its broker still holds (sent, never acknowledged) moves to the new active
 * region, the missing-transaction report lists every message it acknowledged that the new active region lacks, they
 * are replayed, reconciliation runs for both apps, and verify judges again (lost after
 * recovery). RTO runs from the kill to the slower app's canary SETTLED; RPO is the age, at the kill, of the newest
 * acknowledged message the survivor did not have then.
 */

export interface RegionOutageOptions extends DrillOptions {
  readonly failback: boolean;
  /** The TM inbound safe store replicated synchronously: no acknowledged leg is missing in the survivor. */
  readonly zeroRpo?: boolean;
}

export async function regionOutageDrill(options: RegionOutageOptions): Promise<DrillResult> {
  const began = Date.now();
  const notes: string[] = [];
  const twin = await startDrillTwin(options);
  try {
    const source = twin.activeRegion('trade-matching');
    const target = twin.regions.find((region) => region !== source)!;
    await runLoad(options.warmUpSeconds, `load into ${source}`, options.progress);

    const killedAt = Date.now();
    await twin.killRegion(source);
    options.progress(`${source} SIGKILLed`);
    const atFailover = new Set((await inboundMessages(twin, target)).map((message) => message.id));

    // Both apps at once: the region is gone for both, and each app's canary crosses the other app.
    const runs: WorkflowRun[] = await Promise.all(APPS.map((app) => runRotation(twin, app, { sourceRegion: source, targetRegion: target, unplanned: true, progress: options.progress })));
    const recovered = runs.every((run) => run.execution.status === 'SUCCEEDED');
    if (!recovered) notes.push('a disaster recovery did not succeed; see workflows[].error');
    // RTO counts from the outage, not from the workflow's start.
    const rtoFromKill = runs.map((run) => ({ ...run, rtoMs: run.rtoMs === null ? null : run.rtoMs + (Date.parse(run.execution.startDate) - killedAt) }));

    await runLoad(options.afterSeconds, `load into ${target}`, options.progress);
    await stopLoad(twin);
    const before = await verifyTwin(twin, options.verifyTimeoutSeconds * 1000, options.progress);
    let after = before;
    let report: string | null = null;
    let rpoMs: number | null = null;
    let replayed = 0;
    if (options.failback) {
      options.progress(`failback: restarting ${source}`);
      await twin.startRegion(source);
      // Messages clients sent to the old region that its gateways never took (so never acknowledged) are still in
      // its broker: they go to the active region's queues first, as an operator drains an old broker.
      let forwarded = 0;
      for (const app of APPS) {
        const moved = await twin.invoke<{ forwarded: Record<string, number> }>('ops-drain-check', { check: 'forward-queues', app, runId: `failback-${killedAt}`, toRegion: target }, { region: source });
        forwarded += Object.values(moved.forwarded).reduce((sum, count) => sum + count, 0);
      }
      options.progress(`failback: ${forwarded} unacknowledged messages moved from ${source}'s broker to ${target}`);
      replayed += forwarded;
      const missing = await writeMissingTransactionReport(twin, { failedRegion: source, activeRegion: target, failedAt: killedAt, atFailover, runId: `region-outage-${killedAt}` });
      report = missing.files.json;
      rpoMs = missing.rpoMs;
      options.progress(`failback: ${missing.missing.length} acknowledged messages missing in ${target} (${missing.missingAtFailover} at failover); replaying`);
      replayed = await replayMissing(twin, target, missing.missing);
      await sleep(2_000);
      for (const app of APPS) {
        const prefix = app === 'trade-matching' ? 'tm' : 'sm';
        const started = await twin.workflows.start(`${prefix}-reconciliation`, { app, until: new Date().toISOString(), maxPasses: 5, propagationSeconds: 2 }, { region: target });
        while (twin.workflows.describe(started.name).status === 'RUNNING') await sleep(500);
        const finished = twin.workflows.describe(started.name);
        if (finished.status !== 'SUCCEEDED') notes.push(`failback reconciliation of ${app} ended ${finished.status}: ${finished.error ?? ''}`);
        replayed += (finished.output as { replayed?: number } | undefined)?.replayed ?? 0;
      }
      after = await verifyTwin(twin, options.verifyTimeoutSeconds * 1000, options.progress);
    } else {
      notes.push('no failback: the old region stays down; lost_after_recovery is the verdict without it');
    }
    return {
      scenario: 'region-outage',
      zero_rpo: options.zeroRpo ?? false,
      ok: recovered && after.ok && after.lost === 0 && after.duplicates === 0,
      ...verdictFields(after),
      rto_ms: regionRto(rtoFromKill),
      rpo_ms: rpoMs,
      lost_before_recovery: before.lost,
      lost_after_recovery: after.lost,
      recovered_by_replay: replayed + runs.reduce((sum, run) => sum + run.replayed, 0),
      report,
      workflows: workflowSummaries(rtoFromKill),
      load: { rate_legs_per_s: options.rate, warm_up_s: options.warmUpSeconds, after_s: options.afterSeconds },
      duration_ms: Date.now() - began,
      notes,
    };
  } finally {
    await twin.stop();
  }
}
