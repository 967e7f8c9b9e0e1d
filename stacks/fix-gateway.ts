import type { StagePlan } from './plan/index.ts';
import type { Network } from './network.ts';
import { logicalName } from './names.ts';

/**
 * The FIX gateway (stacks/plan/fix-gateway.ts) as an ECS Fargate service of two tasks in the private subnets,
 * behind an internal network load balancer offered to counterparties as a VPC endpoint service (PrivateLink,
 * each connection accepted by the operator). The image is built from the repository at deploy time
 * (stacks/fix-gateway.Dockerfile). The counterparties' passwords live in a secret the operator fills; ECS passes it
 * to the tasks as FIX_COUNTERPARTIES.
 */
export function createFixGateway(
  plan: StagePlan,
  network: Network,
  inputs: { readonly brokerUrl: $util.Output<string> },
) {
  const gateway = plan.fixGateway;
  const counterparties = new aws.secretsmanager.Secret('FixCounterparties', { name: gateway.counterpartiesSecretName, recoveryWindowInDays: 7 });
  const cluster = new sst.aws.Cluster('FixGatewayCluster', {
    vpc: { id: network.vpcId, securityGroups: network.securityGroups, containerSubnets: network.privateSubnets, loadBalancerSubnets: network.privateSubnets },
  });

  const environment: Record<string, $util.Input<string>> = {};
  for (const [variable, value] of Object.entries(gateway.environment)) {
    if ('literal' in value) environment[variable] = value.literal;
    else if ('brokerUrl' in value) environment[variable] = inputs.brokerUrl;
    else if (!('counterpartiesSecret' in value)) throw new Error(`the FIX gateway's ${variable} has a value the stack cannot resolve`);
  }
  const secretVariables = Object.entries(gateway.environment).filter(([, value]) => 'counterpartiesSecret' in value).map(([variable]) => variable);

  const listen = `${gateway.port}/tcp` as const;
  const service = new sst.aws.Service(logicalName('FixGateway'), {
    cluster,
    image: { ...gateway.image },
    command: [...gateway.command],
    cpu: gateway.cpu,
    memory: gateway.memory,
    architecture: gateway.architecture,
    scaling: { min: gateway.tasks, max: gateway.tasks },
    environment,
    ssm: Object.fromEntries(secretVariables.map((variable) => [variable, counterparties.arn])),
    permissions: gateway.permissions.map((statement) => ({ actions: [...statement.actions], resources: [...statement.resources] })),
    logging: { retention: gateway.logRetention },
    loadBalancer: {
      public: gateway.loadBalancer.public,
      rules: [{ listen, forward: listen }],
      health: { [listen]: { ...gateway.loadBalancer.health } },
    },
    transform: {
      target: (args) => {
        args.deregistrationDelay = gateway.loadBalancer.deregistrationDelaySeconds;
      },
    },
  });

  const endpointService = new aws.ec2.VpcEndpointService('FixGatewayEndpointService', {
    acceptanceRequired: true,
    networkLoadBalancerArns: [service.nodes.loadBalancer.arn],
    tags: { Name: gateway.name },
  });
  return { service, endpointService: endpointService.serviceName, counterpartiesSecret: counterparties.name };
}
