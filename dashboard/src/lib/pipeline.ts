import type { AppName, MappingView, MetricSeries, MetricTotals, RegionView } from '../../../shared/dashboard/contract.ts';

/**
 * Each app's five-stage pipeline as the manifest names it (shared/topology/rotor.ts): services `<p>-<stage>`,
 * event-source mappings `<queue or stream>--<service>` (local/region/region-functions.ts).
 */

export const APPS: readonly AppName[] = ['trade-matching', 'settlement'];
export const APP_PREFIX: Record<AppName, string> = { 'trade-matching': 'tm', settlement: 'sm' };
export const APP_LABEL: Record<AppName, string> = { 'trade-matching': 'Trade matching', settlement: 'Settlement' };
export const STAGES = ['inbound-gateway', 'ingestion', 'matching', 'egress', 'outbound-gateway'] as const;
export type Stage = (typeof STAGES)[number];

export const serviceName = (app: AppName, stage: Stage) => `${APP_PREFIX[app]}-${stage}`;

/** Which metric counts work coming in and going out of a stage, by what the stage's function emits. */
export const IN_METRICS = ['MessagesReceived', 'RecordsProcessed'] as const;
export const OUT_METRICS = ['MessagesRecorded', 'RecordsForwarded'] as const;
/** The count a stage's throughput is drawn from: what it finished with. */
export const THROUGHPUT_METRICS = ['MessagesRecorded', 'RecordsProcessed'] as const;

export interface StageBacklog {
  readonly mappings: readonly MappingView[];
  /** Largest iterator age over the stage's Kinesis mappings, when it has any. */
  readonly iteratorAgeMs: number | null;
  /** Messages waiting over the stage's MQ mappings, when it has any. */
  readonly queueDepth: number | null;
}

export interface StageView {
  readonly stage: Stage;
  readonly service: string;
  /** Totals of every metric the service has reported in this region (absent metrics are absent). */
  readonly totals: Readonly<Record<string, number>>;
  readonly throughput: readonly number[] | null;
  readonly throughputMetric: string | null;
  readonly backlog: StageBacklog;
}

/** The mapping's function: the part after the last `--`. */
export function mappingService(mappingId: string): string | null {
  const at = mappingId.lastIndexOf('--');
  return at < 0 ? null : mappingId.slice(at + 2);
}

/** The queue or stream a mapping reads. */
export function mappingSource(mappingId: string): string {
  const at = mappingId.lastIndexOf('--');
  return at < 0 ? mappingId : mappingId.slice(0, at);
}

export function stageBacklog(mappings: readonly MappingView[], service: string): StageBacklog {
  const own = mappings.filter((mapping) => mappingService(mapping.mappingId) === service);
  const ages = own.flatMap((mapping) => (mapping.iteratorAgeMs === undefined ? [] : [mapping.iteratorAgeMs]));
  const depths = own.flatMap((mapping) => (mapping.queueDepth === undefined ? [] : [mapping.queueDepth]));
  return {
    mappings: own,
    iteratorAgeMs: ages.length ? Math.max(...ages) : null,
    queueDepth: depths.length ? depths.reduce((sum, depth) => sum + depth, 0) : null,
  };
}

export function firstPresent(values: Readonly<Record<string, number>> | undefined, names: readonly string[]): { name: string; value: number } | null {
  for (const name of names) {
    const value = values?.[name];
    if (value !== undefined) return { name, value };
  }
  return null;
}

export function stageViews(app: AppName, region: RegionView | undefined, regionName: string, metrics: MetricTotals, series: MetricSeries): StageView[] {
  return STAGES.map((stage) => {
    const service = serviceName(app, stage);
    const serviceSeries = series[regionName]?.[service];
    const throughputMetric = THROUGHPUT_METRICS.find((name) => serviceSeries?.[name] !== undefined) ?? null;
    return {
      stage,
      service,
      totals: metrics[regionName]?.[service] ?? {},
      throughput: throughputMetric ? (serviceSeries?.[throughputMetric] ?? null) : null,
      throughputMetric,
      backlog: stageBacklog(region?.mappings ?? [], service),
    };
  });
}

/** Mappings whose function is none of the pipeline stages (shown so nothing the region reports is hidden). */
export function otherMappings(region: RegionView): MappingView[] {
  const services = new Set(APPS.flatMap((app) => STAGES.map((stage) => serviceName(app, stage))));
  return region.mappings.filter((mapping) => !services.has(mappingService(mapping.mappingId) ?? ''));
}

/** Per second, the sum of RecordsProcessed over an app's stages in one region; null when none reported it. */
export function appThroughput(app: AppName, regionName: string, series: MetricSeries): number[] | null {
  const lists = STAGES.flatMap((stage) => {
    const list = series[regionName]?.[serviceName(app, stage)]?.RecordsProcessed;
    return list ? [list] : [];
  });
  if (lists.length === 0) return null;
  const length = Math.max(...lists.map((list) => list.length));
  // Lists end at the same second; a shorter one started later, so align them on the right.
  return Array.from({ length }, (_, index) =>
    lists.reduce((sum, list) => sum + (list[index - (length - list.length)] ?? 0), 0),
  );
}

/**
 * The oldest record waiting in any of an app's streams in each region (the largest iterator age over its stages'
 * Kinesis mappings), keyed `<region>`; null where the region reports no mapping of the app.
 */
export function appBacklogValues(app: AppName, regions: readonly RegionView[]): Record<string, number | null> {
  return Object.fromEntries(
    regions.map((region) => {
      const ages = STAGES.flatMap((stage) => {
        const age = stageBacklog(region.mappings, serviceName(app, stage)).iteratorAgeMs;
        return age === null ? [] : [age];
      });
      return [region.region, ages.length ? Math.max(...ages) : null];
    }),
  );
}
