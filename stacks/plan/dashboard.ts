import type { DatabasePlan, TablePlan } from './data.ts';
import { ROUTING_LIST_ACTIONS, ROUTING_READ_ACTIONS, ROUTING_WRITE_ACTIONS, routingControlsArn, type FunctionPlan } from './functions.ts';
import { arnOf, physicalName, type StageContext } from './stage.ts';
import type { StateMachinePlan } from './workflows.ts';

/**
 * The operations dashboard on AWS, in every stage so that each region serves its own: the UI (dashboard/dist) as a
 * static site and its API (functions/operations/dashboard-api.ts) under `/api`, both behind one CloudFront
 * distribution, so the browser talks to one origin. The API reads CloudWatch, Lambda's mappings, ARC and Step
 * Functions in every region, flips routing controls through the cluster (its safety rules apply) and starts the
 * workflows; it writes no store. Its bearer token is a random secret the stage creates.
 */

/** CloudWatch and Lambda reads that name no resource, granted on `*`: the dashboard only reads with them. */
export const DASHBOARD_UNSCOPABLE_ACTIONS = ['cloudwatch:GetMetricData', 'cloudwatch:ListMetrics', 'lambda:ListEventSourceMappings'] as const;
const STATE_MACHINE_ACTIONS = ['states:DescribeStateMachine', 'states:ListExecutions', 'states:StartExecution'] as const;
/** The manifest's load generator, started by the dashboard's generator button. */
const GENERATOR_FUNCTION_NAME = 'generator';
const EXECUTION_ACTIONS = ['states:DescribeExecution', 'states:GetExecutionHistory'] as const;

export interface DashboardPlan extends FunctionPlan {
  readonly site: { readonly buildCommand: 'npm run build:dashboard'; readonly output: 'dashboard/dist' };
  /** The API's path on the distribution. */
  readonly apiPath: '/api';
  /** 32 random bytes, hex, made by the stage; the operator reads it to open the dashboard. */
  readonly tokenSecretName: string;
}

export function dashboardPlan(
  context: StageContext,
  dependencies: { readonly tables: readonly Pick<TablePlan, 'manifest' | 'purpose'>[]; readonly databases: readonly Pick<DatabasePlan, 'manifest' | 'clusterIdentifier'>[]; readonly stateMachines: readonly Pick<StateMachinePlan, 'manifest'>[] },
): DashboardPlan {
  const tokenSecretName = `rotor/${context.environment}/dashboard-token`;
  const replicated = dependencies.tables.filter((table) => table.purpose === 'safe-store').map((table) => physicalName(context, table.manifest));
  const stateMachines = Object.fromEntries(
    context.regions.map((region) => [region, Object.fromEntries(dependencies.stateMachines.map((machine) => [machine.manifest, arnOf.stateMachine(context, machine.manifest, region)]))]),
  );
  const executions = context.regions.flatMap((region) =>
    dependencies.stateMachines.map((machine) => arnOf.stateMachine(context, machine.manifest, region).replace(':stateMachine:', ':execution:') + ':*'),
  );
  return {
    manifest: 'dashboard-api',
    name: physicalName(context, 'dashboard-api'),
    arn: arnOf.function(context, 'dashboard-api'),
    handler: 'functions/operations/dashboard-api.handler',
    timeoutSeconds: 20,
    memorySizeMB: 512,
    environment: {
      DASHBOARD_REGIONS: { literal: JSON.stringify(context.regions) },
      ROUTING_CONTROL_ENDPOINTS: { routingControlEndpoints: true },
      DASHBOARD_STATE_MACHINES: { literal: JSON.stringify(stateMachines) },
      DASHBOARD_TABLES: { literal: JSON.stringify(replicated) },
      DASHBOARD_DATABASE_CLUSTERS: { literal: JSON.stringify(Object.fromEntries(dependencies.databases.map((database) => [database.manifest, database.clusterIdentifier]))) },
      DASHBOARD_FUNCTION_PREFIX: { literal: physicalName(context, '') },
      DASHBOARD_GENERATOR_FUNCTION: { literal: physicalName(context, GENERATOR_FUNCTION_NAME) },
      DASHBOARD_TOKEN_SECRET: { literal: tokenSecretName },
      DASHBOARD_ORIGIN: { dashboardOrigin: true },
    },
    permissions: [
      { actions: DASHBOARD_UNSCOPABLE_ACTIONS, resources: ['*'] },
      { actions: ROUTING_LIST_ACTIONS, resources: ['*'] },
      { actions: [...ROUTING_READ_ACTIONS, ...ROUTING_WRITE_ACTIONS], resources: [routingControlsArn(context)] },
      { actions: STATE_MACHINE_ACTIONS, resources: context.regions.flatMap((region) => dependencies.stateMachines.map((machine) => arnOf.stateMachine(context, machine.manifest, region))) },
      { actions: EXECUTION_ACTIONS, resources: executions },
      { actions: ['lambda:InvokeFunction'], resources: context.regions.map((region) => arnOf.function(context, GENERATOR_FUNCTION_NAME, region)) },
      { actions: ['secretsmanager:GetSecretValue'], resources: [`arn:${context.partition}:secretsmanager:${context.region}:${context.account}:secret:${tokenSecretName}-*`] },
    ],
    inVpc: false,
    site: { buildCommand: 'npm run build:dashboard', output: 'dashboard/dist' },
    apiPath: '/api',
    tokenSecretName,
  };
}
