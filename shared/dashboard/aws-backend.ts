import type { AppName, DashboardSnapshot, ExecutionSummary, ExecutionView, GeneratorView, MappingView, MetricSeries, MetricTotals, RegionView, ReplicationView, StateMachineView } from '#shared/dashboard/contract.ts';
import { RegionNotFoundError, type DashboardBackend } from '#shared/dashboard/api.ts';

export { RegionNotFoundError };
import { regionalRoutingControlName, type RoutingControls, type RoutingControlStatus } from '#shared/ports/routing-controls.ts';

/**
 * The dashboard API over a deployed Rotor: the functions' EMF metrics from CloudWatch, event-source mappings from
 * Lambda, replication lag from the DynamoDB and RDS metrics (RegionObserver), routing controls through the ARC
 * cluster (the same RoutingControls every Rotor client uses, so safety rules judge the dashboard's changes), and
 * the workflows in Step Functions (WorkflowRuns). Region processes do not exist on AWS: a region is `up` while its
 * APIs answer, and outages are rehearsed with the runbooks, not from here.
 */

export const APPS: readonly AppName[] = ['trade-matching', 'settlement'];
export const GENERATOR_CONTROL = 'trade-matching-generator';
/** How long a generator run started from the dashboard lasts (the generator function's own limit). */
export const DASHBOARD_GENERATOR_SECONDS = 900;
const RECENT_EXECUTIONS = 20;

export interface RegionObservation {
  /** Service (function name, e.g. `tm-ingestion`) → metric → sum over the window. */
  readonly totals: Record<string, Record<string, number>>;
  /** The same keys, per-second rates over the window, oldest first. */
  readonly series: Record<string, Record<string, number[]>>;
  readonly mappings: readonly MappingView[];
  /** DynamoDB global tables' replication latency into this region, the largest over its tables; null when unknown. */
  readonly dynamodbLagMs: number | null;
  readonly databases: readonly { readonly name: string; readonly writerRegion: string | null; readonly lagMs: number | null }[];
}

export interface RegionObserver {
  /** The last `windowSeconds` of one region; rejects when the region's APIs do not answer. */
  observe(region: string, windowSeconds: number): Promise<RegionObservation>;
}

export interface WorkflowRuns {
  stateMachines(): Promise<StateMachineView[]>;
  /** The newest executions over every state machine and region, newest first. */
  recent(limit: number): Promise<ExecutionSummary[]>;
  /** ExecutionNotFoundError when no state machine has an execution of that name. */
  describe(name: string): Promise<ExecutionView>;
  /** Starts the state machine in the region; resolves the execution's name. */
  start(region: string, stateMachine: string, input: Record<string, unknown>): Promise<string>;
}

export interface GeneratorLauncher {
  /** Starts the generator function in the region without waiting for it (Lambda `Event` invocation). */
  launch(region: string, request: { rate: number; durationSeconds: number }): Promise<void>;
}

export interface AwsDashboardOptions {
  readonly regions: readonly string[];
  readonly routing: RoutingControls;
  /** The ARC cluster's endpoints, as shown in the health view. */
  readonly clusterEndpoints: readonly { readonly url: string; readonly region: string }[];
  readonly observer: RegionObserver;
  readonly workflows: WorkflowRuns;
  readonly generator: GeneratorLauncher;
  /** Seconds of metrics a snapshot covers (default 900: CloudWatch keeps one point a minute). */
  readonly windowSeconds?: number;
  readonly now?: () => Date;
}

export class RegionActionUnsupportedError extends Error {
  override readonly name = 'RegionActionUnsupportedError';
}

export class ChaosUnsupportedError extends Error {
  override readonly name = 'ChaosUnsupportedError';
}

