import { DEFAULT_MIX, generateRun, type PairMix } from '#domain/generator.ts';
import type { EgressInput, InboundRecord, OutboundRecord, SettlementRecordMessage, SettlementResultRecord, StreamRecord, TradeLegRecord } from '#domain/pipeline-messages.ts';
import { applySettlementResult } from '#domain/settlement-rollup.ts';
import { pairSettlement } from '#domain/settlement.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import { matchTradeLeg } from '#domain/trade-matching.ts';
import { InMemorySettlementRepository, InMemoryTradeRepository } from '#shared/adapters/memory/in-memory-stores.ts';
import { matchOutcomeEvents, pairingEvents, rollupEvents } from '#shared/adapters/postgres/outbox-events.ts';
import type { OutboxEvent } from '#shared/adapters/postgres/outbox.ts';
import { legBody } from '#shared/load/generator-run.ts';
import { egressStep } from '#shared/pipeline/egress-stage.ts';
import type { Forward } from '#shared/pipeline/forward.ts';
import { acceptMessages } from '#shared/pipeline/inbound-gateway.ts';
import { ingestionStep } from '#shared/pipeline/ingestion-stage.ts';
import { outboxRecordId } from '#shared/pipeline/matching-stage.ts';
import { outboundStep } from '#shared/pipeline/outbound-stage.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import type { SafeStore, SafeStoreItem } from '#shared/ports/safe-store.ts';
import type { OutgoingRecord, StreamPublisher } from '#shared/ports/stream-publisher.ts';
import { rotorTopology } from '#shared/topology/rotor.ts';
import type { Topology } from '#shared/topology/schema.ts';
import { bytes, countingBroker, countingStore, LegMixError, STAGES, wiringOf, type StageKind, type StageTally, type Wiring } from '#local/bench/counting-stand-ins.ts';

/**
 * What one trade leg costs the emulators in the pipeline, counted from the code rather than guessed.
 *
 * The generator's default mix is run through the stages' own step functions (`acceptMessages`, `ingestionStep`,
 * `egressStep`, `outboundStep`) over counting stand-ins for the safe store, the stream publisher and the broker,
 * and through the domain's matching, pairing and roll-up rules with the outbox events `matching-stage.ts` emits.
 * So safe-store writes, records forwarded, messages sent, and how many records each stage sees per leg (the
 * settlements of matched legs that go round the settlement app and come back) all follow the code as it is.
 *
 * What the trace cannot see — how records reach a stage, Powertools idempotency and SQL transactions — is the
 * table below. Update it when the stages change (shared/pipeline/stage-functions.ts, kinesis-stage.ts).
 */

export interface StageCalls {
  /** How a record reaches the stage: an MQ batch (one ack per message) or its share of a Kinesis GetRecords. */
  readonly trigger: 'mq' | 'kinesis';
  /** Runs under Powertools `makeIdempotent`: one conditional PutItem (in progress) and one UpdateItem (done) per record. */
  readonly idempotency: boolean;
  /** PostgreSQL transactions per record. */
  readonly sqlTransactions: number;
  /** Safe-store writes per outbox event, for the stage whose writes the trace does not run (matching's mirror). */
  readonly mirrorWritesPerEvent: number;
}

/** Read from shared/pipeline/*.ts and stage-functions.ts (idempotency: only the outbound gateway, whose send no condition guards). */
export const STAGE_CALLS: Readonly<Record<StageKind, StageCalls>> = {
  'inbound-gateway': { trigger: 'mq', idempotency: false, sqlTransactions: 0, mirrorWritesPerEvent: 0 },
  ingestion: { trigger: 'kinesis', idempotency: false, sqlTransactions: 0, mirrorWritesPerEvent: 0 },
  matching: { trigger: 'kinesis', idempotency: false, sqlTransactions: 1, mirrorWritesPerEvent: 1 },
  egress: { trigger: 'kinesis', idempotency: false, sqlTransactions: 0, mirrorWritesPerEvent: 0 },
  'outbound-gateway': { trigger: 'kinesis', idempotency: true, sqlTransactions: 0, mirrorWritesPerEvent: 0 },
};

/** Emulator calls per leg, by kind; Kinesis counts are records (a share of a batched call each). */
export interface CallMix {
  readonly kinesisPutRecords: number;
  readonly kinesisGetRecords: number;
  /** Conditional PutItem: safe-store writes plus idempotency records. */
  readonly dynamodbPutItem: number;
  /** UpdateItem: outbound delivery counts plus completed idempotency records. */
  readonly dynamodbUpdateItem: number;
  /** Transactions per leg, by manifest database. */
  readonly sqlTransactions: Readonly<Record<string, number>>;
  /** Broker sends, the client's leg included. */
  readonly brokerSends: number;
  readonly brokerConsumeAcks: number;
  readonly avgRecordBytes: number;
  readonly avgItemBytes: number;
  readonly avgMessageBytes: number;
}

