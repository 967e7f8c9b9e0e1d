import type { RoutingControlState } from '#shared/ports/routing-controls.ts';
import type { RuleConfig, SafetyRule } from './cluster-configuration.ts';

/**
 * Safety-rule evaluation as ARC does it. An assertion rule looks at its asserted controls as they would be after
 * the update, and only when the update touches one of them. A gating rule looks at its gating controls as they
 * are before the update, and only when the update touches one of its targets: the gate must already be open.
 */

type States = ReadonlyMap<string, RoutingControlState>;

export function ruleConfigHolds(config: RuleConfig, controls: readonly string[], states: States): boolean {
  const onCount = controls.filter((arn) => states.get(arn) === 'On').length;
  const holds =
    config.type === 'ATLEAST' ? onCount >= config.threshold : config.type === 'AND' ? onCount === controls.length : onCount >= 1;
  return config.inverted ? !holds : holds;
}

export interface ProposedUpdate {
  readonly current: States;
  readonly proposed: States;
  /** Controls the request names, whether or not their state differs. */
  readonly touched: ReadonlySet<string>;
  readonly overridden: ReadonlySet<string>;
}

export function violatedSafetyRules(rules: readonly SafetyRule[], update: ProposedUpdate): SafetyRule[] {
  return rules.filter((rule) => {
    if (update.overridden.has(rule.arn)) return false;
    if (rule.kind === 'assertion') {
      return rule.assertedControls.some((arn) => update.touched.has(arn)) && !ruleConfigHolds(rule.ruleConfig, rule.assertedControls, update.proposed);
    }
    return rule.targetControls.some((arn) => update.touched.has(arn)) && !ruleConfigHolds(rule.ruleConfig, rule.gatingControls, update.current);
  });
}
