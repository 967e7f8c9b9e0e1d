import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { requiredEnv } from '#shared/config/environment.ts';
import { functionRegion, resourceNamesFromEnv } from '#shared/operations/app-resources.ts';
import { drainCheck, DrainCheckRequest, type DrainCheckResult } from '#shared/operations/drain-check.ts';
import { topology } from '#shared/topology/index.ts';

/**
 * `ops-drain-check`: positive evidence that this region is drained of an app. `{check: 'queues', app, runId}`: the
 * app's inbound queues are empty on this region's broker; `{check: 'watermark-write', …}`: writes `watermark:<runId>`
 * to every safe store of the app here; `{check: 'watermark-read', …}` (in the other region): it has arrived in every
 * one. A region not drained yet fails with `DrainNotCompleteError`. See shared/operations/drain-check.ts.
 */

const logger = new Logger({ serviceName: 'ops-drain-check', logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
const deps = {
  topology,
  names: resourceNamesFromEnv(),
  region: functionRegion(),
  broker: new StompMessageBroker({ url: requiredEnv('MQ_BROKER_URL') }),
  documents: documentClient(new DynamoDBClient({})),
};

export const handler = async (event: unknown): Promise<DrainCheckResult> => {
  const request = DrainCheckRequest.parse(event);
  const result = await drainCheck(request, deps);
  logger.info('drain check passed', { ...result, runId: request.runId });
  return result;
};
