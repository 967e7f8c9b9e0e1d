import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { LinkMetrics } from '#local/global/dynamo-replication/replication-link.ts';
import type { RegionStatus } from '#local/region/region.ts';
import type { RoutingControlState } from '#shared/ports/routing-controls.ts';
import type { RegionExit, RegionProcessState, RegionSupervisor } from '#local/controller/region-supervisor.ts';
import type { GeneratorStatus } from '#local/controller/generator-loop.ts';

/** What `rotor status --json` prints: the twin as the controller sees it, gathered on request. */

export interface MappingLag {
  readonly mappingId: string;
  readonly state: string;
  /** Kinesis: the largest iterator age over the shards (AWS's IteratorAge). */
  readonly iteratorAgeMs?: number;
  /** MQ: messages waiting on the queue. */
  readonly queueDepth?: number;
}

export interface RegionStatusEntry {
  readonly region: string;
  readonly state: RegionProcessState;
  readonly pid: number | null;
  /** From process start to ready, module loading included; of the last start. */
  readonly startupMs: number | null;
  readonly rssMB: number | null;
  readonly uptimeMs: number | null;
  readonly dataDir: string;
  readonly log: string;
  readonly endpoints: {
    readonly kinesis: string;
    /** What the region's functions use: the replicating endpoint of the global tables. */
    readonly dynamodb: string;
    /** The region's own dynalite, behind the replicating endpoint. */
    readonly dynalite: string;
    readonly broker: string;
    readonly status: string;
    /** The region's Lambda Invoke API: `POST <lambda>/2015-03-31/functions/<name>/invocations`. */
    readonly lambda: string;
  };
  /** Put before every manifest queue name on the region's broker ('' for none): send to `<queuePrefix>tm.trades`. */
  readonly queuePrefix: string;
  readonly brokerKind: 'embedded' | 'activemq';
  /** Manifest database → where this region's copy lives (password left out); of the last start. */
  readonly databases: Record<string, string>;
  readonly functions: number | null;
  /** Manifest functions the region does not run (no handler module), of the last start. */
  readonly skippedFunctions: string[];
  readonly mappings: MappingLag[];
  /** Items per manifest table (a COUNT scan of the region's dynalite); absent while the region is down. */
  readonly tableItems: Record<string, number> | null;
  /** Items per pipeline stage's safe store (`<p>-<stage>-store`), in pipeline order; absent while the region is down. */
  readonly stages: Record<string, number> | null;
  readonly lastExit: RegionExit | null;
}

export interface ReplicationDirection {
  readonly from: string;
  readonly to: string;
  readonly state: LinkMetrics['state'];
  readonly backlog: number;
  readonly oldestPendingAgeMs: number;
  readonly shipped: number;
  readonly tables: Record<string, { backlog: number; lastLatencyMs: number; averageLatencyMs: number; maxLatencyMs: number; replicated: number }>;
}

export interface TwinStatus {
  readonly controller: {
    readonly pid: number;
    readonly dataDir: string;
    readonly controlUrl: string;
    readonly uptimeMs: number;
    readonly startupMs: number;
    readonly rssMB: number;
  };
  readonly regions: RegionStatusEntry[];
  readonly routingControls: { name: string; state: RoutingControlState }[];
  readonly arcEndpoints: { url: string; region: string; running: boolean }[];
  readonly replication: { lagMs: number; tables: { name: string; mode: string }[]; directions: ReplicationDirection[] };
  /** `rotor up --rate R`'s load loop; null when the twin runs without one. */
  readonly generator: GeneratorStatus | null;
  /** Global-layer components hooked into the controller (the Aurora coordinator), by name. */
  readonly components: Record<string, unknown>;
  /** Controller plus every region process that is up. */
  readonly totalRssMB: number;
}

