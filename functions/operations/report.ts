import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { stageTelemetry } from '#shared/pipeline/telemetry.ts';
import { DynamoDbAuditTrail } from '#shared/reconciliation/dynamodb-audit-trail.ts';
import { auditTablesFromEnv } from '#shared/reconciliation/names.ts';
import { reportRun } from '#shared/reconciliation/report.ts';
import { ReportInput, type ReportOutput } from '#shared/reconciliation/schemas.ts';

/** ops-report: records how a reconciliation run ended and returns its missing-transaction report. */

const { logger } = stageTelemetry('ops-report');
const audit = new DynamoDbAuditTrail(documentClient(new DynamoDBClient({})), auditTablesFromEnv());

export const handler = async (event: unknown): Promise<ReportOutput> => {
  const input = ReportInput.parse(event);
  const output = await reportRun(input, { audit });
  logger.info('reconciliation run finished', {
    app: output.app,
    runId: output.runId,
    outcome: output.outcome,
    passes: output.passes,
    replayed: output.replayed,
    missingAtEnd: output.missingAtEnd,
  });
  return output;
};