export interface LegMix {
  readonly pairs: number;
  readonly seed: number;
  readonly mix: PairMix;
  readonly legs: number;
  /** Records each stage function sees per leg. */
  readonly recordsPerLeg: Readonly<Record<string, number>>;
  readonly stages: Readonly<Record<string, StageTally>>;
  readonly perLeg: CallMix;
}

export { LegMixError, STAGES, type StageKind, type StageTally };

const emptyTally = (): StageTally => ({ records: 0, kinesisOut: 0, kinesisOutBytes: 0, putItems: 0, updateItems: 0, itemBytes: 0, sends: 0, sendBytes: 0 });

type Work = { readonly fn: string; readonly queue: string; readonly body: string } | { readonly fn: string; readonly record: StreamRecord };

/** Runs a generated sample (default: 300 pairs of the generator's default mix) through the stages and counts. */
export async function traceLegMix(options: { pairs?: number; seed?: number; mix?: PairMix; topology?: Topology } = {}): Promise<LegMix> {
  const pairs = options.pairs ?? 300;
  const seed = options.seed ?? 1;
  const mix = options.mix ?? DEFAULT_MIX;
  const topology = options.topology ?? rotorTopology;
  const wiring = wiringOf(topology);
  const tallies = new Map<string, StageTally>([['client', emptyTally()]]);
  const tallyOf = (fn: string) => tallies.get(fn) ?? tallies.set(fn, emptyTally()).get(fn)!;
  const work: Work[] = [];
  const tables = new Map<string, Map<string, SafeStoreItem>>();

  const publisherFor = (fn: string): StreamPublisher => ({
    publish: async (stream: string, records: readonly OutgoingRecord[]) => {
      const tally = tallyOf(fn);
      for (const record of records) {
        tally.kinesisOut += 1;
        tally.kinesisOutBytes += bytes(record.data) + bytes(record.partitionKey);
        work.push({ fn: wiring.streamConsumer(stream), record: JSON.parse(record.data) as StreamRecord });
      }
    },
  });
  // What a Kinesis stage returns, kinesisStage publishes after the batch.
  const forward = async (fn: string, forwards: readonly Forward[]) => {
    for (const f of forwards) await publisherFor(fn).publish(f.stream, [{ partitionKey: f.partitionKey, data: JSON.stringify(f.record) }]);
  };
  const storeFor = (fn: string): SafeStore => countingStore(tallyOf(fn), tables, wiring.env(fn, 'table', 'SAFE_STORE_TABLE'));
  const brokerFor = (fn: string): MessageBroker => countingBroker(tallyOf(fn), (queue, body) => {
    const consumer = wiring.queueConsumer(queue);
    if (consumer) work.push({ fn: consumer, queue, body });
  });

  const trades = new InMemoryTradeRepository();
  const settlements = new InMemorySettlementRepository();
  let outboxId = 0;
  const matchingEvents = async (input: TradeLegRecord | SettlementResultRecord | SettlementRecordMessage): Promise<OutboxEvent[]> => {
    if (input.kind === 'trade-leg') return matchOutcomeEvents(input.leg, await matchTradeLeg(input.leg, trades), input.id);
    if (input.kind === 'settlement') return pairingEvents(input.settlement, await pairSettlement(input.settlement, settlements), input.id);
    const trade = await trades.get(TradeLeg.id(input.result));
    if (!trade) throw new LegMixError(`settlement result for unknown trade ${TradeLeg.id(input.result)}`);
    const result = { allocationID: input.result.allocationID, status: input.result.status };
    const outcome = applySettlementResult(trade, result);
    if (outcome.kind !== 'applied') return [];
    await trades.replace(outcome.trade);
    return rollupEvents(result, outcome);
  };

  // The client: the generator's legs on trade matching's inbound queue, in its order.
  const { legs } = generateRun({ pairs, seed, mix });
  const client = countingBroker(tallyOf('client'), (queue, body) => work.push({ fn: wiring.queueConsumer(queue)!, queue, body }));
  const tradesQueue = wiring.generatorQueue();
  for (const leg of legs) await client.send(tradesQueue, legBody(leg));

  for (let next = work.shift(); next; next = work.shift()) {
    const { fn } = next;
    const { app, stage } = wiring.stageOf(fn);
    tallyOf(fn).records += 1;
    if ('body' in next) {
      await acceptMessages([{ queue: next.queue, body: next.body }], { app, store: storeFor(fn), publisher: publisherFor(fn), outStream: wiring.env(fn, 'stream', 'OUT_STREAM') });
      continue;
    }
    switch (stage) {
      case 'ingestion': {
        const step = ingestionStep({ app, store: storeFor(fn), matchingStream: wiring.env(fn, 'stream', 'OUT_STREAM'), nackStream: wiring.env(fn, 'stream', 'NACK_STREAM') });
        await forward(fn, await step(next.record as InboundRecord));
        break;
      }
      case 'matching': {
        const events = await matchingEvents(next.record as TradeLegRecord);
        const records = events.map((event) => ({ kind: 'event' as const, id: outboxRecordId(event), outboxId: String(++outboxId), eventType: event.eventType, aggregateId: event.aggregateId, payload: event.payload }));
        const tally = tallyOf(fn);
        for (const record of records) {
          tally.putItems += STAGE_CALLS.matching.mirrorWritesPerEvent;
          tally.itemBytes += STAGE_CALLS.matching.mirrorWritesPerEvent * bytes(record.payload);
        }
        await forward(fn, records.map((record) => ({ stream: wiring.env(fn, 'stream', 'OUT_STREAM'), partitionKey: record.aggregateId, record })));
        break;
      }
      case 'egress':
        await forward(fn, await egressStep({ app, store: storeFor(fn), outboundStream: wiring.env(fn, 'stream', 'OUT_STREAM') })(next.record as EgressInput));
        break;
      case 'outbound-gateway':
        await outboundStep({ store: storeFor(fn), broker: brokerFor(fn), queues: wiring.outboundQueues(fn) })(next.record as OutboundRecord);
        break;
      default:
        throw new LegMixError(`${fn} is not a Kinesis-triggered stage`);
    }
  }
  return summarize({ pairs, seed, mix, legs: legs.length, tallies, wiring, topology });
}

