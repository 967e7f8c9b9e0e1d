import type { StagePlan } from './plan/index.ts';
import { logicalName } from './names.ts';

export interface DnsZone {
  readonly zoneId: string;
  /** Clients of app `tm` send to `tm-mq.<domain>`, which follows the app's dns routing controls. */
  readonly domain: string;
}

/**
 * Route 53 ARC. The primary stage creates the cluster, a control panel per app, the routing controls and the
 * safety rules, and publishes the cluster's endpoints and the controls' ARNs as SSM parameters in every region;
 * other stages read them there. Each stage backs its region's dns controls with health checks and, given a hosted
 * zone, a failover record per app pointing at its broker.
 */
export function createRouting(plan: StagePlan, brokerHost: $util.Output<string>, dns: DnsZone | undefined) {
  const routing = plan.routing;
  const published = routing.createdHere ? createCluster(plan) : undefined;
  const endpoints = published?.endpoints ?? aws.ssm.getParameterOutput({ name: routing.parameters.clusterEndpoints }).value;
  const controlArns = published?.controlArns ?? aws.ssm.getParameterOutput({ name: routing.parameters.controlArns }).value.apply((json) => JSON.parse(json) as Record<string, string>);

  for (const check of routing.healthChecks) {
    const healthCheck = new aws.route53.HealthCheck(logicalName('HealthCheck', check.control), {
      type: 'RECOVERY_CONTROL',
      routingControlArn: controlArns.apply((arns) => {
        const arn = arns[check.control];
        if (!arn) throw new Error(`routing control ${check.control} is not published in ${routing.parameters.controlArns}; deploy the primary stage first`);
        return arn;
      }),
      tags: { Name: check.control },
    });
    if (!dns) continue;
    const prefix = check.app === 'trade-matching' ? 'tm' : 'sm';
    new aws.route53.Record(logicalName('BrokerRecord', check.app), {
      zoneId: dns.zoneId,
      name: `${prefix}-mq.${dns.domain}`,
      type: 'CNAME',
      ttl: 30,
      records: [brokerHost],
      setIdentifier: plan.context.region,
      failoverRoutingPolicies: [{ type: plan.context.isPrimary ? 'PRIMARY' : 'SECONDARY' }],
      healthCheckId: healthCheck.id,
    });
  }
  return { endpoints, controlArns };
}

function createCluster(plan: StagePlan) {
  const routing = plan.routing;
  const cluster = new aws.route53recoverycontrol.Cluster('RoutingCluster', { name: routing.clusterName });
  const panels = new Map(
    routing.controlPanels.map((panel) => [panel.app, new aws.route53recoverycontrol.ControlPanel(logicalName('ControlPanel', panel.app), { name: panel.name, clusterArn: cluster.arn })]),
  );
  const controls = new Map(
    routing.controls.map((control) => [
      control.name,
      {
        app: control.app,
        resource: new aws.route53recoverycontrol.RoutingControl(logicalName('RoutingControl', control.name), {
          name: control.name,
          clusterArn: cluster.arn,
          controlPanelArn: panels.get(control.app)!.arn,
        }),
      },
    ]),
  );
  const arnsOf = (names: readonly string[]) => names.map((name) => controls.get(name)!.resource.arn);
  for (const rule of routing.safetyRules) {
    const first = rule.kind === 'assertion' ? rule.assertedControls[0] : rule.gatingControls[0];
    new aws.route53recoverycontrol.SafetyRule(logicalName('SafetyRule', rule.name), {
      name: rule.name,
      controlPanelArn: panels.get(controls.get(first!)!.app)!.arn,
      waitPeriodMs: rule.waitPeriodMs,
      ruleConfig: { ...rule.ruleConfig },
      ...(rule.kind === 'assertion'
        ? { assertedControls: arnsOf(rule.assertedControls) }
        : { gatingControls: arnsOf(rule.gatingControls), targetControls: arnsOf(rule.targetControls) }),
    });
  }

  // The shape shared/adapters/arc/arc-routing-controls.ts parses: DescribeCluster's ClusterEndpoints.
  const endpoints = cluster.clusterEndpoints.apply((list) => JSON.stringify(list.map(({ endpoint, region }) => ({ Endpoint: endpoint, Region: region }))));
  const controlArns = $util
    .all([...controls].map(([name, control]) => control.resource.arn.apply((arn) => [name, arn] as const)))
    .apply((entries) => Object.fromEntries(entries));
  for (const region of routing.parameters.regions) {
    new aws.ssm.Parameter(logicalName('ArcEndpoints', region), { name: routing.parameters.clusterEndpoints, type: 'String', value: endpoints, region });
    new aws.ssm.Parameter(logicalName('ArcControls', region), { name: routing.parameters.controlArns, type: 'String', value: controlArns.apply((arns) => JSON.stringify(arns)), region });
  }
  return { endpoints, controlArns };
}
