import { ArcRoutingControls, parseClusterEndpoints } from '#shared/adapters/arc/arc-routing-controls.ts';
import type { VerifyResult } from '#shared/verification/verify-run.ts';
import type { AppName } from '#shared/topology/schema.ts';
import { startTwin, type RunningTwin } from '#local/controller/controller.ts';
import type { TwinExecution } from '#local/controller/twin-workflows.ts';
import { verifyWhenArrived } from '#local/support/verify-polling.ts';

/** What every drill does to its twin: steady load, a workflow run to the end, the load stopped, a verdict. */

export const APPS: readonly AppName[] = ['trade-matching', 'settlement'];
const PREFIX: Record<AppName, string> = { 'trade-matching': 'tm', settlement: 'sm' };

export interface DrillProgress {
  (message: string): void;
}

/** A fresh twin on the drill's directory with the generator at the drill's rate; its events go to the progress. */
export function startDrillTwin(options: { dataDir: string; rate: number; progress: DrillProgress; zeroRpo?: boolean }): Promise<RunningTwin> {
  return startTwin({
    dataDir: options.dataDir,
    fresh: true,
    generatorRate: options.rate,
    ...(options.zeroRpo ? { zeroRpo: true } : {}),
    onEvent: (message) => options.progress(`twin: ${message}`),
  });
}

/** Lets the load run for a while, saying so every five seconds. */
export async function runLoad(seconds: number, label: string, progress: DrillProgress): Promise<void> {
  for (let elapsed = 0; elapsed < seconds; elapsed += 5) {
    progress(`${label}: ${elapsed} of ${seconds} s`);
    await sleep(Math.min(5, seconds - elapsed) * 1_000);
  }
}

/** Turns the generator routing control Off: the run in progress stops after its current second of legs. */
export async function stopLoad(twin: RunningTwin): Promise<void> {
  const controls = new ArcRoutingControls({
    endpoints: parseClusterEndpoints(twin.arc.clusterEndpointsJson),
    credentials: { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' },
  });
  await controls.update('trade-matching-generator', 'Off');
  // The function sees the control within its one-second cache, then its run returns.
  const deadline = Date.now() + 30_000;
  while (twin.generatorStatus()?.state === 'running' && Date.now() < deadline) await sleep(500);
}

export interface WorkflowRun {
  readonly app: AppName;
  readonly execution: TwinExecution;
  /** Execution start → the canary SETTLED; null when it never settled. */
  readonly rtoMs: number | null;
  readonly replayed: number;
}

/** Runs the app's rotation (or DR) in the twin, in the target region, and waits for its end. */
export async function runRotation(
  twin: RunningTwin,
  app: AppName,
  options: { sourceRegion: string; targetRegion: string; unplanned: boolean; progress: DrillProgress; timeoutMs?: number },
): Promise<WorkflowRun> {
  const stateMachine = `${PREFIX[app]}-${options.unplanned ? 'disaster-recovery' : 'rotation'}`;
  const started = await twin.workflows.start(
    stateMachine,
    { app, sourceRegion: options.sourceRegion, targetRegion: options.targetRegion, maxPasses: 5, propagationSeconds: 2 },
    { region: options.targetRegion },
  );
  options.progress(`${stateMachine} ${started.name}: ${app} ${options.sourceRegion} → ${options.targetRegion}`);
  const deadline = Date.now() + (options.timeoutMs ?? 600_000);
  let seen = 0;
  for (;;) {
    const execution = twin.workflows.describe(started.name);
    for (const event of execution.events.filter((candidate) => candidate.id > seen)) {
      if (event.type === 'StateExited' && event.stateType === 'Task') options.progress(`  ${app}: ${event.stateName} (${((event.durationMs ?? 0) / 1000).toFixed(1)} s)`);
      if (event.type === 'StateRetried') options.progress(`  ${app}: ${event.stateName} retry: ${event.error ?? ''}`);
      if (event.type === 'StateFailed' || event.type === 'ExecutionFailed') options.progress(`  ${app}: ${event.stateName ?? 'execution'} failed: ${event.error ?? ''} ${event.cause ?? ''}`);
    }
    seen = Math.max(seen, ...execution.events.map((event) => event.id));
    if (execution.status !== 'RUNNING' || Date.now() >= deadline) {
      const settled = execution.events.find((event) => event.type === 'StateExited' && event.stateName === 'CheckCanary');
      const output = (execution.output ?? {}) as { reconciliation?: { replayed?: number }; finalReconciliation?: { replayed?: number } };
      return {
        app,
        execution,
        rtoMs: settled ? Date.parse(settled.timestamp) - Date.parse(execution.startDate) : null,
        replayed: (output.reconciliation?.replayed ?? 0) + (output.finalReconciliation?.replayed ?? 0),
      };
    }
    await sleep(500);
  }
}

/** `rotor verify` in the region trade matching is active in, waiting up to `timeoutMs` for legs in flight. */
export function verifyTwin(twin: RunningTwin, timeoutMs: number, progress: DrillProgress): Promise<VerifyResult> {
  return verifyWhenArrived((payload) => twin.invoke('ops-verify', payload, { app: 'trade-matching' }), {
    timeoutMs,
    onWaiting: (state) => progress(`verify: ${state.legs_terminal} of ${state.legs_sent} legs terminal, ${state.legs_sent - state.legs_acked} not yet acknowledged`),
  });
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