export function awsDashboardBackend(options: AwsDashboardOptions): DashboardBackend {
  const windowSeconds = options.windowSeconds ?? 900;
  const now = options.now ?? (() => new Date());
  const activeRegion = (controls: readonly RoutingControlStatus[], app: AppName) =>
    options.regions.find((region) => controls.some((control) => control.name === regionalRoutingControlName(`${app}-dns`, region) && control.state === 'On')) ?? null;

  return {
    snapshot: async (): Promise<DashboardSnapshot> => {
      const [controls, observations, executions] = await Promise.all([
        options.routing.list().then(
          (list) => ({ list, reachable: true }),
          () => ({ list: [] as RoutingControlStatus[], reachable: false }),
        ),
        Promise.all(options.regions.map((region) => options.observer.observe(region, windowSeconds).catch(() => null))),
        options.workflows.recent(RECENT_EXECUTIONS).catch(() => []),
      ]);
      const active = Object.fromEntries(APPS.map((app) => [app, activeRegion(controls.list, app)])) as Record<AppName, string | null>;
      const regions = options.regions.map(
        (region, index): RegionView => ({
          region,
          state: observations[index] ? 'up' : 'unreachable',
          rssMB: null,
          uptimeMs: null,
          activeFor: APPS.filter((app) => active[app] === region),
          mappings: observations[index]?.mappings ?? [],
        }),
      );
      const metrics: MetricTotals = {};
      const series: MetricSeries = {};
      options.regions.forEach((region, index) => {
        const observation = observations[index];
        if (!observation) return;
        metrics[region] = observation.totals;
        series[region] = observation.series;
      });
      const generator = controls.list.find((control) => control.name === GENERATOR_CONTROL);
      return {
        at: now().toISOString(),
        regions,
        apps: APPS.map((app) => ({ app, activeRegion: active[app] })),
        routingControls: controls.list.map(({ name, state }) => ({ name, state })),
        // The cluster answered through one of them, or through none.
        arcEndpoints: options.clusterEndpoints.map((endpoint) => ({ ...endpoint, running: controls.reachable })),
        replication: replicationView(observations),
        generator: generator ? generatorView(generator.state, active['trade-matching']) : null,
        metrics,
        series,
        seriesSeconds: windowSeconds,
        executions,
      };
    },
    setRoutingControl: async (name, state) => {
      await options.routing.update(name, state);
      return { name, state: await options.routing.getState(name) };
    },
    generator: async (request) => {
      const region = activeRegion(await options.routing.list(), 'trade-matching');
      if (request.action === 'stop') {
        await options.routing.update(GENERATOR_CONTROL, 'Off');
        return { ...generatorView('Off', region), reason: 'stopped from the dashboard' };
      }
      if (!region) throw new RegionNotFoundError('trade matching has no active region to generate into');
      await options.routing.update(GENERATOR_CONTROL, 'On');
      await options.generator.launch(region, { rate: request.rate, durationSeconds: DASHBOARD_GENERATOR_SECONDS });
      return { ...generatorView('On', region), rate: request.rate };
    },
    startExecution: async ({ stateMachine, input, region }) => {
      const app = APPS.find((candidate) => candidate === input.app);
      const target =
        region ??
        (typeof input.targetRegion === 'string' && options.regions.includes(input.targetRegion) ? input.targetRegion : undefined) ??
        (app ? activeRegion(await options.routing.list(), app) : null);
      if (!target || !options.regions.includes(target)) throw new RegionNotFoundError(`name a region to run ${stateMachine} in: ${options.regions.join(', ')}`);
      return { executionName: await options.workflows.start(target, stateMachine, input) };
    },
    execution: (name) => options.workflows.describe(name),
    stateMachines: () => options.workflows.stateMachines(),
    // Reconciliation's trail is in the audit tables; reports as files exist on the twin only.
    latestReport: async () => undefined,
    regionAction: async (region) => {
      if (!options.regions.includes(region)) throw new RegionNotFoundError(`no region ${region}: ${options.regions.join(', ')}`);
      throw new RegionActionUnsupportedError('regions are not processes on AWS: rehearse an outage with the runbooks (disaster recovery) or AWS FIS, not from the dashboard');
    },
    // The experiments inject faults inside the twin's emulators; on AWS, AWS FIS is the tool.
    chaos: async () => ({ experiments: [], running: [], recent: [] }),
    chaosAction: async () => {
      throw new ChaosUnsupportedError('chaos experiments run on the twin; on AWS use AWS FIS experiment templates');
    },
  };
}

function generatorView(state: 'On' | 'Off', region: string | null): GeneratorView {
  return { state: state === 'On' ? 'running' : 'stopped', rate: 0, legsSent: 0, ...(region ? { region } : {}) };
}

function replicationView(observations: readonly (RegionObservation | null)[]): ReplicationView {
  const lags = observations.flatMap((observation) => (observation?.dynamodbLagMs == null ? [] : [observation.dynamodbLagMs]));
  const databases = new Map<string, { name: string; writerRegion: string | null; lagMs: number | null }>();
  for (const database of observations.flatMap((observation) => observation?.databases ?? [])) {
    const known = databases.get(database.name);
    databases.set(database.name, {
      name: database.name,
      writerRegion: known?.writerRegion ?? database.writerRegion,
      lagMs: Math.max(known?.lagMs ?? 0, database.lagMs ?? 0),
    });
  }
  return { lagMs: lags.length ? Math.max(...lags) : 0, directions: [], databases: [...databases.values()] };
}
