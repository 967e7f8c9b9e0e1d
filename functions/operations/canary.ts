import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { requiredEnv } from '#shared/config/environment.ts';
import { resourceNamesFromEnv } from '#shared/operations/app-resources.ts';
import { canary, CanaryRequest, type CanarySettled, type CanarySubmitted } from '#shared/operations/canary.ts';

/**
 * `ops-canary`: `{action: 'submit', runId}` sends a matching trade pair to this region's `tm.trades` queue and
 * answers `{runId, tradeIds, submittedAt}`; `{action: 'check', runId, tradeIds, submittedAt}` answers `{runId,
 * settled: true, tradeIds, elapsedMs}` once both legs are SETTLED here, and fails with `CanaryNotSettledError` until
 * then. See shared/operations/canary.ts.
 */

const logger = new Logger({ serviceName: 'ops-canary', logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
const deps = {
  names: resourceNamesFromEnv(),
  broker: new StompMessageBroker({ url: requiredEnv('MQ_BROKER_URL') }),
  documents: documentClient(new DynamoDBClient({})),
};

export const handler = async (event: unknown): Promise<CanarySubmitted | CanarySettled> => {
  const request = CanaryRequest.parse(event);
  const result = await canary(request, deps);
  logger.info(request.action === 'submit' ? 'canary submitted' : 'canary settled', { ...result });
  return result;
};
