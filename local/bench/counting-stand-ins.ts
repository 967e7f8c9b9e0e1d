import type { OutboundRecord } from '#domain/pipeline-messages.ts';
import type { MessageBroker, QueueConsumer } from '#shared/ports/message-broker.ts';
import type { PutIfAbsentResult, SafeStore, SafeStoreItem } from '#shared/ports/safe-store.ts';
import type { AppName, EnvValue, FunctionSpec, Topology } from '#shared/topology/schema.ts';

/**
 * The leg-mix trace's stand-ins: a safe store and a broker that count what the stage code asks of them, and the
 * manifest's wiring (which function consumes which stream or queue, and each function's resources).
 */

export const STAGES = ['inbound-gateway', 'ingestion', 'matching', 'egress', 'outbound-gateway'] as const;
export type StageKind = (typeof STAGES)[number];

export class LegMixError extends Error {
  override readonly name = 'LegMixError';
}

/** What the trace counted for one stage function (e.g. `tm-egress`) over the whole sample. */
export interface StageTally {
  records: number;
  kinesisOut: number;
  kinesisOutBytes: number;
  putItems: number;
  updateItems: number;
  itemBytes: number;
  sends: number;
  sendBytes: number;
}

export const bytes = (value: unknown) => Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value), 'utf8');

export function countingStore(tally: StageTally, tables: Map<string, Map<string, SafeStoreItem>>, table: string): SafeStore {
  const items = tables.get(table) ?? tables.set(table, new Map()).get(table)!;
  const write = (item: SafeStoreItem) => {
    tally.putItems += 1;
    tally.itemBytes += bytes(item);
  };
  return {
    async putIfAbsent(item): Promise<PutIfAbsentResult<SafeStoreItem>> {
      write(item);
      const existing = items.get(item.id);
      if (existing) return { stored: false, existing };
      items.set(item.id, { ...item });
      return { stored: true };
    },
    async putIfNewer(item) {
      write(item);
      const existing = items.get(item.id);
      if (existing && !(Number(existing.version) < item.version)) return false;
      items.set(item.id, { ...item });
      return true;
    },
    async get(id) {
      return items.get(id);
    },
    async recordDelivery(id, at) {
      tally.updateItems += 1;
      const item = items.get(id);
      if (!item) throw new LegMixError(`${table}: delivery of unknown item ${id}`);
      const deliveries = Number(item.deliveries ?? 0) + 1;
      items.set(id, { ...item, deliveries, deliveredAt: at });
      return deliveries;
    },
  };
}

export function countingBroker(tally: StageTally, deliver: (queue: string, body: string) => void): MessageBroker {
  const unused = () => Promise.reject(new LegMixError('the trace only sends'));
  return {
    async send(queue, body) {
      tally.sends += 1;
      tally.sendBytes += bytes(body);
      deliver(queue, body);
    },
    consume: unused as () => Promise<QueueConsumer>,
    queueDepth: unused as () => Promise<number | undefined>,
    close: async () => undefined,
  };
}

export interface Wiring {
  streamConsumer(stream: string): string;
  queueConsumer(queue: string): string | undefined;
  stageOf(fn: string): { app: AppName; stage: StageKind };
  env(fn: string, kind: 'stream' | 'table' | 'queue' | 'database', variable: string): string;
  outboundQueues(fn: string): Partial<Record<OutboundRecord['destination'], string>>;
  generatorQueue(): string;
}

/** Which function consumes which stream or queue, and each function's resources, from the manifest. */
export function wiringOf(topology: Topology): Wiring {
  const functions = new Map(topology.functions.map((fn) => [fn.name, fn]));
  const byTrigger = new Map<string, string>();
  for (const fn of topology.functions) for (const trigger of fn.triggers) byTrigger.set(`${trigger.kind}:${trigger.kind === 'mq' ? trigger.queue : trigger.stream}`, fn.name);
  const fnOf = (name: string): FunctionSpec => functions.get(name) ?? (() => { throw new LegMixError(`no function ${name} in the manifest`); })();
  const resource = (value: EnvValue | undefined, kind: string): string | undefined =>
    value !== undefined && typeof value === 'object' && kind in value ? (value as Record<string, string>)[kind] : undefined;
  return {
    streamConsumer: (stream) => byTrigger.get(`kinesis:${stream}`) ?? (() => { throw new LegMixError(`nothing consumes stream ${stream}`); })(),
    queueConsumer: (queue) => byTrigger.get(`mq:${queue}`),
    stageOf(name) {
      const fn = fnOf(name);
      const stage = STAGES.find((candidate) => name.endsWith(`-${candidate}`));
      if (!stage || !fn.app) throw new LegMixError(`${name} is not a pipeline stage`);
      return { app: fn.app, stage };
    },
    env(name, kind, variable) {
      const value = resource(fnOf(name).env[variable], kind);
      if (value === undefined) throw new LegMixError(`${name} has no ${kind} in ${variable}`);
      return value;
    },
    outboundQueues(name) {
      const destinations = ['RESPONSE_QUEUE', 'SETTLEMENT_QUEUE', 'SETTLEMENT_RESULT_QUEUE'] as const;
      return Object.fromEntries(destinations.flatMap((destination) => {
        const queue = resource(fnOf(name).env[destination], 'queue');
        return queue ? [[destination, queue]] : [];
      }));
    },
    generatorQueue() {
      const queue = resource(fnOf('generator').env.OUT_QUEUE, 'queue');
      if (!queue) throw new LegMixError('the generator function names no OUT_QUEUE');
      return queue;
    },
  };
}

