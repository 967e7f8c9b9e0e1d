import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { LambdaClient, ListEventSourceMappingsCommand, type EventSourceMappingConfiguration } from '@aws-sdk/client-lambda';
import type { MappingView } from '#shared/dashboard/contract.ts';
import type { RegionObservation, RegionObserver } from '#shared/dashboard/aws-backend.ts';

/**
 * What the dashboard sees of one region on AWS, from CloudWatch and Lambda only: the functions' own EMF metrics
 * (namespace `Rotor`, dimensions `service` and `region`, as Powertools publishes them), each event-source mapping's
 * state with its function's `IteratorAge`, DynamoDB's `ReplicationLatency` out of the region and Aurora's
 * `AuroraGlobalDBReplicationLag` of the region's secondaries. One `ListMetrics` every few minutes and one
 * `GetMetricData` per 500 series per snapshot: no store is read.
 */

export interface CloudWatchRegionObserverOptions {
  /** Physical function name → the manifest's (`rotor-prod-tm-ingestion` → `tm-ingestion`). */
  readonly manifestName: (physicalName: string) => string;
  /** Physical names of the replicated tables, for their replication latency. */
  readonly tables: readonly string[];
  /** Aurora global cluster member identifiers in this region's account, by manifest database name. */
  readonly databaseClusters: Readonly<Record<string, string>>;
  readonly regions: readonly string[];
  readonly namespace?: string;
  readonly clients?: (region: string) => { cloudwatch: CloudWatchClient; lambda: LambdaClient };
}

const PERIOD_SECONDS = 60;
const MAX_QUERIES = 500;
const METRIC_LIST_TTL_MS = 5 * 60_000;

interface Series {
  readonly id: string;
  readonly query: MetricDataQuery;
}

export class CloudWatchRegionObserver implements RegionObserver {
  readonly #clients = new Map<string, { cloudwatch: CloudWatchClient; lambda: LambdaClient }>();
  readonly #metricLists = new Map<string, { at: number; metrics: { service: string; metric: string }[] }>();

  constructor(private readonly options: CloudWatchRegionObserverOptions) {}

  async observe(region: string, windowSeconds: number): Promise<RegionObservation> {
    const { cloudwatch, lambda } = this.#clientsOf(region);
    const [rotorMetrics, mappings] = await Promise.all([this.#rotorMetrics(region, cloudwatch), listMappings(lambda)]);
    const queries: Series[] = [
      ...rotorMetrics.map(({ service, metric }, index) => ({
        id: `r${index}`,
        query: stat(`r${index}`, this.options.namespace ?? 'Rotor', metric, { service, region }, 'Sum'),
      })),
      ...mappings.map((mapping, index) => ({
        id: `i${index}`,
        query: stat(`i${index}`, 'AWS/Lambda', 'IteratorAge', { FunctionName: functionName(mapping) }, 'Maximum'),
      })),
      ...this.options.tables.flatMap((table, tableIndex) =>
        this.options.regions
          .filter((other) => other !== region)
          .map((receiving, index) => ({ id: `d${tableIndex}_${index}`, query: stat(`d${tableIndex}_${index}`, 'AWS/DynamoDB', 'ReplicationLatency', { TableName: table, ReceivingRegion: receiving }, 'Maximum') })),
      ),
      ...Object.entries(this.options.databaseClusters).map(([, cluster], index) => ({
        id: `a${index}`,
        query: stat(`a${index}`, 'AWS/RDS', 'AuroraGlobalDBReplicationLag', { DBClusterIdentifier: cluster }, 'Maximum'),
      })),
    ];
    const values = await metricData(cloudwatch, queries, windowSeconds);

    const totals: RegionObservation['totals'] = {};
    const series: RegionObservation['series'] = {};
    rotorMetrics.forEach(({ service, metric }, index) => {
      const points = (values.get(`r${index}`) ?? []).map((value) => value ?? 0);
      (totals[service] ??= {})[metric] = points.reduce((sum, value) => sum + value, 0);
      (series[service] ??= {})[metric] = points.map((value) => value / PERIOD_SECONDS);
    });
    const latest = (id: string) => values.get(id)?.findLast((value) => value !== null) ?? null;
    const dynamodbLags = [...values.keys()].filter((id) => id.startsWith('d')).flatMap((id) => (latest(id) === null ? [] : [latest(id)!]));
    return {
      totals,
      series,
      mappings: mappings.map((mapping, index): MappingView => {
        const age = latest(`i${index}`);
        return { mappingId: `${sourceName(mapping)}--${this.options.manifestName(functionName(mapping))}`, state: mapping.State ?? 'Unknown', ...(age === null ? {} : { iteratorAgeMs: age }) };
      }),
      dynamodbLagMs: dynamodbLags.length ? Math.max(...dynamodbLags) : null,
      databases: Object.keys(this.options.databaseClusters).map((name, index) => ({ name, writerRegion: null, lagMs: latest(`a${index}`) })),
    };
  }

  #clientsOf(region: string) {
    let clients = this.#clients.get(region);
    if (!clients) {
      clients = this.options.clients?.(region) ?? { cloudwatch: new CloudWatchClient({ region }), lambda: new LambdaClient({ region }) };
      this.#clients.set(region, clients);
    }
    return clients;
  }

  async #rotorMetrics(region: string, cloudwatch: CloudWatchClient): Promise<{ service: string; metric: string }[]> {
    const cached = this.#metricLists.get(region);
    if (cached && Date.now() - cached.at < METRIC_LIST_TTL_MS) return cached.metrics;
    const metrics: { service: string; metric: string }[] = [];
    let NextToken: string | undefined;
    do {
      const page = await cloudwatch.send(new ListMetricsCommand({ Namespace: this.options.namespace ?? 'Rotor', Dimensions: [{ Name: 'region', Value: region }], NextToken }));
      for (const metric of page.Metrics ?? []) {
        const service = metric.Dimensions?.find((dimension) => dimension.Name === 'service')?.Value;
        // Powertools publishes exactly (service, region); other dimension sets are not the dashboard's.
        if (service && metric.MetricName && metric.Dimensions?.length === 2) metrics.push({ service, metric: metric.MetricName });
      }
      NextToken = page.NextToken;
    } while (NextToken);
    this.#metricLists.set(region, { at: Date.now(), metrics });
    return metrics;
  }
}

