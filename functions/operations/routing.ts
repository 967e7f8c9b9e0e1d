import { Logger } from '@aws-lambda-powertools/logger';
import { ArcRoutingControls, parseClusterEndpoints } from '#shared/adapters/arc/arc-routing-controls.ts';
import { requiredEnv } from '#shared/config/environment.ts';
import { routing, RoutingRequest, type AppRouting } from '#shared/operations/routing.ts';

/**
 * `ops-routing`: an app's Route 53 ARC routing controls, for the rotation and disaster-recovery workflows.
 * `{action: 'describe', app}` → `{app, activeRegion, regions, controls: {dns, queue, app}}`;
 * `{action: 'set', app, changes: [{kind, region, state}]}` applies every change in one atomic update and answers the
 * same shape afterwards. A change the cluster's safety rules refuse fails with `SafetyRuleViolationError`, and
 * nothing changes. See shared/operations/routing.ts.
 */

const logger = new Logger({ serviceName: 'ops-routing', logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
const controls = new ArcRoutingControls({ endpoints: parseClusterEndpoints(requiredEnv('ROUTING_CONTROL_ENDPOINTS')) });

export const handler = async (event: unknown): Promise<AppRouting> => {
  const request = RoutingRequest.parse(event);
  const result = await routing(request, { controls });
  if (request.action === 'set') logger.info('routing controls set', { changes: request.changes, ...result });
  return result;
};
