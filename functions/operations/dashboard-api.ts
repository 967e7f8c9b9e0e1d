import { ArcRoutingControls, parseClusterEndpoints } from '#shared/adapters/arc/arc-routing-controls.ts';
import { CloudWatchRegionObserver } from '#shared/adapters/cloudwatch/cloudwatch-region-observer.ts';
import { LambdaGeneratorLauncher } from '#shared/adapters/lambda/lambda-generator-launcher.ts';
import { SecretsManagerSecretSource } from '#shared/adapters/secrets/secrets-manager-secret-source.ts';
import { StepFunctionsRuns } from '#shared/adapters/stepfunctions/step-functions-runs.ts';
import { requiredEnv } from '#shared/config/environment.ts';
import { awsDashboardBackend } from '#shared/dashboard/aws-backend.ts';
import { functionUrlApi } from '#shared/dashboard/function-url.ts';

/**
 * `dashboard-api`: the operations dashboard's API on AWS, behind CloudFront's `/api/*` (stacks/dashboard.ts).
 * Environment (set by the stack): DASHBOARD_REGIONS (JSON list, the manifest's order), ROUTING_CONTROL_ENDPOINTS,
 * DASHBOARD_STATE_MACHINES (region → name → ARN), DASHBOARD_TABLES (physical names of the replicated tables),
 * DASHBOARD_DATABASE_CLUSTERS (manifest database → cluster identifier), DASHBOARD_FUNCTION_PREFIX (`rotor-prod-`),
 * DASHBOARD_GENERATOR_FUNCTION, DASHBOARD_TOKEN_SECRET and DASHBOARD_ORIGIN.
 */

const json = <T>(name: string) => JSON.parse(requiredEnv(name)) as T;
const regions = json<string[]>('DASHBOARD_REGIONS');
const prefix = requiredEnv('DASHBOARD_FUNCTION_PREFIX');
const clusterEndpoints = parseClusterEndpoints(requiredEnv('ROUTING_CONTROL_ENDPOINTS'));
const secrets = SecretsManagerSecretSource.fromEnvironment();
let token: Promise<string> | undefined;

export const handler = functionUrlApi({
  backend: awsDashboardBackend({
    regions,
    routing: new ArcRoutingControls({ endpoints: clusterEndpoints }),
    clusterEndpoints: clusterEndpoints.map(({ url, region }) => ({ url, region })),
    observer: new CloudWatchRegionObserver({
      regions,
      manifestName: (physical) => (physical.startsWith(prefix) ? physical.slice(prefix.length) : physical),
      tables: json<string[]>('DASHBOARD_TABLES'),
      databaseClusters: json<Record<string, string>>('DASHBOARD_DATABASE_CLUSTERS'),
    }),
    workflows: new StepFunctionsRuns({ stateMachines: json<Record<string, Record<string, string>>>('DASHBOARD_STATE_MACHINES') }),
    generator: new LambdaGeneratorLauncher(requiredEnv('DASHBOARD_GENERATOR_FUNCTION')),
  }),
  // Read once per container; a rotated token reaches new containers (deploy or wait for recycling).
  token: () => (token ??= secrets.getSecretString(requiredEnv('DASHBOARD_TOKEN_SECRET')).catch((error: unknown) => {
    token = undefined;
    throw error;
  })),
  allowedOrigin: requiredEnv('DASHBOARD_ORIGIN'),
});
