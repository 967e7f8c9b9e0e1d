import type { EnvValue, FunctionSpec } from '#shared/topology/schema.ts';
import { RegionConfigurationError } from '#local/region/errors.ts';

/**
 * Turns a manifest function's `env` into the variables its handler reads, as the AWS stacks do: resource
 * references become names (streams, tables, queues are named as in the manifest) or a database connection
 * string, and every function also gets what the plain AWS SDK v3 and Rotor's broker client need to reach this
 * region's emulators, so handlers carry no twin-specific code.
 */

export interface RegionEndpoints {
  readonly region: string;
  readonly kinesis: string;
  readonly dynamodb: string;
  /** `stomp://host:port` of the region's broker (embedded or ActiveMQ). */
  readonly broker: string;
}

/** Environment variable through which MQ clients find the broker (Amazon MQ's STOMP endpoint on AWS). */
export const BROKER_URL_VARIABLE = 'MQ_BROKER_URL';

// The emulators accept any credentials; real-looking dummies keep the SDK's credential chain from searching
// (and from picking up a developer's real profile).
const TWIN_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDROTORTWIN', AWS_SECRET_ACCESS_KEY: 'rotor-twin-secret' } as const;

export function sdkEnvironment(endpoints: RegionEndpoints): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_KINESIS: endpoints.kinesis,
    AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
    ...TWIN_CREDENTIALS,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    [BROKER_URL_VARIABLE]: endpoints.broker,
  };
}

export function resolveEnvValue(value: EnvValue, databaseConnectionStrings: ReadonlyMap<string, string>): string {
  if (typeof value === 'string') return value;
  if ('stream' in value) return value.stream;
  if ('table' in value) return value.table;
  if ('queue' in value) return value.queue;
  const connectionString = databaseConnectionStrings.get(value.database);
  // validateTopology guarantees every referenced database is declared, and the region opens each declared one.
  if (connectionString === undefined) throw new RegionConfigurationError(`database ${value.database} has no connection string in this region`);
  return connectionString;
}

export function functionEnvironment(
  fn: FunctionSpec,
  endpoints: RegionEndpoints,
  databaseConnectionStrings: ReadonlyMap<string, string>,
): Record<string, string> {
  const resolved = Object.fromEntries(
    Object.entries(fn.env).map(([variable, value]) => [variable, resolveEnvValue(value, databaseConnectionStrings)]),
  );
  return { ...sdkEnvironment(endpoints), ...resolved };
}
