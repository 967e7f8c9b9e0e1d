import type { AppName, Topology } from '#shared/topology/index.ts';
import { appOfRoutingControl, controlPanelName, defaultSafetyRules, routingControlNames, type SafetyRuleSpec } from '#shared/topology/routing.ts';
import type { StageContext } from './stage.ts';

/**
 * Route 53 Application Recovery Controller, as the twin's ARC emulator has it (shared/topology/routing.ts): one
 * cluster, a control panel per app, the manifest's routing controls (dns, queue and app per region, the generator
 * once) and the safety rules that keep each app served by exactly one region. The primary stage creates them; every
 * stage learns the cluster's endpoints and the controls' ARNs from SSM parameters the primary writes in each region.
 * The `dns` controls back Route 53 health checks, so a failover record sends clients to the active region's broker.
 */

export interface RoutingControlPlan {
  readonly name: string;
  readonly app: AppName;
  readonly kind: 'dns' | 'queue' | 'app' | 'generator';
  /** Undefined for the generator, which exists once. */
  readonly region: string | undefined;
}

export interface RoutingPlan {
  readonly createdHere: boolean;
  readonly clusterName: string;
  readonly controlPanels: readonly { app: AppName; name: string }[];
  readonly controls: readonly RoutingControlPlan[];
  readonly safetyRules: readonly (SafetyRuleSpec & { waitPeriodMs: number })[];
  /** SSM parameters (in every region) through which stages and operators find the cluster. */
  readonly parameters: { readonly clusterEndpoints: string; readonly controlArns: string; readonly regions: readonly string[] };
  /** Health checks this stage creates: its own region's dns controls. */
  readonly healthChecks: readonly { control: string; app: AppName }[];
}

export function routingPlan(topology: Pick<Topology, 'routingControls' | 'regions'>, context: StageContext): RoutingPlan {
  const controls = topology.routingControls.flatMap((spec) => {
    const app = appOfRoutingControl(spec);
    if (!app) throw new Error(`routing control ${spec.name} names no app`);
    return routingControlNames(spec, topology.regions).map((name, index) => ({
      name,
      app,
      kind: spec.kind,
      region: spec.kind === 'generator' ? undefined : topology.regions[index],
    }));
  });
  const apps = [...new Set(controls.map((control) => control.app))];
  return {
    createdHere: context.isPrimary,
    clusterName: `rotor-${context.environment}`,
    controlPanels: apps.map((app) => ({ app, name: `rotor-${context.environment}-${controlPanelName(app)}` })),
    controls,
    // ARC waits this long after a change before it evaluates the rules again, so flapping updates are refused.
    safetyRules: defaultSafetyRules(topology.regions, topology).map((rule) => ({ ...rule, waitPeriodMs: 5_000 })),
    parameters: {
      clusterEndpoints: `/rotor/${context.environment}/arc/cluster-endpoints`,
      controlArns: `/rotor/${context.environment}/arc/routing-control-arns`,
      regions: topology.regions,
    },
    healthChecks: controls.filter((control) => control.kind === 'dns' && control.region === context.region).map(({ name, app }) => ({ control: name, app })),
  };
}
