import type { EnvValue, FunctionSpec } from '#shared/topology/schema.ts';
import { RegionConfigurationError } from '#local/region/errors.ts';

/**
 * Turns a manifest function's `env` into the variables its handler reads, as the AWS stacks do: resource
 * references become names (streams, tables, queues are named as in the manifest) or a database connection
 * string, and every function also gets what the plain AWS SDK v3, Rotor's broker client and the routing-control
 * adapter need to reach this region's emulators, the twin's ARC cluster and its RDS API, so handlers carry no
 * twin-specific code.
 */

export interface RegionEndpoints {
  readonly region: string;
  readonly kinesis: string;
  readonly dynamodb: string;
  /** `stomp://host:port` of the region's broker (embedded or ActiveMQ). */
  readonly broker: string;
  /** The ARC cluster's endpoints as `DescribeCluster` lists them (`[{"Endpoint","Region"}…]`), JSON text. */
  readonly routingControlEndpoints?: string | undefined;
  /** The twin's RDS API (Aurora global clusters), in the global layer; absent when the manifest has no databases. */
  readonly rds?: string | undefined;
  /** Every region's broker and queue prefix, JSON (`EDGE_BROKERS`), for sends to another app's active region. */
  readonly edgeBrokers?: string | undefined;
}

/** What `{database: X}` and `{queue: X}` resolve against in this region. */
export interface RegionResources {
  /** Manifest database name → connection string (`postgres://…` or `pglite:<dir>`). */
  readonly databaseConnectionStrings: ReadonlyMap<string, string>;
  /** Put before every queue name, so regions sharing one broker do not consume each other's queues; '' for none. */
  readonly queuePrefix: string;
}

/** Environment variable through which MQ clients find the broker (Amazon MQ's STOMP endpoint on AWS). */
export const BROKER_URL_VARIABLE = 'MQ_BROKER_URL';

/** Environment variable holding the ARC cluster endpoints, in the JSON `parseClusterEndpoints` reads. */
export const ROUTING_CONTROL_ENDPOINTS_VARIABLE = 'ROUTING_CONTROL_ENDPOINTS';

// The emulators accept any credentials; real-looking dummies keep the SDK's credential chain from searching
// (and from picking up a developer's real profile).
const TWIN_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDROTORTWIN', AWS_SECRET_ACCESS_KEY: 'rotor-twin-secret' } as const;

export function sdkEnvironment(endpoints: RegionEndpoints): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    ...(endpoints.rds === undefined ? {} : { AWS_ENDPOINT_URL_RDS: endpoints.rds }),
    ...(endpoints.edgeBrokers === undefined ? {} : { EDGE_BROKERS: endpoints.edgeBrokers }),
    ...TWIN_CREDENTIALS,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    [BROKER_URL_VARIABLE]: endpoints.broker,
    ...(endpoints.routingControlEndpoints === undefined ? {} : { [ROUTING_CONTROL_ENDPOINTS_VARIABLE]: endpoints.routingControlEndpoints }),
  };
}

/** The broker queue a manifest queue is in this region. */
export function regionQueueName(queue: string, resources: Pick<RegionResources, 'queuePrefix'>): string {
  return `${resources.queuePrefix}${queue}`;
}

export function resolveEnvValue(value: EnvValue, resources: RegionResources): string {
  if (typeof value === 'string') return value;
  if ('stream' in value) return value.stream;
  if ('table' in value) return value.table;
  if ('queue' in value) return regionQueueName(value.queue, resources);
  const connectionString = resources.databaseConnectionStrings.get(value.database);
  // validateTopology guarantees every referenced database is declared, and the region opens each declared one.
  if (connectionString === undefined) throw new RegionConfigurationError(`database ${value.database} has no connection string in this region`);
  return connectionString;
}

export function functionEnvironment(fn: FunctionSpec, endpoints: RegionEndpoints, resources: RegionResources): Record<string, string> {
  const resolved = Object.fromEntries(Object.entries(fn.env).map(([variable, value]) => [variable, resolveEnvValue(value, resources)]));
  return { ...sdkEnvironment(endpoints), ...resolved };
}
