import type { Topology } from '#shared/topology/index.ts';
import { regionalControlName } from '#shared/topology/routing.ts';
import { kinesisMappingSettings } from '#shared/topology/triggers.ts';
import { ROUTING_LIST_ACTIONS, ROUTING_READ_ACTIONS, routingControlsArn, type FunctionPlan } from './functions.ts';
import { arnOf, physicalName, type StageContext } from './stage.ts';

/**
 * Event-source mappings from the manifest's triggers, every field as the manifest says: AWS's defaults (LATEST,
 * endless retries, no bisect, no partial-batch responses) would lose or block trades.
 */

export interface KinesisMappingPlan {
  readonly function: string;
  readonly stream: string;
  readonly args: {
    eventSourceArn: string;
    functionName: string;
    startingPosition: 'TRIM_HORIZON' | 'LATEST';
    batchSize: number;
    maximumBatchingWindowInSeconds: number;
    parallelizationFactor: number;
    bisectBatchOnFunctionError: boolean;
    maximumRetryAttempts: number;
    maximumRecordAgeInSeconds: number;
    functionResponseTypes: string[];
    destinationConfig: { onFailure: { destinationArn: string } };
  };
}

export interface MqMappingPlan {
  readonly function: string;
  readonly queue: string;
  /** The routing control (in this region) the mapping follows; the workflows enable it while the control is On. */
  readonly enabledBy: string | undefined;
  /** `queues`: Lambda reads one queue per MQ mapping. */
  readonly args: { functionName: string; queues: string; batchSize: number; maximumBatchingWindowInSeconds: number; enabled: boolean };
}

export function kinesisMappingPlans(topology: Pick<Topology, 'functions'>, context: StageContext): KinesisMappingPlan[] {
  return topology.functions.flatMap((fn) =>
    fn.triggers.flatMap((trigger) =>
      trigger.kind !== 'kinesis'
        ? []
        : [
            {
              function: fn.name,
              stream: trigger.stream,
              args: {
                eventSourceArn: arnOf.stream(context, trigger.stream),
                functionName: physicalName(context, fn.name),
                ...kinesisMappingSettings(trigger),
                destinationConfig: { onFailure: { destinationArn: arnOf.sqsQueue(context, trigger.onFailure) } },
              },
            },
          ],
    ),
  );
}

/** Enabled at first only in the primary region, whose queue controls an operator turns On first (docs/deploy.md). */
export function mqMappingPlans(topology: Pick<Topology, 'functions'>, context: StageContext): MqMappingPlan[] {
  return topology.functions.flatMap((fn) =>
    fn.triggers.flatMap((trigger) =>
      trigger.kind !== 'mq'
        ? []
        : [
            {
              function: fn.name,
              queue: trigger.queue,
              enabledBy: trigger.enabledBy === undefined ? undefined : regionalControlName(trigger.enabledBy, context.region),
              args: {
                functionName: physicalName(context, fn.name),
                queues: trigger.queue,
                batchSize: trigger.batchSize,
                maximumBatchingWindowInSeconds: trigger.maximumBatchingWindowInSeconds,
                enabled: trigger.enabledBy === undefined || context.isPrimary,
              },
            },
          ],
    ),
  );
}

/**
 * AWS's side of `enabledBy`: a function run every minute by EventBridge that, for about a minute, checks every five
 * seconds that each MQ mapping of this region is enabled exactly while its queue control is On
 * (shared/operations/mapping-follower.ts). It may read this region's mappings and update only its gateways'.
 */
export function mappingFollowerPlan(topology: Pick<Topology, 'functions'>, context: StageContext): FunctionPlan & { schedule: 'rate(1 minute)' } {
  const gateways = [...new Set(mqMappingPlans(topology, context).filter((mapping) => mapping.enabledBy).map((mapping) => mapping.function))];
  const mappingsArn = `arn:${context.partition}:lambda:${context.region}:${context.account}:event-source-mapping:*`;
  return {
    manifest: 'mapping-follower',
    name: physicalName(context, 'mapping-follower'),
    arn: arnOf.function(context, 'mapping-follower'),
    handler: 'functions/operations/mapping-follower.handler',
    timeoutSeconds: 70,
    memorySizeMB: 256,
    environment: { ROUTING_CONTROL_ENDPOINTS: { routingControlEndpoints: true }, FOLLOWED_MAPPINGS: { followedMappings: true } },
    permissions: [
      { actions: ROUTING_READ_ACTIONS, resources: [routingControlsArn(context)] },
      { actions: ROUTING_LIST_ACTIONS, resources: ['*'] },
      // Lambda evaluates `lambda:FunctionArn` on updates but not on reads, so only the update carries the condition.
      { actions: ['lambda:GetEventSourceMapping'], resources: [mappingsArn] },
      {
        actions: ['lambda:UpdateEventSourceMapping'],
        resources: [mappingsArn],
        conditions: [{ test: 'ArnLike', variable: 'lambda:FunctionArn', values: gateways.map((gateway) => arnOf.function(context, gateway)) }],
      },
    ],
    inVpc: false,
    schedule: 'rate(1 minute)',
  };
}
