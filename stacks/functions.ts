import type { StagePlan } from './plan/index.ts';
import type { PlannedValue } from './plan/functions.ts';
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
}

/**
 * Every manifest function as a Lambda function (Node 22, arm64) with exactly the statements its plan grants, and
 * its event-source mappings: Kinesis with every no-loss setting of the manifest, MQ through the broker's secret.
 */
export function createFunctions(plan: StagePlan, inputs: FunctionInputs, broker: { broker: aws.mq.Broker; secret: aws.secretsmanager.Secret }) {
  const functions = new Map(
    plan.functions.map((fn) => [
      fn.manifest,
      new sst.aws.Function(logicalName('Function', fn.manifest), {
        name: fn.name,
        handler: fn.handler,
        runtime: 'nodejs22.x',
        architecture: 'arm64',
        timeout: `${fn.timeoutSeconds} seconds`,
        memory: `${fn.memorySizeMB} MB`,
        environment: Object.fromEntries(Object.entries(fn.environment).map(([variable, value]) => [variable, resolve(value, inputs)])),
        permissions: fn.permissions.map((statement) => ({ actions: [...statement.actions], resources: [...statement.resources] })),
        ...(fn.inVpc ? { vpc: inputs.network } : {}),
        logging: { retention: '1 month', format: 'json' },
        // PGlite is the twin's database; on AWS matching talks to Aurora through pg.
        nodejs: { esbuild: { external: ['@electric-sql/pglite'] } },
      }),
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
  for (const mapping of plan.mqMappings) {
    new aws.lambda.EventSourceMapping(
      logicalName('Mapping', mapping.function, mapping.queue),
      {
        ...mapping.args,
        functionName: functionNamed(mapping.function).name,
        eventSourceArn: broker.broker.arn,
        sourceAccessConfigurations: [{ type: 'BASIC_AUTH', uri: broker.secret.arn }],
      },
      // The workflows turn a gateway's mappings on and off with the region's queue control.
      { ignoreChanges: ['enabled'] },
    );
  }
  return functions;
}

function resolve(value: PlannedValue, inputs: FunctionInputs): $util.Input<string> {
  if ('literal' in value) return value.literal;
  if ('brokerUrl' in value) return inputs.brokerUrl;
  if ('edgeBrokers' in value) return inputs.edgeBrokers;
  if ('routingControlEndpoints' in value) return inputs.routingControlEndpoints;
  const url = inputs.databaseUrls.get(value.databaseUrl);
  if (!url) throw new Error(`database ${value.databaseUrl} was not created in this stage`);
  return url;
}
