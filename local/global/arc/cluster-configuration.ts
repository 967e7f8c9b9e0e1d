import { createHash } from 'node:crypto';
import type { RoutingControlState } from '#shared/ports/routing-controls.ts';
import { topology as rotorManifest, type AppName, type Topology } from '#shared/topology/index.ts';
import { appOfRoutingControl, controlPanelName, defaultSafetyRules as manifestSafetyRules, routingControlNames, type RuleConfig, type SafetyRuleSpec } from '#shared/topology/routing.ts';
import { ArcConfigurationError } from './errors.ts';

/**
 * What the ARC control plane would hold for Rotor: one control panel per app, the manifest's routing controls in
 * it (dns, queue and app per region, the generator once), and the safety rules that keep each app served by
 * exactly one region. ARNs are shaped like AWS's and derived from names, so they stay the same across restarts.
 */

export const ARC_ACCOUNT_ID = '000000000000';
const ARN_PREFIX = `arn:aws:route53-recovery-control::${ARC_ACCOUNT_ID}:controlpanel`;

export type { RuleConfig, RuleType, SafetyRuleSpec } from '#shared/topology/routing.ts';
export { controlPanelName } from '#shared/topology/routing.ts';

export interface ControlPanel {
  readonly name: string;
  readonly arn: string;
}

export interface RoutingControlDefinition {
  readonly name: string;
  readonly arn: string;
  readonly controlPanel: ControlPanel;
  readonly initialState: RoutingControlState;
}

/** The asserted controls, as they would be after an update touching any of them, must satisfy the config. */
export interface AssertionRule {
  readonly kind: 'assertion';
  readonly name: string;
  readonly arn: string;
  readonly controlPanelArn: string;
  readonly assertedControls: readonly string[];
  readonly ruleConfig: RuleConfig;
}

/** The target controls may change only while the gating controls already satisfy the config. */
export interface GatingRule {
  readonly kind: 'gating';
  readonly name: string;
  readonly arn: string;
  readonly controlPanelArn: string;
  readonly gatingControls: readonly string[];
  readonly targetControls: readonly string[];
  readonly ruleConfig: RuleConfig;
}

export type SafetyRule = AssertionRule | GatingRule;

export interface ClusterConfiguration {
  readonly controlPanels: readonly ControlPanel[];
  readonly routingControls: readonly RoutingControlDefinition[];
  readonly safetyRules: readonly SafetyRule[];
}

export interface ClusterConfigurationOptions {
  readonly regions: readonly string[];
  /** The region whose dns, queue and app controls start On; the first region unless given. */
  readonly activeRegion?: string;
  /** Replaces Rotor's default rules (at least one and at most one dns and app control On per app). */
  readonly safetyRules?: readonly SafetyRuleSpec[];
  readonly topology?: Topology;
  /** The generator control's state in a new cluster (default Off). */
  readonly generatorInitially?: 'On' | 'Off';
}

const hexId = (kind: string, name: string, length: number) =>
  createHash('sha256').update(`rotor-arc:${kind}:${name}`).digest('hex').slice(0, length);

function controlPanelFor(app: AppName): ControlPanel {
  const name = controlPanelName(app);
  return { name, arn: `${ARN_PREFIX}/${hexId('controlpanel', name, 32)}` };
}

/** Rotor's defaults: per app, exactly one region's dns control On, and exactly one region's app control On. */
export function defaultSafetyRules(regions: readonly string[], topology: Topology = rotorManifest): SafetyRuleSpec[] {
  return manifestSafetyRules(regions, topology);
}

export function buildClusterConfiguration(options: ClusterConfigurationOptions): ClusterConfiguration {
  const topology = options.topology ?? rotorManifest;
  const { regions } = options;
  if (regions.length === 0) throw new ArcConfigurationError('the ARC emulator needs at least one region');
  if (new Set(regions).size !== regions.length) throw new ArcConfigurationError(`regions repeat: ${regions.join(', ')}`);
  const activeRegion = options.activeRegion ?? regions[0];
  if (!activeRegion || !regions.includes(activeRegion)) {
    throw new ArcConfigurationError(`active region ${String(options.activeRegion)} is not one of ${regions.join(', ')}`);
  }

  const panels = new Map<AppName, ControlPanel>();
  const routingControls: RoutingControlDefinition[] = [];
  for (const spec of topology.routingControls) {
    const app = appOfRoutingControl(spec);
    if (!app) throw new ArcConfigurationError(`routing control ${spec.name} names no app`);
    const controlPanel = panels.get(app) ?? controlPanelFor(app);
    panels.set(app, controlPanel);
    for (const name of routingControlNames(spec, regions)) {
      const initialState =
        spec.kind === 'generator' ? (options.generatorInitially ?? 'Off') : name.endsWith(`-${activeRegion}`) ? 'On' : 'Off';
      routingControls.push({ name, arn: `${controlPanel.arn}/routingcontrol/${hexId('routingcontrol', name, 16)}`, controlPanel, initialState });
    }
  }

  const byName = new Map(routingControls.map((control) => [control.name, control]));
  const safetyRules = (options.safetyRules ?? defaultSafetyRules(regions, topology)).map((spec) => resolveSafetyRule(spec, byName));
  const ruleNames = safetyRules.map((rule) => rule.name);
  const repeated = ruleNames.find((name, index) => ruleNames.indexOf(name) !== index);
  if (repeated) throw new ArcConfigurationError(`safety rule ${repeated} is defined twice`);
  return { controlPanels: [...panels.values()], routingControls, safetyRules };
}

function resolveSafetyRule(spec: SafetyRuleSpec, controls: ReadonlyMap<string, RoutingControlDefinition>): SafetyRule {
  const arnsOf = (names: readonly string[], role: string) => {
    if (names.length === 0) throw new ArcConfigurationError(`safety rule ${spec.name} has no ${role} controls`);
    return names.map((name) => {
      const control = controls.get(name);
      if (!control) throw new ArcConfigurationError(`safety rule ${spec.name} names unknown routing control ${name}`);
      return control;
    });
  };
  const members = spec.kind === 'assertion' ? arnsOf(spec.assertedControls, 'asserted') : [...arnsOf(spec.gatingControls, 'gating'), ...arnsOf(spec.targetControls, 'target')];
  const panelArns = new Set(members.map((control) => control.controlPanel.arn));
  const [controlPanelArn] = panelArns;
  // AWS scopes a safety rule to one control panel.
  if (panelArns.size !== 1 || !controlPanelArn) throw new ArcConfigurationError(`safety rule ${spec.name} spans several control panels`);
  const { ruleConfig } = spec;
  if (!Number.isInteger(ruleConfig.threshold) || ruleConfig.threshold < 0) {
    throw new ArcConfigurationError(`safety rule ${spec.name} has threshold ${ruleConfig.threshold}; it must be a non-negative integer`);
  }
  const arn = `${controlPanelArn}/safetyrule/${hexId('safetyrule', spec.name, 16)}`;
  const arnList = (names: readonly string[]) => names.map((name) => controls.get(name)!.arn);
  return spec.kind === 'assertion'
    ? { kind: 'assertion', name: spec.name, arn, controlPanelArn, assertedControls: arnList(spec.assertedControls), ruleConfig }
    : {
        kind: 'gating',
        name: spec.name,
        arn,
        controlPanelArn,
        gatingControls: arnList(spec.gatingControls),
        targetControls: arnList(spec.targetControls),
        ruleConfig,
      };
}
