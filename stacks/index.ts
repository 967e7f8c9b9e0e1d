import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { topology } from '#shared/topology/index.ts';
import { createAlarms } from './alarms.ts';
import { createBroker } from './broker.ts';
import { createDashboard } from './dashboard.ts';
import { createDatabases } from './databases.ts';
import { createFailureQueues } from './failure-queues.ts';
import { createFixGateway } from './fix-gateway.ts';
import { createFunctions } from './functions.ts';
import { logicalName } from './names.ts';
import { createNetwork } from './network.ts';
import { planStage, stageContext } from './plan/index.ts';
import { createRouting } from './routing.ts';
import { createStreams } from './streams.ts';
import { createTables } from './tables.ts';
import { createWorkflows } from './workflows.ts';

/**
 * One region of Rotor: the plan for this stage (stacks/plan/), then its resources, family by family. The order is
 * only for reading; Pulumi orders creation by the references between resources.
 */
export async function deployStage() {
  const { accountId, partition } = { ...(await aws.getCallerIdentity({})), partition: (await aws.getPartition({})).partition };
  const context = stageContext($app.stage, topology.regions, { account: accountId, partition });
  const plan = planStage(topology, context, { readDefinition: (file) => JSON.parse(readFileSync(join(process.cwd(), file), 'utf8')) });

  const network = createNetwork(plan);
  createStreams(plan);
  createTables(plan);
  createFailureQueues(plan);
  const broker = createBroker(plan, network);
  const databases = createDatabases(plan, network);
  const dns = process.env.ROTOR_DNS_ZONE_ID && process.env.ROTOR_DNS_DOMAIN ? { zoneId: process.env.ROTOR_DNS_ZONE_ID, domain: process.env.ROTOR_DNS_DOMAIN } : undefined;
  const routing = createRouting(plan, broker.firstHost, dns);

  // Every region's broker URL, published in every region, so outbound gateways can send to the other app's region.
  const brokersPath = `/rotor/${context.environment}/brokers/`;
  for (const region of context.regions) {
    new aws.ssm.Parameter(logicalName('BrokerUrl', region), { name: `${brokersPath}${context.region}`, type: 'String', value: broker.url, region });
  }
  const peers = aws.ssm.getParametersByPathOutput({ path: brokersPath });
  const edgeBrokers = $util.all([peers.names, peers.values, broker.url]).apply(([names, values, own]) =>
    JSON.stringify({
      ...Object.fromEntries(names.map((name, index) => [name.slice(brokersPath.length), { url: values[index], queuePrefix: '' }])),
      [context.region]: { url: own, queuePrefix: '' },
    }),
  );

  const functions = createFunctions(
    plan,
    {
      network,
      brokerUrl: broker.url,
      edgeBrokers,
      databaseUrls: new Map(databases.map((database) => [database.manifest, database.url])),
      routingControlEndpoints: routing.endpoints,
    },
    broker,
  );
  const workflows = createWorkflows(plan);
  const alarms = createAlarms(plan);
  const fixGateway = createFixGateway(plan, network, { brokerUrl: broker.url });
  const dashboard = createDashboard(plan, { network, brokerUrl: broker.url, edgeBrokers, databaseUrls: new Map(), routingControlEndpoints: routing.endpoints });

  return {
    region: context.region,
    primary: context.isPrimary,
    broker: broker.url,
    functions: [...functions.values()].length + 1, // and the mapping follower
    stateMachines: workflows.map((machine) => machine.arn),
    alarmTopic: alarms.arn,
    fixGatewayEndpointService: fixGateway.endpointService,
    dashboard: dashboard.url,
    dashboardTokenSecret: dashboard.tokenSecretName,
  };
}
