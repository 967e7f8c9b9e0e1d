import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { DeleteCommand, GetCommand, PutCommand, ScanCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { sql, type Kysely } from 'kysely';
import type { z } from 'zod';
import { EgressInput, InboundRecord, OutboundRecord, SettlementRecordMessage, SettlementResultRecord, TradeLegRecord } from '#domain/pipeline-messages.ts';
import { startStompBroker, type RunningStompBroker } from '#local/mq/stomp-broker.ts';
import { documentClient, DynamoDbSafeStore } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { KinesisStreamPublisher } from '#shared/adapters/kinesis/kinesis-stream-publisher.ts';
import { openDatabase } from '#shared/adapters/postgres/database.ts';
import { closeSharedDatabases, openDatabaseFromConnectionString, pgliteConnectionString } from '#shared/adapters/postgres/database-registry.ts';
import { migrateSettlementDatabase, type SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import { migrateTradeMatchingDatabase, type TradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import { PostgresSettlementRecords, PostgresTradeRecords } from '#shared/adapters/postgres/matching-records.ts';
import { PostgresOutbox } from '#shared/adapters/postgres/outbox.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { egressStep } from '#shared/pipeline/egress-stage.ts';
import { publishForwards, type Forward } from '#shared/pipeline/forward.ts';
import { acceptMessages } from '#shared/pipeline/inbound-gateway.ts';
import { ingestionStep } from '#shared/pipeline/ingestion-stage.ts';
import { markRelayed, settlementMatchingStep, tradeMatchingStep } from '#shared/pipeline/matching-stage.ts';
import { outboundStep } from '#shared/pipeline/outbound-stage.ts';
import type { BrokerMessage, QueueConsumer } from '#shared/ports/message-broker.ts';
import { DynamoDbAuditTrail } from '#shared/reconciliation/dynamodb-audit-trail.ts';
import { APP_PREFIX, APPS, manifestNames, type AppStores } from '#shared/reconciliation/names.ts';
import { StoreReads } from '#shared/reconciliation/store-reads.ts';
import type { AppName } from '#shared/topology/schema.ts';
import { startDynalite, type DynaliteHarness } from '#tests/support/dynalite-tables.ts';
import { startKinesalite, type KinesaliteHarness } from '#tests/support/kinesalite.ts';

/**
 * Both apps' pipelines on real emulators — dynalite, kinesalite, PGlite, the embedded STOMP broker — driven by
 * hand: the stage steps of shared/pipeline run on what waits on each stream and inter-app queue until nothing does,
 * as the twin's event-source mappings would run them. Tests break a store, reconcile, replay, and watch a record
 * arrive on its stream or queue before letting the stages take it.
 */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const STREAMS = ['tm-ingestion', 'tm-matching', 'tm-egress', 'tm-outbound', 'sm-ingestion', 'sm-matching', 'sm-egress', 'sm-outbound'] as const;
export type StreamName = (typeof STREAMS)[number];
const INTER_APP_QUEUES = ['sm.settlements', 'tm.settlements'] as const;
export const RESPONSES_QUEUE = 'tm.responses';

export interface ArrivedRecord {
  readonly partitionKey: string;
  readonly record: Record<string, unknown> & { id: string; kind: string };
}

interface Stage {
  readonly input: z.ZodType<{ id: string }>;
  process(input: { id: string }): Promise<Forward[]>;
  afterForwarding?(forwards: readonly Forward[]): Promise<void>;
}

export interface ReconciliationHarness {
  readonly dynalite: DynaliteHarness;
  readonly kinesalite: KinesaliteHarness;
  readonly brokerUrl: string;
  readonly dataDir: string;
  readonly documents: DynamoDBDocumentClient;
  readonly names: ReturnType<typeof manifestNames>;
  /** The databases' connection strings; only usable by a handler under `databases: 'registry'`. */
  readonly databaseUrls: Record<AppName, string>;
  readonly tradeMatching: Kysely<TradeMatchingDatabase>;
  readonly settlement: Kysely<SettlementDatabase>;
  readonly reads: StoreReads;
  readonly audit: DynamoDbAuditTrail;
  readonly publisher: KinesisStreamPublisher;
  readonly broker: StompMessageBroker;
  /** Messages onto an app's queue through its inbound gateway (what the MQ trigger does with a batch). */
  accept(app: AppName, messages: ReadonlyArray<{ queue: string; body: string }>): Promise<void>;
  /** Records put on a stream since it was last read. */
  take(stream: StreamName): Promise<ArrivedRecord[]>;
  /** Runs the stream's stage on the records, in order, and publishes what it forwards. */
  process(stream: StreamName, records: readonly ArrivedRecord[]): Promise<void>;
  /** Messages waiting on an inter-app queue, acknowledged. */
  receive(queue: (typeof INTER_APP_QUEUES)[number]): Promise<BrokerMessage[]>;
  /** Every stage, until no stream and no inter-app queue has anything waiting; resolves how much moved. */
  flow(): Promise<number>;
  item(app: AppName, store: keyof AppStores, id: string): Promise<Record<string, unknown> | undefined>;
  remove(app: AppName, store: keyof AppStores, id: string): Promise<void>;
  put(app: AppName, store: keyof AppStores, item: Record<string, unknown>): Promise<void>;
  scan(table: string): Promise<Record<string, unknown>[]>;
  /** Everything a replay could change: every store, the databases' rows, the responses sent. */
  snapshot(): Promise<unknown>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /**
   * `memory` (default): in-memory PGlite, quick to start. `registry`: on-disk PGlite opened through the registry
   * handlers use, so a handler module given `databaseUrls` shares the harness's databases.
   */
  readonly databases?: 'memory' | 'registry';
}

async function openDatabases(dataDir: string, mode: HarnessOptions['databases']) {
  const databaseUrls = { 'trade-matching': pgliteConnectionString(path.join(dataDir, 'tm-db')), settlement: pgliteConnectionString(path.join(dataDir, 'sm-db')) };
  const [tm, sm] =
    mode === 'registry'
      ? await Promise.all([
          openDatabaseFromConnectionString<TradeMatchingDatabase>(databaseUrls['trade-matching']),
          openDatabaseFromConnectionString<SettlementDatabase>(databaseUrls.settlement),
        ])
      : await Promise.all([openDatabase<TradeMatchingDatabase>({ backend: 'pglite' }), openDatabase<SettlementDatabase>({ backend: 'pglite' })]);
  await migrateTradeMatchingDatabase(tm.db);
  await migrateSettlementDatabase(sm.db);
  return { databaseUrls, tm, sm };
}

export async function startReconciliationHarness(options: HarnessOptions = {}): Promise<ReconciliationHarness> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'rotor-reconciliation-'));
  const names = manifestNames();
  const [dynalite, kinesalite, stomp] = await Promise.all([startDynalite(), startKinesalite(), startStompBroker({ dataDir: path.join(dataDir, 'broker'), port: 0 })]);
  for (const app of APPS) {
    for (const table of Object.values(names.stores[app])) await dynalite.createTable(table);
    await dynalite.createTable(`${APP_PREFIX[app]}-reconciliation-audit`);
  }
  for (const stream of STREAMS) await kinesalite.createStream(stream, 1);
  const { databaseUrls, tm, sm } = await openDatabases(dataDir, options.databases);

  const documents = documentClient(dynalite.client());
  const publisher = new KinesisStreamPublisher(kinesalite.client);
  const broker = new StompMessageBroker({ url: stomp.url });
  const consumers = new Map<string, QueueConsumer>();
  for (const queue of INTER_APP_QUEUES) consumers.set(queue, await broker.consume(queue));
  const stores = Object.fromEntries(
    APPS.map((app) => [app, Object.fromEntries(Object.entries(names.stores[app]).map(([stage, table]) => [stage, new DynamoDbSafeStore(documents, table)]))]),
  ) as Record<AppName, Record<keyof AppStores, DynamoDbSafeStore<{ id: string }>>>;
  const outboxes = { 'trade-matching': new PostgresOutbox(tm.db), settlement: new PostgresOutbox(sm.db) };

  const stages: Record<StreamName, Stage> = {
    'tm-ingestion': { input: InboundRecord, process: ingestionStep({ app: 'trade-matching', store: stores['trade-matching'].ingestion, matchingStream: 'tm-matching', nackStream: 'tm-egress' }) as Stage['process'] },
    'tm-matching': {
      input: TradeLegRecord.or(SettlementResultRecord),
      process: tradeMatchingStep({ db: tm.db, store: stores['trade-matching'].matching, egressStream: 'tm-egress' }) as Stage['process'],
      afterForwarding: (forwards) => markRelayed(outboxes['trade-matching'], forwards),
    },
    'tm-egress': { input: EgressInput, process: egressStep({ app: 'trade-matching', store: stores['trade-matching'].egress, outboundStream: 'tm-outbound' }) as Stage['process'] },
    'tm-outbound': {
      input: OutboundRecord,
      process: outboundStep({ store: stores['trade-matching'].outboundGateway, broker, queues: { RESPONSE_QUEUE: RESPONSES_QUEUE, SETTLEMENT_QUEUE: 'sm.settlements' } }) as Stage['process'],
    },
    'sm-ingestion': { input: InboundRecord, process: ingestionStep({ app: 'settlement', store: stores.settlement.ingestion, matchingStream: 'sm-matching', nackStream: 'sm-egress' }) as Stage['process'] },
    'sm-matching': {
      input: SettlementRecordMessage,
      process: settlementMatchingStep({ db: sm.db, store: stores.settlement.matching, egressStream: 'sm-egress' }) as Stage['process'],
      afterForwarding: (forwards) => markRelayed(outboxes.settlement, forwards),
    },
    'sm-egress': { input: EgressInput, process: egressStep({ app: 'settlement', store: stores.settlement.egress, outboundStream: 'sm-outbound' }) as Stage['process'] },
    'sm-outbound': { input: OutboundRecord, process: outboundStep({ store: stores.settlement.outboundGateway, broker, queues: { SETTLEMENT_RESULT_QUEUE: 'tm.settlements' } }) as Stage['process'] },
  };

  const iterators = new Map<StreamName, string>();
  for (const stream of STREAMS) {
    const { Shards = [] } = await kinesalite.client.send(new ListShardsCommand({ StreamName: stream }));
    const { ShardIterator } = await kinesalite.client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: Shards[0]!.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
    iterators.set(stream, ShardIterator!);
  }

  const decoder = new TextDecoder();
  const accept: ReconciliationHarness['accept'] = async (app, messages) => {
    await acceptMessages(messages, { app, store: stores[app].inboundGateway, publisher, outStream: `${APP_PREFIX[app]}-ingestion` });
  };
  const take: ReconciliationHarness['take'] = async (stream) => {
    const page = await kinesalite.client.send(new GetRecordsCommand({ ShardIterator: iterators.get(stream)!, Limit: 10_000 }));
    iterators.set(stream, page.NextShardIterator!);
    return (page.Records ?? []).map((record) => ({ partitionKey: record.PartitionKey!, record: JSON.parse(decoder.decode(record.Data!)) as ArrivedRecord['record'] }));
  };
  const process: ReconciliationHarness['process'] = async (stream, records) => {
    const stage = stages[stream];
    const forwards: Forward[] = [];
    // The stage's input schema is strict: a record of the wrong shape fails here as it would fail the stage.
    for (const { record } of records) forwards.push(...(await stage.process(stage.input.parse(record))));
    await publishForwards(publisher, forwards);
    await stage.afterForwarding?.(forwards);
  };
  const receive: ReconciliationHarness['receive'] = async (queue) => {
    const consumer = consumers.get(queue)!;
    const messages = await consumer.receive({ maxMessages: 1_000, waitMs: 100 });
    for (const message of messages) await consumer.ack(message);
    return messages;
  };
  const table = (app: AppName, store: keyof AppStores) => names.stores[app][store];
  const scan = async (name: string) => {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(new ScanCommand({ TableName: name, ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items.sort((a, b) => (String(a.id) < String(b.id) ? -1 : 1));
  };

  return {
    dynalite,
    kinesalite,
    brokerUrl: stomp.url,
    dataDir,
    documents,
    names,
    databaseUrls,
    tradeMatching: tm.db,
    settlement: sm.db,
    reads: new StoreReads({ documents, outboxes, records: { 'trade-matching': new PostgresTradeRecords(tm.db), settlement: new PostgresSettlementRecords(sm.db) } }),
    audit: new DynamoDbAuditTrail(documents, { 'trade-matching': 'tm-reconciliation-audit', settlement: 'sm-reconciliation-audit' }),
    publisher,
    broker,
    accept,
    take,
    process,
    receive,
    async flow() {
      let moved = 0;
      for (let round = 0; ; round++) {
        let now = 0;
        for (const stream of STREAMS) {
          const records = await take(stream);
          if (records.length > 0) await process(stream, records);
          now += records.length;
        }
        for (const queue of INTER_APP_QUEUES) {
          const messages = await receive(queue);
          if (messages.length > 0) await accept(queue === 'sm.settlements' ? 'settlement' : 'trade-matching', messages.map(({ queue: name, body }) => ({ queue: name, body })));
          now += messages.length;
        }
        moved += now;
        if (now === 0) return moved;
        if (round > 50) throw new Error('the pipeline did not come to rest in 50 rounds');
      }
    },
    async item(app, store, id) {
      return (await documents.send(new GetCommand({ TableName: table(app, store), Key: { id }, ConsistentRead: true }))).Item;
    },
    async remove(app, store, id) {
      await documents.send(new DeleteCommand({ TableName: table(app, store), Key: { id } }));
    },
    async put(app, store, item) {
      await documents.send(new PutCommand({ TableName: table(app, store), Item: item }));
    },
    scan,
    async snapshot() {
      const tables = APPS.flatMap((app) => Object.values(names.stores[app]));
      const counts = async (db: Kysely<unknown>, tablesOf: string[]) =>
        Object.fromEntries(await Promise.all(tablesOf.map(async (name) => [name, (await sql<{ n: string }>`select count(*) as n from ${sql.table(name)}`.execute(db)).rows[0]!.n] as const)));
      return {
        stores: Object.fromEntries(await Promise.all(tables.map(async (name) => [name, await scan(name)] as const))),
        tradeMatching: await counts(tm.db as Kysely<unknown>, ['trades', 'allocations', 'outbox']),
        settlement: await counts(sm.db as Kysely<unknown>, ['settlements', 'ledger_postings', 'outbox']),
        responsesSent: await stomp.queueDepth(RESPONSES_QUEUE),
      };
    },
    async close() {
      await broker.close();
      await Promise.all([tm.close(), sm.close(), closeSharedDatabases(dataDir)]);
      await Promise.all([dynalite.close(), kinesalite.close(), stomp.close()]);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
