import type { EnvValue, FunctionSpec, Topology } from '#shared/topology/index.ts';
import { globalClusterIdentifier, memberClusterIdentifier } from '#shared/topology/global-database-names.ts';
import type { BrokerPlan, DatabasePlan } from './data.ts';
import { arnOf, physicalName, type StageContext } from './stage.ts';

/**
 * Each manifest function as a Lambda function: its environment, with manifest resources resolved to what this
 * stage named them, and its IAM statements, derived from nothing but its manifest entry (the resources its env
 * names, its triggers, the control-plane operations it declares). Nothing is granted on `*` except read-only calls
 * IAM cannot scope to a resource (UNSCOPABLE_ACTIONS).
 */

/** A variable's value: known now, or an output of a resource the stack creates (the broker, a cluster, ARC). */
export type PlannedValue =
  | { readonly literal: string }
  | { readonly brokerUrl: true }
  | { readonly edgeBrokers: true }
  | { readonly databaseUrl: string }
  | { readonly routingControlEndpoints: true }
  /** The MQ mappings the mapping follower keeps in step with their queue controls, as `[{uuid, control}]`. */
  | { readonly followedMappings: true }
  /** The dashboard's own address (its CloudFront distribution), the only `Origin` its API accepts. */
  | { readonly dashboardOrigin: true };

export interface Statement {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions?: readonly { readonly test: string; readonly variable: string; readonly values: readonly string[] }[];
}

export interface FunctionPlan {
  readonly manifest: string;
  readonly name: string;
  readonly arn: string;
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memorySizeMB: number;
  readonly environment: Readonly<Record<string, PlannedValue>>;
  readonly permissions: readonly Statement[];
  /** In the region's VPC: it reaches the broker or a database, both private. */
  readonly inVpc: boolean;
}

export const DYNAMODB_ACTIONS = [
  'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:DescribeTable',
  'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem', 'dynamodb:ConditionCheckItem',
] as const;
export const KINESIS_WRITE_ACTIONS = ['kinesis:PutRecord', 'kinesis:PutRecords', 'kinesis:DescribeStreamSummary', 'kinesis:ListShards'] as const;
/** What Lambda's poller needs, with the function's role, to read a stream for an event-source mapping. */
export const KINESIS_READ_ACTIONS = ['kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:ListShards'] as const;
/** EC2 calls an MQ mapping's poller makes to reach the broker's VPC; IAM offers no resource to scope them to. */
export const VPC_DESCRIBE_ACTIONS = ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets', 'ec2:DescribeVpcs'] as const;
/**
 * Listing the cluster's controls (how the routing adapter finds a control's ARN by name) names no control, so it is
 * granted on every resource; it reads names and states only.
 */
export const ROUTING_LIST_ACTIONS = ['route53-recovery-cluster:ListRoutingControls'] as const;
/** The only actions granted on `*`: read-only calls IAM cannot scope to a resource. */
export const UNSCOPABLE_ACTIONS: readonly string[] = [...VPC_DESCRIBE_ACTIONS, ...ROUTING_LIST_ACTIONS];
export const ROUTING_READ_ACTIONS = ['route53-recovery-cluster:GetRoutingControlState'] as const;
export const ROUTING_WRITE_ACTIONS = ['route53-recovery-cluster:UpdateRoutingControlState', 'route53-recovery-cluster:UpdateRoutingControlStates'] as const;
export const AURORA_GLOBAL_ACTIONS = ['rds:DescribeGlobalClusters', 'rds:DescribeDBClusters', 'rds:SwitchoverGlobalCluster', 'rds:FailoverGlobalCluster'] as const;

interface Dependencies {
  readonly broker: Pick<BrokerPlan, 'name' | 'credentialsSecretArnPatterns'>;
  readonly databases: readonly Pick<DatabasePlan, 'manifest' | 'credentialsSecretArnPattern'>[];
}

