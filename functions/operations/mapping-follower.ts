import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { ArcRoutingControls, parseClusterEndpoints } from '#shared/adapters/arc/arc-routing-controls.ts';
import { CachedRoutingControls } from '#shared/adapters/arc/cached-routing-controls.ts';
import { LambdaEventSourceMappings } from '#shared/adapters/lambda/lambda-event-source-mappings.ts';
import { requiredEnv } from '#shared/config/environment.ts';
import {
  followMappings,
  MAPPING_FOLLOWER_DEFAULTS,
  MappingFollowerEvent,
  parseFollowedMappings,
  type MappingFollowerLogEvent,
  type MappingFollowerResult,
} from '#shared/operations/mapping-follower.ts';

/**
 * `mapping-follower`: run every minute by EventBridge in each region; for about a minute, every five seconds, keeps
 * each gateway MQ mapping of `FOLLOWED_MAPPINGS` (`[{uuid, control}]`, control = the regional routing control, e.g.
 * `trade-matching-queue-us-east-1`) enabled exactly while its control is On. The controls are read through a cache
 * kept for the life of the container, so an ARC outage leaves every mapping as its control was last seen. Answers
 * `{ticks, changes, unchanged, held, errors}`. See shared/operations/mapping-follower.ts.
 */

/** Short, like the routing gate's: all five endpoints of a dead cluster must fit well inside one tick. */
const CLUSTER_CONNECTION_TIMEOUT_MS = 500;
const CLUSTER_REQUEST_TIMEOUT_MS = 1_000;
/** Room left after the last tick starts: its control reads and mapping calls must finish before the timeout. */
const LAST_TICK_BUDGET_MS = 12_000;

const logger = new Logger({ serviceName: 'ops-mapping-follower', logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
const followed = parseFollowedMappings(process.env.FOLLOWED_MAPPINGS);
// Module scope on purpose: the last known state of each control survives from one invocation to the next.
const controls = new CachedRoutingControls(
  new ArcRoutingControls({
    endpoints: parseClusterEndpoints(requiredEnv('ROUTING_CONTROL_ENDPOINTS')),
    connectionTimeoutMs: CLUSTER_CONNECTION_TIMEOUT_MS,
    requestTimeoutMs: CLUSTER_REQUEST_TIMEOUT_MS,
  }),
);
const mappings = LambdaEventSourceMappings.fromEnvironment();

export const handler = async (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<MappingFollowerResult> => {
  const request = MappingFollowerEvent.parse(event ?? {});
  const remainingMs = context?.getRemainingTimeInMillis();
  const budgetMs = remainingMs === undefined ? undefined : Math.max(0, remainingMs - LAST_TICK_BUDGET_MS);
  const durationMs = budgetMs === undefined ? request.durationMs : Math.min(request.durationMs ?? MAPPING_FOLLOWER_DEFAULTS.durationMs, budgetMs);
  const result = await followMappings(
    { mappings: followed, ...(durationMs === undefined ? {} : { durationMs }), ...(request.everyMs === undefined ? {} : { everyMs: request.everyMs }) },
    { controls, mappings, log },
  );
  const summary = { ticks: result.ticks, changes: result.changes.length, unchanged: result.unchanged, held: result.held, errors: result.errors.length };
  if (result.errors.length > 0) logger.error('mapping follower run had errors', { ...summary, errors: result.errors });
  else logger.info('mapping follower run', summary);
  return result;
};

function log(event: MappingFollowerLogEvent): void {
  switch (event.kind) {
    case 'changed':
      logger.info(event.change.enabled ? 'mapping enabled' : 'mapping disabled', { ...event.change });
      break;
    case 'held':
      // A mapping still being created or updated is routine; a control nobody can read is worth a look.
      if (event.held.reason === 'control-unknown') logger.warn('mapping left as it is', { ...event.held });
      else logger.info('mapping left as it is', { ...event.held });
      break;
    case 'failed':
      logger.warn('mapping check failed', { ...event.error });
      break;
  }
}
