import type { StagePlan } from './plan/index.ts';
import type { Network } from './network.ts';

/**
 * The region's Amazon MQ for ActiveMQ broker (active/standby across two AZs) holding the manifest's MQ queues,
 * with a dead-letter queue per queue, and its STOMP credentials in Secrets Manager. Functions get
 * `stomp+ssl://…?credentials=<secret>` and read the password at cold start (shared/adapters/secrets/).
 */
export function createBroker(plan: StagePlan, network: Network) {
  const username = 'rotor';
  const password = new random.RandomPassword('BrokerPassword', { length: 32, special: false });
  const secret = new aws.secretsmanager.Secret('BrokerCredentials', {
    name: plan.broker.credentialsSecretName,
    recoveryWindowInDays: 7,
    replicas: plan.context.peerRegions.map((region) => ({ region })),
  });
  new aws.secretsmanager.SecretVersion('BrokerCredentialsValue', { secretId: secret.id, secretString: $jsonStringify({ username, password: password.result }) });
  const configuration = new aws.mq.Configuration('BrokerConfiguration', {
    name: plan.broker.name,
    engineType: plan.broker.args.engineType,
    engineVersion: plan.broker.args.engineVersion,
    data: plan.broker.configuration,
  });
  const broker = new aws.mq.Broker('Broker', {
    ...plan.broker.args,
    configuration: { id: configuration.id, revision: configuration.latestRevision },
    subnetIds: network.privateSubnets,
    securityGroups: network.securityGroups,
    users: [{ username, password: password.result }],
  });
  // Both instances of the active/standby pair, in one URL: clients try them in turn (shared/adapters/stomp/).
  const stompEndpoints = broker.instances.apply((instances) => {
    const endpoints = instances.flatMap((instance) => instance.endpoints.filter((endpoint) => endpoint.startsWith('stomp+ssl://')));
    if (endpoints.length === 0) throw new Error(`broker ${plan.broker.name} lists no stomp+ssl endpoint`);
    return endpoints;
  });
  const url = $interpolate`${stompEndpoints.apply((endpoints) => endpoints.join(','))}?credentials=${encodeURIComponent(plan.broker.credentialsSecretName)}`;
  const firstHost = stompEndpoints.apply((endpoints) => new URL(endpoints[0]!).hostname);
  return { broker, secret, url, firstHost };
}

export type Broker = ReturnType<typeof createBroker>;