export function functionPlans(topology: Pick<Topology, 'functions' | 'queues' | 'databases' | 'regions'>, context: StageContext, dependencies: Dependencies): FunctionPlan[] {
  const serviceOf = new Map(topology.queues.map((queue) => [queue.name, queue.service]));
  return topology.functions.map((fn) => {
    const references = Object.values(fn.env).filter((value): value is Exclude<EnvValue, string> => typeof value !== 'string');
    const tables = references.flatMap((value) => ('table' in value ? [value.table] : []));
    const streams = references.flatMap((value) => ('stream' in value ? [value.stream] : []));
    const databases = references.flatMap((value) => ('database' in value ? [value.database] : []));
    const mqTriggers = fn.triggers.flatMap((trigger) => (trigger.kind === 'mq' ? [trigger.queue] : []));
    const usesBroker = references.some((value) => 'queue' in value && serviceOf.get(value.queue) === 'mq');

    const environment: Record<string, PlannedValue> = {
      ROUTING_CONTROL_ENDPOINTS: { routingControlEndpoints: true },
      ...(usesBroker ? { MQ_BROKER_URL: { brokerUrl: true }, EDGE_BROKERS: { edgeBrokers: true } } : {}),
      // pg verifies Aurora's certificate, issued by the RDS authority, which Node trusts only from this bundle.
      ...(databases.length ? { NODE_EXTRA_CA_CERTS: { literal: '/var/runtime/ca-cert.pem' } } : {}),
      ...Object.fromEntries(Object.entries(fn.env).map(([variable, value]) => [variable, plannedValue(value, context, serviceOf)])),
    };

    const statements: Statement[] = [
      { actions: ROUTING_READ_ACTIONS, resources: [routingControlsArn(context)] },
      { actions: ROUTING_LIST_ACTIONS, resources: ['*'] },
      ...(tables.length ? [{ actions: DYNAMODB_ACTIONS, resources: unique(tables).map((table) => arnOf.table(context, table)) }] : []),
      ...(streams.length ? [{ actions: KINESIS_WRITE_ACTIONS, resources: unique(streams).map((stream) => arnOf.stream(context, stream)) }] : []),
      ...fn.triggers.flatMap((trigger): Statement[] =>
        trigger.kind === 'kinesis'
          ? [
              { actions: KINESIS_READ_ACTIONS, resources: [arnOf.stream(context, trigger.stream)] },
              // The mapping sends a batch that ran out of retries with the function's role.
              { actions: ['sqs:SendMessage'], resources: [arnOf.sqsQueue(context, trigger.onFailure)] },
            ]
          : [],
      ),
      ...(usesBroker || mqTriggers.length ? [{ actions: ['secretsmanager:GetSecretValue'], resources: [...dependencies.broker.credentialsSecretArnPatterns] }] : []),
      ...(mqTriggers.length
        ? [
            { actions: ['mq:DescribeBroker'], resources: [`arn:${context.partition}:mq:${context.region}:${context.account}:broker:${dependencies.broker.name}:*`] },
            { actions: VPC_DESCRIBE_ACTIONS, resources: ['*'] },
          ]
        : []),
      ...(databases.length
        ? [{ actions: ['secretsmanager:GetSecretValue'], resources: unique(databases).map((database) => secretOf(dependencies, database)) }]
        : []),
      ...operationStatements(fn, topology, context),
    ];

    return {
      manifest: fn.name,
      name: physicalName(context, fn.name),
      arn: arnOf.function(context, fn.name),
      handler: fn.handler,
      timeoutSeconds: fn.timeoutSeconds,
      memorySizeMB: fn.memorySizeMB,
      environment,
      permissions: statements,
      inVpc: usesBroker || mqTriggers.length > 0 || databases.length > 0,
    };
  });
}

function plannedValue(value: EnvValue, context: StageContext, serviceOf: ReadonlyMap<string, string>): PlannedValue {
  if (typeof value === 'string') return { literal: value };
  if ('stream' in value) return { literal: physicalName(context, value.stream) };
  if ('table' in value) return { literal: physicalName(context, value.table) };
  // MQ queues keep their manifest names on the environment's own broker; SQS queues are regional resources.
  if ('queue' in value) return { literal: serviceOf.get(value.queue) === 'mq' ? value.queue : physicalName(context, value.queue) };
  return { databaseUrl: value.database };
}

function operationStatements(fn: FunctionSpec, topology: Pick<Topology, 'databases' | 'regions'>, context: StageContext): Statement[] {
  return (fn.operates ?? []).map((operation): Statement => {
    if (operation === 'routing-controls') return { actions: ROUTING_WRITE_ACTIONS, resources: [routingControlsArn(context)] };
    return {
      actions: AURORA_GLOBAL_ACTIONS,
      resources: topology.databases.flatMap((database) => [
        `arn:${context.partition}:rds::${context.account}:global-cluster:${globalClusterIdentifier(database.name)}`,
        ...topology.regions.map((region) => `arn:${context.partition}:rds:${region}:${context.account}:cluster:${memberClusterIdentifier(database.name, region)}`),
      ]),
    };
  });
}

/** Routing controls live in control panels this account owns; their ids are AWS's, so the panel is a pattern. */
export function routingControlsArn(context: Pick<StageContext, 'partition' | 'account'>): string {
  return `arn:${context.partition}:route53-recovery-control::${context.account}:controlpanel/*/routingcontrol/*`;
}

function secretOf(dependencies: Dependencies, database: string): string {
  const plan = dependencies.databases.find((candidate) => candidate.manifest === database);
  if (!plan) throw new Error(`database ${database} has no plan`);
  return plan.credentialsSecretArnPattern;
}

const unique = (values: readonly string[]) => [...new Set(values)];
