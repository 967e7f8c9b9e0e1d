import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { requiredEnv } from '#shared/config/environment.ts';
import { functionRegion, resourceNamesFromEnv } from '#shared/operations/app-resources.ts';
import { drainCheck, DrainCheckRequest, type DrainCheckResult } from '#shared/operations/drain-check.ts';
import { forwardQueuedMessages, ForwardQueuesRequest, type QueuesForwarded } from '#shared/operations/forward-queues.ts';
import { EdgeBrokers } from '#shared/pipeline/outbound-destinations.ts';
import { topology } from '#shared/topology/index.ts';

/**
 * `ops-drain-check`: positive evidence that this region is drained of an app. `{check: 'queues', app, runId}`: the
 * app's inbound queues are empty on this region's broker; `{check: 'watermark-write', …}`: writes `watermark:<runId>`
 * to every safe store of the app here; `{check: 'watermark-read', …}` (in the other region): it has arrived in every
 * one. A region not drained yet fails with `DrainNotCompleteError`. See shared/operations/drain-check.ts.
 * `{check: 'forward-queues', app, runId, toRegion}`: a rolled-back rotation moves what waits on the app's inbound
 * queues here to the region that serves it again (shared/operations/forward-queues.ts).
 */

const logger = new Logger({ serviceName: 'ops-drain-check', logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
const deps = {
  topology,
  names: resourceNamesFromEnv(),
  region: functionRegion(),
  broker: new StompMessageBroker({ url: requiredEnv('MQ_BROKER_URL') }),
  documents: documentClient(new DynamoDBClient({})),
};

const edgeBrokers = process.env.EDGE_BROKERS ? EdgeBrokers.parse(JSON.parse(process.env.EDGE_BROKERS)) : {};
const peers = new Map<string, StompMessageBroker>();
const brokerOf = (region: string) => {
  const peer = edgeBrokers[region];
  if (!peer) return undefined;
  if (!peers.has(peer.url)) peers.set(peer.url, new StompMessageBroker({ url: peer.url }));
  return { broker: peers.get(peer.url)!, queuePrefix: peer.queuePrefix };
};

export const handler = async (event: unknown): Promise<DrainCheckResult | QueuesForwarded> => {
  if ((event as { check?: unknown } | null)?.check === 'forward-queues') {
    const forward = ForwardQueuesRequest.parse(event);
    const forwarded = await forwardQueuedMessages(forward, { ...deps, brokerOf });
    logger.info('queued messages forwarded', { ...forwarded, runId: forward.runId });
    return forwarded;
  }
  const request = DrainCheckRequest.parse(event);
  const result = await drainCheck(request, deps);
  logger.info('drain check passed', { ...result, runId: request.runId });
  return result;
};
