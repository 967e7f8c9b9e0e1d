import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { KinesisStreamPublisher, kinesisClient } from '#shared/adapters/kinesis/kinesis-stream-publisher.ts';
import { openDatabaseFromConnectionString } from '#shared/adapters/postgres/database-registry.ts';
import type { SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import type { TradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import { PostgresOutbox } from '#shared/adapters/postgres/outbox.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { requiredEnv } from '#shared/config/environment.ts';
import { stageTelemetry } from '#shared/pipeline/telemetry.ts';
import { DynamoDbAuditTrail } from '#shared/reconciliation/dynamodb-audit-trail.ts';
import { auditTablesFromEnv, databasesFromEnv, replayTargetsFromEnv, storesFromEnv } from '#shared/reconciliation/names.ts';
import { reconciliationGraph } from '#shared/reconciliation/pair-graph.ts';
import { replay } from '#shared/reconciliation/replay.ts';
import { ReplayInput, type ReplayOutput } from '#shared/reconciliation/schemas.ts';
import { StoreReads } from '#shared/reconciliation/store-reads.ts';

/** ops-replay: sends what a reconciliation pass found missing downstream again (docs/reconciliation.md). */

const { logger } = stageTelemetry('ops-replay');
const documents = documentClient(new DynamoDBClient({}));
const databases = databasesFromEnv();
const [tradeMatching, settlement] = await Promise.all([
  openDatabaseFromConnectionString<TradeMatchingDatabase>(databases['trade-matching']),
  openDatabaseFromConnectionString<SettlementDatabase>(databases.settlement),
]);
const names = { stores: storesFromEnv(), targets: replayTargetsFromEnv() };
const reads = new StoreReads({ documents, outboxes: { 'trade-matching': new PostgresOutbox(tradeMatching.db), settlement: new PostgresOutbox(settlement.db) } });
const publisher = new KinesisStreamPublisher(kinesisClient());
// Connects on the first send: a replay of stream records only never opens a broker connection.
const broker = new StompMessageBroker({ url: requiredEnv('MQ_BROKER_URL') });
const audit = new DynamoDbAuditTrail(documents, auditTablesFromEnv());

export const handler = async (event: unknown): Promise<ReplayOutput> => {
  const input = ReplayInput.parse(event);
  const output = await replay(input, { graph: (app) => reconciliationGraph(app, names), reads, publisher, broker, audit });
  logger.info('replayed', { app: output.app, runId: output.runId, pass: output.pass, replayed: output.replayed, pairs: output.pairs });
  return output;
};
