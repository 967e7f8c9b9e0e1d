import type { StagePlan } from './plan/index.ts';
import type { FunctionPlan, PlannedValue } from './plan/functions.ts';
import type { Network } from './network.ts';
import { logicalName } from './names.ts';

/** What the stack has created that a function's environment may name. */
export interface FunctionInputs {
  readonly network: Network;
  readonly brokerUrl: $util.Output<string>;
  /** `EDGE_BROKERS`: every region's broker, as far as the stages deployed so far have published them. */
  readonly edgeBrokers: $util.Output<string>;
  readonly databaseUrls: ReadonlyMap<string, $util.Output<string>>;
  readonly routingControlEndpoints: $util.Output<string>;
  /** The dashboard's distribution URL, for the dashboard's API only. */
  readonly dashboardOrigin?: $util.Output<string>;
}

/**
 * Every manifest function as a Lambda function (Node 22, arm64) with exactly the statements its plan grants, and
 * its event-source mappings: Kinesis with every no-loss setting of the manifest, MQ through the broker's secret.
 * The mapping follower, run every minute, keeps each MQ mapping enabled exactly while its queue control is On;
 * the invoke-in relay runs the workflows' tasks that name another region.
 */
export function createFunctions(plan: StagePlan, inputs: FunctionInputs, broker: { broker: aws.mq.Broker; secret: aws.secretsmanager.Secret }) {
  const functions = new Map(
    plan.functions.map((fn) => [
      fn.manifest,
      new sst.aws.Function(logicalName('Function', fn.manifest), functionArgs(fn, inputs)),
    ]),
  );
  const functionNamed = (name: string) => {
    const fn = functions.get(name);
    if (!fn) throw new Error(`mapping names function ${name}, which has no plan`);
    return fn;
  };

  for (const mapping of plan.kinesisMappings) {
    new aws.lambda.EventSourceMapping(logicalName('Mapping', mapping.function, mapping.stream), {
      ...mapping.args,
      functionName: functionNamed(mapping.function).name,
    });
  }
  const followed = plan.mqMappings.map((mapping) => {
    const resource = new aws.lambda.EventSourceMapping(
      logicalName('Mapping', mapping.function, mapping.queue),
      {
        ...mapping.args,
        functionName: functionNamed(mapping.function).name,
        eventSourceArn: broker.broker.arn,
        sourceAccessConfigurations: [{ type: 'BASIC_AUTH', uri: broker.secret.arn }],
      },
      // The mapping follower turns it on and off with the region's queue control; the stack must not undo that.
      { ignoreChanges: ['enabled'] },
    );
    return { mapping, resource };
  });

  const follower = plan.mappingFollower;
  const followedMappings = $jsonStringify(followed.filter(({ mapping }) => mapping.enabledBy).map(({ mapping, resource }) => ({ uuid: resource.uuid, control: mapping.enabledBy })));
  const followerFunction = new sst.aws.Function(logicalName('Function', follower.manifest), {
    ...functionArgs(follower, inputs),
    environment: { ...resolveAll(follower.environment, inputs), FOLLOWED_MAPPINGS: followedMappings },
  });
  new sst.aws.Cron('MappingFollowerSchedule', { schedule: follower.schedule, function: followerFunction.arn });
  functions.set(plan.invokeInRelay.manifest, new sst.aws.Function(logicalName('Function', plan.invokeInRelay.manifest), functionArgs(plan.invokeInRelay, inputs)));
  return functions;
}

export function functionArgs(fn: FunctionPlan, inputs: FunctionInputs): sst.aws.FunctionArgs {
  return {
    name: fn.name,
    handler: fn.handler,
    runtime: 'nodejs22.x',
    architecture: 'arm64',
    timeout: `${fn.timeoutSeconds} seconds`,
    memory: `${fn.memorySizeMB} MB`,
    environment: resolveAll(fn.environment, inputs),
    permissions: fn.permissions.map((statement) => ({
      actions: [...statement.actions],
      resources: [...statement.resources],
      ...(statement.conditions ? { conditions: statement.conditions.map((condition) => ({ ...condition, values: [...condition.values] })) } : {}),
    })),
    ...(fn.inVpc ? { vpc: { privateSubnets: inputs.network.privateSubnets, securityGroups: inputs.network.securityGroups } } : {}),
    logging: { retention: '1 month', format: 'json' },
    // PGlite is the twin's database; on AWS matching talks to Aurora through pg.
    nodejs: { esbuild: { external: ['@electric-sql/pglite'] } },
  };
}

/** Every variable but the follower's list, which exists only once the mappings do. */
function resolveAll(environment: FunctionPlan['environment'], inputs: FunctionInputs): Record<string, $util.Input<string>> {
  return Object.fromEntries(
    Object.entries(environment).flatMap(([variable, value]) => ('followedMappings' in value ? [] : [[variable, resolve(value, inputs)] as const])),
  );
}

function resolve(value: Exclude<PlannedValue, { followedMappings: true }>, inputs: FunctionInputs): $util.Input<string> {
  if ('literal' in value) return value.literal;
  if ('brokerUrl' in value) return inputs.brokerUrl;
  if ('edgeBrokers' in value) return inputs.edgeBrokers;
  if ('routingControlEndpoints' in value) return inputs.routingControlEndpoints;
  if ('dashboardOrigin' in value) {
    if (!inputs.dashboardOrigin) throw new Error('only the dashboard names its own origin');
    return inputs.dashboardOrigin;
  }
  const url = inputs.databaseUrls.get(value.databaseUrl);
  if (!url) throw new Error(`database ${value.databaseUrl} was not created in this stage`);
  return url;
}
