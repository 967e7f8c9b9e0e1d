import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetById } from '#shared/adapters/dynamodb/batch-get.ts';
import type { RunningTwin } from '#local/controller/controller.ts';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import type { BacklogSample } from '#local/bench/sustained-rate.ts';

/**
 * What the bench reads from the running twin while it measures, as lightly as it can:
 * - backlog: each active region's own status endpoint (mapping iterator ages and queue depths) — not
 *   `twin.status()`, which also counts every table with a scan and would load the emulators being measured;
 * - emulator call counters, per region (`emulatorCalls` in the region status, when the regions report it);
 * - when legs were acknowledged and reached their terminal response: batch reads of trade matching's inbound and
 *   outbound gateway stores on the active region's dynalite itself (not through the replicating endpoint).
 */

/** A leg the bench follows: its gateway message id, and the outbound id of the response that ends its journey. */
export interface TrackedLeg {
  readonly messageId: string;
  readonly tradeId: string;
  /** The same for both legs of a trade (`TradeLeg.partitionKey`): a leg cannot match before its counterpart arrives. */
  readonly pairKey: string;
  /** The trade status the leg ends in (judge.ts: the response for the expected status, delivered). */
  readonly expected: string;
  /** `response:<trade id>:<expected status>`. */
  readonly terminalId: string;
}

/** Per region, per service, per operation: calls since the region started. */
export type EmulatorCalls = Record<string, Record<string, Record<string, number>>>;

const credentials = { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' };

export class TwinProbe {
  readonly #twin: RunningTwin;
  readonly #client: DynamoDBClient;
  readonly #documents: DynamoDBDocumentClient;
  readonly #inboundStore: string;
  readonly #outboundStore: string;

  constructor(twin: RunningTwin) {
    this.#twin = twin;
    const region = twin.activeRegion('trade-matching');
    this.#client = new DynamoDBClient({ region, credentials, endpoint: twin.region(region).report!.endpoints.dynamodb });
    this.#documents = documentClient(this.#client);
    const verify = twin.topology.functions.find((fn) => fn.name === 'ops-verify');
    const table = (variable: string, fallback: string) => {
      const value = verify?.env[variable];
      return typeof value === 'object' && 'table' in value ? value.table : fallback;
    };
    this.#inboundStore = table('TM_INBOUND_STORE', 'tm-inbound-gateway-store');
    this.#outboundStore = table('TM_OUTBOUND_STORE', 'tm-outbound-gateway-store');
  }

  /** The regions where trade matching or settlement is active. */
  activeRegions(): string[] {
    return [...new Set((['trade-matching', 'settlement'] as const).map((app) => this.#twin.activeRegion(app)))];
  }

  /** Every Kinesis mapping's iterator age summed (and the largest), every MQ mapping's queue depth summed, over the active regions. */
  async backlog(t: number): Promise<BacklogSample> {
    let iteratorAgeMs = 0;
    let maxIteratorAgeMs = 0;
    let queueDepth = 0;
    for (const region of this.activeRegions()) {
      const status = await this.#twin.region(region).fetchStatus(5_000);
      for (const mapping of status?.mappingMetrics ?? []) {
        iteratorAgeMs += mapping.maxIteratorAgeMs;
        maxIteratorAgeMs = Math.max(maxIteratorAgeMs, mapping.maxIteratorAgeMs);
      }
      for (const mapping of status?.mqMappingMetrics ?? []) queueDepth += mapping.queueDepth ?? 0;
    }
    return { t, iteratorAgeMs, maxIteratorAgeMs, queueDepth };
  }

  /** Every region's emulator call counters, or undefined when no region reports them. */
  async emulatorCalls(): Promise<EmulatorCalls | undefined> {
    const entries = await Promise.all(
      this.#twin.regions.map(async (region) => {
        const status = (await this.#twin.region(region).fetchStatus(5_000)) as { emulatorCalls?: unknown } | undefined;
        const calls = normalizeEmulatorCalls(status?.emulatorCalls);
        return calls ? ([region, calls] as const) : undefined;
      }),
    );
    const found = entries.filter((entry) => entry !== undefined);
    return found.length === 0 ? undefined : Object.fromEntries(found);
  }

  /** Message id → when the leg's terminal response was delivered (epoch ms), for the legs that have one. */
  async terminalTimes(legs: readonly TrackedLeg[]): Promise<Map<string, number>> {
    const items = await this.#batchGet(this.#outboundStore, legs.map((leg) => leg.terminalId), '#id, deliveredAt, deliveries');
    const times = new Map<string, number>();
    for (const leg of legs) {
      const item = items.get(leg.terminalId);
      if (item && Number(item.deliveries ?? 0) > 0 && typeof item.deliveredAt === 'string') times.set(leg.messageId, Date.parse(item.deliveredAt));
    }
    return times;
  }

  /** Message id → when the inbound gateway recorded it (epoch ms): the leg's acknowledgement. */
  async receivedTimes(legs: readonly TrackedLeg[]): Promise<Map<string, number>> {
    const items = await this.#batchGet(this.#inboundStore, legs.map((leg) => leg.messageId), '#id, receivedAt');
    const times = new Map<string, number>();
    for (const [id, item] of items) if (typeof item.receivedAt === 'string') times.set(id, Date.parse(item.receivedAt));
    return times;
  }

  close(): void {
    this.#client.destroy();
  }

  #batchGet(table: string, ids: readonly string[], projection: string): Promise<Map<string, Record<string, unknown>>> {
    return batchGetById(this.#documents, table, ids, { projection });
  }

}

/**
 * `{kinesis, dynamodb}` as a region reports it, as service → operation → calls. A service given as one number
 * becomes `{all: n}`; an operation given as `{calls|count: n}` is read through. Undefined for anything else.
 */
export function normalizeEmulatorCalls(value: unknown): Record<string, Record<string, number>> | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const services: Record<string, Record<string, number>> = {};
  for (const [service, calls] of Object.entries(value)) {
    if (typeof calls === 'number') services[service] = { all: calls };
    else if (typeof calls === 'object' && calls !== null) {
      const operations: Record<string, number> = {};
      for (const [operation, count] of Object.entries(calls)) {
        const n = typeof count === 'number' ? count : Number((count as { calls?: unknown; count?: unknown } | null)?.calls ?? (count as { count?: unknown } | null)?.count);
        if (Number.isFinite(n)) operations[operation] = n;
      }
      services[service] = operations;
    }
  }
  return Object.keys(services).length === 0 ? undefined : services;
}

/**
 * Calls per leg by service between two snapshots, summed over regions (the other region's share is replication),
 * with the per-region, per-operation detail. BatchGetItem is left out: the pipeline never batch-reads, the bench's
 * own probes do.
 */
export function callsPerLeg(before: EmulatorCalls, after: EmulatorCalls, legs: number): { by_service: Record<string, number>; by_region: EmulatorCalls } | null {
  if (legs <= 0) return null;
  const byService: Record<string, number> = {};
  const byRegion: EmulatorCalls = {};
  for (const [region, services] of Object.entries(after)) {
    for (const [service, operations] of Object.entries(services)) {
      for (const [operation, count] of Object.entries(operations)) {
        if (operation === 'BatchGetItem') continue;
        const delta = count - (before[region]?.[service]?.[operation] ?? 0);
        if (delta <= 0) continue;
        const perLeg = Math.round((delta / legs) * 100) / 100;
        ((byRegion[region] ??= {})[service] ??= {})[operation] = perLeg;
        byService[service] = Math.round(((byService[service] ?? 0) + delta / legs) * 100) / 100;
      }
    }
  }
  return { by_service: byService, by_region: byRegion };
}
