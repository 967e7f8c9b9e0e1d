import type { AppName, RoutingControlSpec, Topology } from './schema.ts';

/**
 * The routing controls a manifest declares, as they exist in an ARC cluster: one control panel per app; the dns,
 * queue and app controls once per region (`<name>-<region>`), the generator once; and the safety rules that keep
 * each app served by exactly one region. The twin's ARC emulator and the AWS stacks both build the cluster from
 * here, so a rule that holds locally holds on AWS.
 */

export type RuleType = 'ATLEAST' | 'AND' | 'OR';

/** AWS's `RuleConfig`: how many of the rule's controls must be On, and whether the outcome is negated. */
export interface RuleConfig {
  readonly type: RuleType;
  readonly threshold: number;
  readonly inverted: boolean;
}

/** A safety rule as Rotor's operators write it: controls by name; the panel is the one those controls are in. */
export type SafetyRuleSpec =
  | { readonly kind: 'assertion'; readonly name: string; readonly assertedControls: readonly string[]; readonly ruleConfig: RuleConfig }
  | {
      readonly kind: 'gating';
      readonly name: string;
      readonly gatingControls: readonly string[];
      readonly targetControls: readonly string[];
      readonly ruleConfig: RuleConfig;
    };

export const controlPanelName = (app: AppName) => `${app}-control-panel`;

/** `trade-matching-queue` in us-east-1 is `trade-matching-queue-us-east-1` (shared/ports/routing-controls.ts re-exports it). */
export function regionalControlName(controlName: string, region: string): string {
  return `${controlName}-${region}`;
}

/** The cluster's names for one manifest control: one per region, or one for the generator. */
export function routingControlNames(spec: RoutingControlSpec, regions: readonly string[]): string[] {
  return spec.kind === 'generator' ? [spec.name] : regions.map((region) => regionalControlName(spec.name, region));
}

export function appOfRoutingControl(spec: RoutingControlSpec): AppName | undefined {
  if (spec.app) return spec.app;
  if (spec.name.startsWith('trade-matching-')) return 'trade-matching';
  if (spec.name.startsWith('settlement-')) return 'settlement';
  return undefined;
}

/** Rotor's defaults: per app, exactly one region's dns control On, and exactly one region's app control On. */
export function defaultSafetyRules(regions: readonly string[], topology: Pick<Topology, 'routingControls'>): SafetyRuleSpec[] {
  return topology.routingControls
    .filter((spec) => spec.kind === 'dns' || spec.kind === 'app')
    .flatMap((spec): SafetyRuleSpec[] => {
      const assertedControls = routingControlNames(spec, regions);
      return [
        { kind: 'assertion', name: `${spec.name}-at-least-one-on`, assertedControls, ruleConfig: { type: 'ATLEAST', threshold: 1, inverted: false } },
        // ATLEAST has no upper bound; "not (at least two On)" is AWS's own way to say "at most one On".
        { kind: 'assertion', name: `${spec.name}-at-most-one-on`, assertedControls, ruleConfig: { type: 'ATLEAST', threshold: 2, inverted: true } },
      ];
    });
}