function stat(id: string, namespace: string, metric: string, dimensions: Record<string, string>, statistic: 'Sum' | 'Maximum'): MetricDataQuery {
  return {
    Id: id,
    MetricStat: { Metric: { Namespace: namespace, MetricName: metric, Dimensions: Object.entries(dimensions).map(([Name, Value]) => ({ Name, Value })) }, Period: PERIOD_SECONDS, Stat: statistic },
    ReturnData: true,
  };
}

/** Every query's values, one slot a minute over the window, oldest first; null for a minute with no data. */
async function metricData(cloudwatch: CloudWatchClient, series: readonly Series[], windowSeconds: number): Promise<Map<string, (number | null)[]>> {
  const end = Math.floor(Date.now() / 60_000) * 60_000;
  const slots = Math.max(1, Math.round(windowSeconds / PERIOD_SECONDS));
  const start = end - slots * PERIOD_SECONDS * 1000;
  const values = new Map<string, (number | null)[]>();
  for (let offset = 0; offset < series.length; offset += MAX_QUERIES) {
    let NextToken: string | undefined;
    do {
      const page = await cloudwatch.send(
        new GetMetricDataCommand({ MetricDataQueries: series.slice(offset, offset + MAX_QUERIES).map((entry) => entry.query), StartTime: new Date(start), EndTime: new Date(end), ScanBy: 'TimestampAscending', NextToken }),
      );
      for (const result of page.MetricDataResults ?? []) {
        if (!result.Id) continue;
        const aligned = values.get(result.Id) ?? new Array<number | null>(slots).fill(null);
        (result.Timestamps ?? []).forEach((timestamp, index) => {
          const slot = Math.floor((timestamp.getTime() - start) / (PERIOD_SECONDS * 1000));
          if (slot >= 0 && slot < slots) aligned[slot] = result.Values?.[index] ?? null;
        });
        values.set(result.Id, aligned);
      }
      NextToken = page.NextToken;
    } while (NextToken);
  }
  return values;
}

async function listMappings(lambda: LambdaClient): Promise<EventSourceMappingConfiguration[]> {
  const mappings: EventSourceMappingConfiguration[] = [];
  let Marker: string | undefined;
  do {
    const page = await lambda.send(new ListEventSourceMappingsCommand({ Marker }));
    mappings.push(...(page.EventSourceMappings ?? []));
    Marker = page.NextMarker;
  } while (Marker);
  return mappings;
}

const functionName = (mapping: EventSourceMappingConfiguration) => (mapping.FunctionArn ?? '').split(':').at(6) ?? '';

/** The stream's or queue's name: `arn:…:stream/<name>`, or an MQ mapping's queue. */
function sourceName(mapping: EventSourceMappingConfiguration): string {
  if (mapping.Queues?.[0]) return mapping.Queues[0];
  return (mapping.EventSourceArn ?? '').split('/').at(-1) ?? '';
}
