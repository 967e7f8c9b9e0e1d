import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Kysely } from 'kysely';
import { EgressInput, InboundRecord, OutboundRecord, SettlementRecordMessage, SettlementResultRecord, TradeLegRecord } from '#domain/pipeline-messages.ts';
import { documentClient, DynamoDbSafeStore } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { KinesisStreamPublisher, kinesisClient } from '#shared/adapters/kinesis/kinesis-stream-publisher.ts';
import { openDatabaseFromConnectionString } from '#shared/adapters/postgres/database-registry.ts';
import { migrateSettlementDatabase, type SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import { migrateTradeMatchingDatabase, type TradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import { PostgresOutbox } from '#shared/adapters/postgres/outbox.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { egressStep } from '#shared/pipeline/egress-stage.ts';
import { ingestionStep, tradeIdOf } from '#shared/pipeline/ingestion-stage.ts';
import { mqGateway } from '#shared/pipeline/inbound-gateway.ts';
import { MessageId } from '#shared/pipeline/message-id.ts';
import { kinesisStage } from '#shared/pipeline/kinesis-stage.ts';
import { markRelayed, settlementMatchingStep, tradeMatchingStep } from '#shared/pipeline/matching-stage.ts';
import { OutcomeCounts } from '#shared/pipeline/outcome-counts.ts';
import { RoutingGate } from '#shared/adapters/arc/routing-gate.ts';
import { outboundStep } from '#shared/pipeline/outbound-stage.ts';
import { EdgeBrokers, edgeDestinations, type Destination, type DestinationResolver } from '#shared/pipeline/outbound-destinations.ts';
import { requiredEnv } from '#shared/config/environment.ts';
import { stageTelemetry } from '#shared/pipeline/telemetry.ts';
import type { AppName } from '#shared/topology/schema.ts';

/**
 * Every Kinesis stage processes only while its app's `app` control is On in its region: a region that comes back
 * after a failover holds records its streams never delivered, and a passive region acting on them would write stale
 * copies into replicated stores. They wait until the app is active there again (the new region reconciled them).
 *
 * The ten stage functions, built from their environment (the manifest's `env`, DESIGN §1) once per execution
 * environment. Each `functions/<app>/<stage>.ts` is one line that picks its builder, so both apps run the same
 * code and differ only in their domain step.
 */

const PREFIX: Record<AppName, string> = { 'trade-matching': 'tm', settlement: 'sm' };

function adapters() {
  const dynamodb = new DynamoDBClient({});
  return {
    dynamodb,
    store: new DynamoDbSafeStore(documentClient(dynamodb), requiredEnv('SAFE_STORE_TABLE')),
    publisher: new KinesisStreamPublisher(kinesisClient()),
  };
}

export function inboundGatewayHandler(app: AppName) {
  const dynamodb = new DynamoDBClient({});
  return mqGateway({
    name: `${PREFIX[app]}-inbound-gateway`,
    app,
    routingControl: `${app}-queue`,
    store: new DynamoDbSafeStore(documentClient(dynamodb), requiredEnv('SAFE_STORE_TABLE')),
    publisher: new KinesisStreamPublisher(kinesisClient()),
    outStream: requiredEnv('OUT_STREAM'),
  });
}

export function ingestionHandler(app: AppName) {
  const { store, ...common } = adapters();
  return kinesisStage({
    ...common,
    name: `${PREFIX[app]}-ingestion`,
    input: InboundRecord,
    routingControl: `${app}-app`,
    process: ingestionStep({ app, store, matchingStream: requiredEnv('OUT_STREAM'), nackStream: requiredEnv('NACK_STREAM') }),
    correlationId: (input) => MessageId.tradeIdOf(input.id),
  });
}

export class UnreadableDatabaseSchemaError extends Error {
  override readonly name = 'UnreadableDatabaseSchemaError';
}

/**
 * The matching database, migrated on first use. A secondary region's database is read-only and receives its
 * schema by replication, so a refusal to write there is expected and leaves it as it is.
 */
async function matchingDatabase<DB>(app: AppName): Promise<Kysely<DB>> {
  const { db } = await openDatabaseFromConnectionString<DB>(requiredEnv('DATABASE'));
  try {
    await (app === 'trade-matching' ? migrateTradeMatchingDatabase(db) : migrateSettlementDatabase(db));
  } catch (error) {
    const readOnly = /read-only|25006|read only/i.test(`${(error as Error).message} ${String((error as { cause?: unknown }).cause ?? '')}`);
    if (!readOnly) throw error;
    stageTelemetry(`${PREFIX[app]}-matching`).logger.info('database is read-only here (a secondary); not migrating');
  }
  return db;
}

export async function tradeMatchingHandler() {
  const { store, ...common } = adapters();
  const db = await matchingDatabase<TradeMatchingDatabase>('trade-matching');
  const outcomes = new OutcomeCounts();
  const outbox = new PostgresOutbox(db);
  return kinesisStage({
    ...common,
    name: 'tm-matching',
    input: TradeLegRecord.or(SettlementResultRecord),
    routingControl: 'trade-matching-app',
    process: tradeMatchingStep({ db, store, egressStream: requiredEnv('OUT_STREAM'), outcomes }),
    outcomes,
    afterForwarding: (forwards) => markRelayed(outbox, forwards),
    correlationId: tradeIdOf,
  });
}

export async function settlementMatchingHandler() {
  const { store, ...common } = adapters();
  const db = await matchingDatabase<SettlementDatabase>('settlement');
  const outcomes = new OutcomeCounts();
  const outbox = new PostgresOutbox(db);
  const feeBps = process.env.FEE_BPS === undefined ? undefined : Number(process.env.FEE_BPS);
  return kinesisStage({
    ...common,
    name: 'sm-matching',
    input: SettlementRecordMessage,
    routingControl: 'settlement-app',
    process: settlementMatchingStep({ db, store, egressStream: requiredEnv('OUT_STREAM'), outcomes, ...(feeBps === undefined ? {} : { feeBps }) }),
    outcomes,
    afterForwarding: (forwards) => markRelayed(outbox, forwards),
    correlationId: tradeIdOf,
  });
}

export function egressHandler(app: AppName) {
  const { store, ...common } = adapters();
  return kinesisStage({
    ...common,
    name: `${PREFIX[app]}-egress`,
    input: EgressInput,
    routingControl: `${app}-app`,
    process: egressStep({ app, store, outboundStream: requiredEnv('OUT_STREAM') }),
    correlationId: (input) => (input.kind === 'event' ? input.aggregateId : input.nack.tradeId),
  });
}

/**
 * With `EDGE_BROKERS` (every region's broker) and the routing-control cluster, messages for the other app go where
 * that app is active (outbound-destinations.ts); without them, to this region's broker.
 */
function edgeRoutingOf(localBroker: StompMessageBroker, queues: Partial<Record<Destination, string>>): { destinations?: DestinationResolver } {
  const gate = RoutingGate.fromEnvironment();
  const region = process.env.AWS_REGION;
  if (!process.env.EDGE_BROKERS || !gate || !region) return {};
  const brokers = EdgeBrokers.parse(JSON.parse(process.env.EDGE_BROKERS));
  const clients = new Map<string, StompMessageBroker>();
  const brokerFor = (url: string) => clients.get(url) ?? clients.set(url, new StompMessageBroker({ url })).get(url)!;
  return { destinations: edgeDestinations({ region, localBroker, queues, brokers, isOn: (name) => gate.isOn(name), brokerFor }) };
}

export function outboundGatewayHandler(app: AppName) {
  const { store, ...common } = adapters();
  const broker = new StompMessageBroker({ url: requiredEnv('MQ_BROKER_URL') });
  const queues = Object.fromEntries(
    (['RESPONSE_QUEUE', 'SETTLEMENT_QUEUE', 'SETTLEMENT_RESULT_QUEUE'] as const).flatMap((variable) => (process.env[variable] ? [[variable, process.env[variable]]] : [])),
  );
  return kinesisStage({
    ...common,
    name: `${PREFIX[app]}-outbound-gateway`,
    routingControl: `${app}-app`,
    // The send to a queue is the one effect no condition guards: Powertools keeps a second copy from sending too.
    idempotencyTable: requiredEnv('IDEMPOTENCY_TABLE'),
    input: OutboundRecord,
    process: outboundStep({ store, broker, queues, ...edgeRoutingOf(broker, queues) }),
    correlationId: (input) => input.tradeId,
  });
}