export function regionEntry(
  supervisor: RegionSupervisor,
  live: RegionStatus | undefined,
  tableItems: Record<string, number> | null,
  paths: { dataDir: string; log: string; replicatingDynamodb: string; broker: string; queuePrefix: string; stageTables: readonly string[] },
): RegionStatusEntry {
  const report = supervisor.report;
  const up = supervisor.state === 'up';
  return {
    region: supervisor.region,
    state: supervisor.state,
    pid: supervisor.pid ?? null,
    startupMs: report?.startupMs.process ?? report?.startupMs.total ?? null,
    rssMB: up ? (live?.rssMB ?? null) : null,
    uptimeMs: up ? (live?.uptimeMs ?? null) : null,
    dataDir: paths.dataDir,
    log: paths.log,
    endpoints: {
      kinesis: report?.endpoints.kinesis ?? '',
      dynamodb: paths.replicatingDynamodb,
      dynalite: report?.endpoints.dynamodb ?? '',
      broker: paths.broker,
      status: report?.endpoints.status ?? '',
      lambda: report?.endpoints.lambda ?? report?.endpoints.status ?? '',
    },
    queuePrefix: paths.queuePrefix,
    brokerKind: report?.brokerKind ?? 'embedded',
    databases: report?.endpoints.databases ?? {},
    functions: report ? report.functions.length : null,
    skippedFunctions: report ? report.skippedFunctions.map((skipped) => skipped.name) : [],
    mappings: live ? mappingLags(live) : [],
    tableItems,
    stages: tableItems && Object.fromEntries(paths.stageTables.flatMap((table) => (tableItems[table] === undefined ? [] : [[table, tableItems[table]]]))),
    lastExit: supervisor.lastExit ?? null,
  };
}

/** Each event-source mapping's lag, from the region's own status: iterator age (Kinesis) or queue depth (MQ). */
export function mappingLags(live: RegionStatus): MappingLag[] {
  return [
    ...live.mappingMetrics.map((mapping) => ({ mappingId: mapping.mappingId, state: mapping.state, iteratorAgeMs: mapping.maxIteratorAgeMs })),
    ...live.mqMappingMetrics.map((mapping) => ({
      mappingId: mapping.mappingId,
      state: mapping.state,
      ...(mapping.queueDepth === undefined ? {} : { queueDepth: mapping.queueDepth }),
    })),
  ];
}

export function replicationDirections(links: readonly LinkMetrics[]): ReplicationDirection[] {
  return links.map((link) => ({
    from: link.from,
    to: link.to,
    state: link.state,
    backlog: link.backlog,
    oldestPendingAgeMs: link.oldestPendingAgeMs,
    shipped: link.shipped,
    tables: Object.fromEntries(
      Object.entries(link.tables).map(([table, metrics]) => [
        table,
        {
          backlog: metrics.backlog,
          lastLatencyMs: metrics.replicationLatencyMs.lastMs,
          averageLatencyMs: Math.round(metrics.replicationLatencyMs.averageMs),
          maxLatencyMs: metrics.replicationLatencyMs.maxMs,
          replicated: metrics.replicationLatencyMs.count,
        },
      ]),
    ),
  }));
}

const COUNT_TIMEOUT_MS = 2_000;

/**
 * Items per table, counted on the region's dynalite (not through the replicating endpoint, so counting is never
 * mistaken for traffic). Cheap for a twin's volumes; a table that does not answer in time is left out.
 */
export async function countTableItems(dynaliteUrl: string, region: string, tables: readonly string[]): Promise<Record<string, number>> {
  const client = new DynamoDBClient({
    endpoint: dynaliteUrl,
    region,
    credentials: { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' },
    maxAttempts: 1,
  });
  try {
    const counts = await Promise.all(
      tables.map(async (table): Promise<[string, number] | undefined> => {
        let count = 0;
        let startKey: Record<string, unknown> | undefined;
        try {
          do {
            const page = await client.send(new ScanCommand({
                TableName: table,
                Select: 'COUNT',
                // Rotations leave a watermark in every safe store; it is not a message.
                FilterExpression: 'NOT begins_with(#id, :watermark)',
                ExpressionAttributeNames: { '#id': 'id' },
                ExpressionAttributeValues: { ':watermark': { S: 'watermark:' } },
                ExclusiveStartKey: startKey as never,
              }), { abortSignal: AbortSignal.timeout(COUNT_TIMEOUT_MS) });
            count += page.Count ?? 0;
            startKey = page.LastEvaluatedKey;
          } while (startKey);
          return [table, count];
        } catch {
          return undefined;
        }
      }),
    );
    return Object.fromEntries(counts.filter((entry): entry is [string, number] => entry !== undefined));
  } finally {
    client.destroy();
  }
}
