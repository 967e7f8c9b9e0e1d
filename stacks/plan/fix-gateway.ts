import { FIX_TABLES } from '#shared/topology/rotor.ts';
import type { BrokerPlan } from './data.ts';
import { DYNAMODB_ACTIONS, type PlannedValue, type Statement } from './functions.ts';
import { arnOf, physicalName, type StageContext } from './stage.ts';

/**
 * The FIX gateway on AWS: a long-running TCP service, so an ECS Fargate service rather than a function. Two tasks
 * per region, one leader and one hot standby chosen by the DynamoDB lease with its fencing epoch (docs/fix.md);
 * a network load balancer is the one address counterparties connect to. The balancer is internal, in the private
 * subnets: counterparties reach FIX venues over private links, here the balancer's VPC endpoint service
 * (PrivateLink), never the internet. Its TCP health check passes on the standby too (the standby accepts and at
 * once closes connections), so a client sent there reconnects until it reaches the leader; docs/deploy.md.
 * The environment is the one local/fix/gateway-main.ts documents at its top.
 */

export interface FixGatewayPlan {
  readonly manifest: 'fix-gateway';
  readonly name: string;
  /** Leader and hot standby. */
  readonly tasks: 2;
  /** The FIX port: the container listens on it and the balancer forwards it unchanged. */
  readonly port: number;
  readonly cpu: '0.5 vCPU';
  readonly memory: '1 GB';
  /** The image builds on the machine that deploys, most often x86; Graviton would need an emulated build. */
  readonly architecture: 'x86_64';
  readonly image: { readonly context: '.'; readonly dockerfile: string };
  readonly command: readonly string[];
  readonly subnets: 'private';
  readonly loadBalancer: {
    readonly public: false;
    readonly health: { readonly interval: '5 seconds'; readonly timeout: '5 seconds'; readonly healthyThreshold: 2; readonly unhealthyThreshold: 2 };
    /** A deposed leader's connections are dropped at once; the balancer need not drain them. */
    readonly deregistrationDelaySeconds: 0;
  };
  /** Counterparties' CompIDs, parties and passwords, as `FIX_COUNTERPARTIES` JSON; created empty, set by the operator. */
  readonly counterpartiesSecretName: string;
  readonly environment: Readonly<Record<string, Extract<PlannedValue, { literal: string } | { brokerUrl: true }> | { readonly counterpartiesSecret: true }>>;
  readonly permissions: readonly Statement[];
  readonly logRetention: '1 month';
}

export const FIX_GATEWAY_PORT = 9880;

export function fixGatewayPlan(context: StageContext, dependencies: { readonly broker: Pick<BrokerPlan, 'credentialsSecretArnPatterns'> }): FixGatewayPlan {
  const counterpartiesSecretName = `rotor/${context.environment}/fix-counterparties`;
  const tables = Object.values(FIX_TABLES);
  return {
    manifest: 'fix-gateway',
    name: physicalName(context, 'fix-gateway'),
    tasks: 2,
    port: FIX_GATEWAY_PORT,
    cpu: '0.5 vCPU',
    memory: '1 GB',
    architecture: 'x86_64',
    image: { context: '.', dockerfile: 'stacks/fix-gateway.Dockerfile' },
    command: ['node', '--import', 'tsx', 'local/fix/gateway-main.ts'],
    subnets: 'private',
    loadBalancer: {
      public: false,
      health: { interval: '5 seconds', timeout: '5 seconds', healthyThreshold: 2, unhealthyThreshold: 2 },
      deregistrationDelaySeconds: 0,
    },
    counterpartiesSecretName,
    environment: {
      AWS_REGION: { literal: context.region },
      FIX_HOST: { literal: '0.0.0.0' },
      FIX_PORT: { literal: String(FIX_GATEWAY_PORT) },
      FIX_STORE_TABLE: { literal: physicalName(context, FIX_TABLES.store) },
      FIX_SESSIONS_TABLE: { literal: physicalName(context, FIX_TABLES.sessions) },
      FIX_LEASE_TABLE: { literal: physicalName(context, FIX_TABLES.lease) },
      // MQ queues keep their manifest names on the region's broker (stacks/plan/functions.ts).
      FIX_BROKER_URL: { brokerUrl: true },
      FIX_TRADES_QUEUE: { literal: 'tm.trades' },
      FIX_RESPONSES_QUEUE: { literal: 'tm.responses' },
      FIX_COUNTERPARTIES: { counterpartiesSecret: true },
    },
    permissions: [
      { actions: DYNAMODB_ACTIONS, resources: tables.map((table) => arnOf.table(context, table)) },
      // The broker URL names its credentials secret, read at start (shared/adapters/secrets/).
      { actions: ['secretsmanager:GetSecretValue'], resources: [...dependencies.broker.credentialsSecretArnPatterns] },
    ],
    logRetention: '1 month',
  };
}
