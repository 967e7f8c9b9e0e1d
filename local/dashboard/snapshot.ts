import type { RunningTwin } from '#local/controller/controller.ts';
import type { GeneratorStatus } from '#local/controller/generator-loop.ts';
import type { MetricCollector } from '#local/controller/metric-collector.ts';
import type { RegionSupervisor } from '#local/controller/region-supervisor.ts';
import { mappingLags } from '#local/controller/twin-status.ts';
import type { RunningArcEmulator } from '#local/global/arc/emulator.ts';
import type { LinkMetrics } from '#local/global/dynamo-replication/replication-link.ts';
import { regionalRoutingControlName } from '#shared/ports/routing-controls.ts';
import type { AppName, DashboardSnapshot, GeneratorView, RegionView, ReplicationView } from '#shared/dashboard/contract.ts';
import { recentExecutions, type WorkflowsReader } from '#local/dashboard/executions.ts';

/**
 * The dashboard's snapshot, built from what the controller keeps in memory: region processes and their own cheap
 * `/status` (mapping lag), the ARC cluster's states, the replication links' metrics, the Aurora component's last
 * sample, the generator loop, the functions' EMF metrics and the workflow runner's executions. It never scans a
 * store (`rotor status` counts items; the dashboard does not), so it can be built every second.
 */

const APPS: readonly AppName[] = ['trade-matching', 'settlement'];
/** A region busy under load may answer its status late; the snapshot does not wait past this. */
const REGION_STATUS_TIMEOUT_MS = 800;

/** What the snapshot reads; a RunningTwin provides all of it (twinSnapshotSource). */
export interface SnapshotSource {
  readonly regions: readonly string[];
  region(name: string): Pick<RegionSupervisor, 'state' | 'fetchStatus'>;
  readonly arc: Pick<RunningArcEmulator, 'states' | 'endpoints' | 'isEndpointRunning'>;
  replicationLinks(): readonly LinkMetrics[];
  componentStatus(): Record<string, unknown>;
  generatorStatus(): GeneratorStatus | null;
  readonly metrics: Pick<MetricCollector, 'totals' | 'series' | 'seriesSeconds'>;
  readonly workflows: WorkflowsReader;
}

export function twinSnapshotSource(twin: RunningTwin): SnapshotSource {
  return {
    regions: twin.regions,
    region: (name) => twin.region(name),
    arc: twin.arc,
    replicationLinks: () => twin.globalTables.metrics().links,
    componentStatus: () => twin.componentStatus(),
    generatorStatus: () => twin.generatorStatus(),
    metrics: twin.metrics,
    workflows: twin.workflows,
  };
}

export async function buildSnapshot(source: SnapshotSource, now: () => Date = () => new Date()): Promise<DashboardSnapshot> {
  const states = source.arc.states();
  const activeRegions = (app: AppName) => source.regions.filter((region) => states[regionalRoutingControlName(`${app}-dns`, region)] === 'On');
  const regions = await Promise.all(
    source.regions.map(async (name): Promise<RegionView> => {
      const supervisor = source.region(name);
      const live = supervisor.state === 'up' ? await supervisor.fetchStatus(REGION_STATUS_TIMEOUT_MS) : undefined;
      return {
        region: name,
        state: supervisor.state,
        rssMB: live?.rssMB ?? null,
        uptimeMs: live?.uptimeMs ?? null,
        activeFor: APPS.filter((app) => activeRegions(app).includes(name)),
        mappings: live ? mappingLags(live) : [],
      };
    }),
  );
  const links = source.replicationLinks();
  return {
    at: now().toISOString(),
    regions,
    apps: APPS.map((app) => {
      const active = activeRegions(app);
      return { app, activeRegion: active.length === 1 ? active[0]! : null };
    }),
    routingControls: Object.entries(states)
      .map(([name, state]) => ({ name, state }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    arcEndpoints: source.arc.endpoints.map((endpoint, index) => ({ url: endpoint.url, region: endpoint.region, running: source.arc.isEndpointRunning(index) })),
    replication: {
      lagMs: links[0]?.lagMs ?? 0,
      directions: links.map((link) => ({ from: link.from, to: link.to, state: link.state, backlog: link.backlog, oldestPendingAgeMs: link.oldestPendingAgeMs })),
      databases: auroraDatabases(source.componentStatus()),
    },
    generator: generatorView(source.generatorStatus()),
    metrics: source.metrics.totals(),
    series: source.metrics.series(),
    seriesSeconds: source.metrics.seriesSeconds,
    executions: recentExecutions(source.workflows),
  };
}

export function generatorView(status: GeneratorStatus | null): GeneratorView | null {
  if (!status) return null;
  return {
    state: status.state,
    rate: status.rate,
    legsSent: status.legsSent,
    ...(status.region === undefined ? {} : { region: status.region }),
    ...(status.reason === undefined ? {} : { reason: status.reason }),
  };
}

/** The Aurora component's last sample (aurora-global-databases.ts: database → {writer, rpoLagMs, …}), when plugged in. */
function auroraDatabases(components: Record<string, unknown>): ReplicationView['databases'] {
  const aurora = components.aurora;
  if (typeof aurora !== 'object' || aurora === null) return [];
  return Object.entries(aurora as Record<string, { writer?: unknown; rpoLagMs?: unknown } | null>).map(([name, database]) => ({
    name,
    writerRegion: typeof database?.writer === 'string' ? database.writer : null,
    lagMs: typeof database?.rpoLagMs === 'number' ? database.rpoLagMs : null,
  }));
}