function summarize(input: { pairs: number; seed: number; mix: PairMix; legs: number; tallies: Map<string, StageTally>; wiring: Wiring; topology: Topology }): LegMix {
  const { legs, tallies, wiring } = input;
  let get = 0, put = 0, putItem = 0, updateItem = 0, sends = 0, acks = 0, recordBytes = 0, itemBytes = 0, messageBytes = 0;
  const sql: Record<string, number> = {};
  const recordsPerLeg: Record<string, number> = {};
  for (const [fn, tally] of tallies) {
    put += tally.kinesisOut;
    recordBytes += tally.kinesisOutBytes;
    putItem += tally.putItems;
    updateItem += tally.updateItems;
    itemBytes += tally.itemBytes;
    sends += tally.sends;
    messageBytes += tally.sendBytes;
    if (fn === 'client') continue;
    recordsPerLeg[fn] = tally.records / legs;
    const calls = STAGE_CALLS[wiring.stageOf(fn).stage];
    if (calls.trigger === 'mq') acks += tally.records;
    else get += tally.records;
    if (calls.idempotency) {
      putItem += tally.records;
      updateItem += tally.records;
    }
    if (calls.sqlTransactions > 0) {
      const database = wiring.env(fn, 'database', 'DATABASE');
      sql[database] = (sql[database] ?? 0) + (calls.sqlTransactions * tally.records) / legs;
    }
  }
  const average = (total: number, count: number) => (count === 0 ? 0 : Math.round(total / count));
  const writes = [...tallies.values()].reduce((sum, tally) => sum + tally.putItems, 0);
  return {
    pairs: input.pairs,
    seed: input.seed,
    mix: input.mix,
    legs,
    recordsPerLeg,
    stages: Object.fromEntries(tallies),
    perLeg: {
      kinesisPutRecords: put / legs,
      kinesisGetRecords: get / legs,
      dynamodbPutItem: putItem / legs,
      dynamodbUpdateItem: updateItem / legs,
      sqlTransactions: sql,
      brokerSends: sends / legs,
      brokerConsumeAcks: acks / legs,
      avgRecordBytes: average(recordBytes, put),
      avgItemBytes: average(itemBytes, writes),
      avgMessageBytes: average(messageBytes, sends),
    },
  };
}

/** Stages whose function gets an idempotency table in the manifest: what STAGE_CALLS must say (a test holds them together). */
export function idempotentStagesInManifest(topology: Topology = rotorTopology): string[] {
  return topology.functions.filter((fn) => fn.env.IDEMPOTENCY_TABLE !== undefined && STAGES.some((stage) => fn.name.endsWith(`-${stage}`))).map((fn) => fn.name);
}
