import { ArcRoutingControls, parseClusterEndpoints } from '#shared/adapters/arc/arc-routing-controls.ts';
import type { RunningTwin } from '#local/controller/controller.ts';
import type { RegionActionView, RoutingControlView } from '#shared/dashboard/contract.ts';
import { RegionNotFoundError } from '#shared/dashboard/api.ts';
import { RegionCommandError } from '#local/controller/errors.ts';
import { executionView, stateMachineViews } from '#local/dashboard/executions.ts';
import { latestReport } from '#local/dashboard/reports.ts';
import type { DashboardBackend } from '#local/dashboard/server.ts';
import { buildSnapshot, generatorView, twinSnapshotSource } from '#local/dashboard/snapshot.ts';

/**
 * The dashboard API over a running twin. Routing controls are flipped the way every Rotor client flips them: through
 * the ARC cluster's endpoints with the AWS SDK (ArcRoutingControls), so the cluster's safety rules judge the change
 * exactly as they judge a workflow's or an operator's.
 */

/** Seconds of legs per generator invocation when the dashboard starts the loop: a stop or a new rate applies within it. */
export const DASHBOARD_GENERATOR_RUN_SECONDS = 15;

const TWIN_CREDENTIALS = { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' };

export { RegionNotFoundError };

export function twinDashboardBackend(twin: RunningTwin): DashboardBackend & { close(): void } {
  const source = twinSnapshotSource(twin);
  const controls = new ArcRoutingControls({ endpoints: parseClusterEndpoints(twin.arc.clusterEndpointsJson), credentials: TWIN_CREDENTIALS });
  return {
    snapshot: () => buildSnapshot(source),
    setRoutingControl: async (name, state): Promise<RoutingControlView> => {
      await controls.update(name, state);
      return { name, state: twin.arc.states()[name] ?? state };
    },
    generator: async (request) => {
      const status =
        request.action === 'start'
          ? await twin.generator.start(request.rate, DASHBOARD_GENERATOR_RUN_SECONDS)
          : await twin.generator.stop('stopped from the dashboard');
      return generatorView(status) ?? { state: 'stopped', rate: 0, legsSent: 0, reason: 'no generator loop has run' };
    },
    startExecution: async ({ stateMachine, input, region }) => {
      // As `rotor rotate` does: a rotation or a recovery runs where the app is going (the source may be lost).
      const target = region ?? (typeof input.targetRegion === 'string' && twin.regions.includes(input.targetRegion) ? input.targetRegion : undefined);
      const started = await twin.workflows.start(stateMachine, input, target ? { region: target } : {});
      return { executionName: started.name };
    },
    execution: async (name) => executionView(twin.workflows.describe(name)),
    stateMachines: () => stateMachineViews(twin.workflows.stateMachines()),
    latestReport: () => latestReport(twin.layout.dataDir),
    chaos: async () => ({ experiments: twin.chaos.list(), ...twin.chaos.status() }),
    chaosAction: async (name, request) =>
      request.action === 'stop'
        ? twin.chaos.stop(name)
        : [await twin.chaos.start(name, { ...(request.targets ? { targets: [...request.targets] } : {}), ...(request.durationSeconds === undefined ? {} : { durationMs: Math.round(request.durationSeconds * 1000) }) })],
    regionAction: async (region, action): Promise<RegionActionView> => {
      if (!twin.regions.includes(region)) throw new RegionNotFoundError(`the twin has no region ${region}; it has ${twin.regions.join(', ')}`);
      const state = twin.region(region).state;
      // As `rotor region` answers: a region is started only from down, and stopped or killed only when it is not.
      if (action === 'start') {
        if (state !== 'down') throw new RegionCommandError(`region ${region} is ${state}, not down`);
        await twin.startRegion(region);
      } else {
        if (state === 'down') throw new RegionCommandError(`region ${region} is already down`);
        await (action === 'kill' ? twin.killRegion(region) : twin.stopRegion(region));
      }
      return { region, action, state: twin.region(region).state };
    },
    close: () => controls.destroy(),
  };
}
