import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { openDatabaseFromConnectionString } from '#shared/adapters/postgres/database-registry.ts';
import type { SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import type { TradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import { PostgresSettlementRecords, PostgresTradeRecords } from '#shared/adapters/postgres/matching-records.ts';
import { PostgresOutbox } from '#shared/adapters/postgres/outbox.ts';
import { stageTelemetry } from '#shared/pipeline/telemetry.ts';
import { reconcile } from '#shared/reconciliation/compare.ts';
import { DynamoDbAuditTrail } from '#shared/reconciliation/dynamodb-audit-trail.ts';
import { auditTablesFromEnv, databasesFromEnv, storesFromEnv } from '#shared/reconciliation/names.ts';
import { reconciliationGraph } from '#shared/reconciliation/pair-graph.ts';
import { ReconcileInput, type ReconcileOutput } from '#shared/reconciliation/schemas.ts';
import { StoreReads } from '#shared/reconciliation/store-reads.ts';

/** ops-reconcile: one pass of an app's reconciliation run (docs/reconciliation.md). */

const { logger } = stageTelemetry('ops-reconcile');
const documents = documentClient(new DynamoDBClient({}));
const databases = databasesFromEnv();
const [tradeMatching, settlement] = await Promise.all([
  openDatabaseFromConnectionString<TradeMatchingDatabase>(databases['trade-matching']),
  openDatabaseFromConnectionString<SettlementDatabase>(databases.settlement),
]);
const names = { stores: storesFromEnv() };
const reads = new StoreReads({
  documents,
  outboxes: { 'trade-matching': new PostgresOutbox(tradeMatching.db), settlement: new PostgresOutbox(settlement.db) },
  records: { 'trade-matching': new PostgresTradeRecords(tradeMatching.db), settlement: new PostgresSettlementRecords(settlement.db) },
});
const audit = new DynamoDbAuditTrail(documents, auditTablesFromEnv());

export const handler = async (event: unknown): Promise<ReconcileOutput> => {
  const input = ReconcileInput.parse(event);
  const output = await reconcile(input, { graph: (app) => reconciliationGraph(app, names), reads, audit });
  logger.info('reconciliation pass', {
    app: output.app,
    runId: output.runId,
    pass: output.pass,
    until: output.until,
    checked: output.checked,
    missing: output.missing,
    pairs: output.pairs.map(({ pair, checked, missing }) => ({ pair, checked, missing })),
  });
  return output;
};
