import type { RoutingControlState } from '#shared/ports/routing-controls.ts';
import { ARC_ACCOUNT_ID, type ClusterConfiguration, type RoutingControlDefinition } from './cluster-configuration.ts';
import { RequestValidationError, ResourceNotFoundError, SafetyRuleConflictError } from './errors.ts';
import { violatedSafetyRules } from './safety-rules.ts';
import type { RoutingControlStateStore } from './state-store.ts';

/**
 * The Route 53 Recovery Cluster data plane over one shared state: the four operations, taking and returning the
 * JSON documents of the AWS API. Every cluster endpoint serves this one object, as AWS's five endpoints serve one
 * replicated state. Updates run one at a time, so safety rules are always judged against the latest state.
 */

const ARN_PATTERN = /^[A-Za-z0-9:./_-]{1,256}$/;
const DEFAULT_PAGE_SIZE = 500;
const MAX_PAGE_SIZE = 1000;

type Json = Record<string, unknown>;

export const ROUTING_CONTROL_OPERATIONS = ['GetRoutingControlState', 'ListRoutingControls', 'UpdateRoutingControlState', 'UpdateRoutingControlStates'] as const;
export type RoutingControlOperation = (typeof ROUTING_CONTROL_OPERATIONS)[number];

export class RoutingControlCluster {
  private readonly controlsByArn: ReadonlyMap<string, RoutingControlDefinition>;
  private readonly orderedControls: readonly RoutingControlDefinition[];
  private readonly safetyRuleArns: ReadonlySet<string>;
  private updates: Promise<unknown> = Promise.resolve();

  constructor(
    readonly configuration: ClusterConfiguration,
    private readonly store: RoutingControlStateStore,
  ) {
    this.controlsByArn = new Map(configuration.routingControls.map((control) => [control.arn, control]));
    this.orderedControls = [...configuration.routingControls].sort((a, b) => a.arn.localeCompare(b.arn));
    this.safetyRuleArns = new Set(configuration.safetyRules.map((rule) => rule.arn));
  }

  async invoke(operation: RoutingControlOperation, input: Json): Promise<Json> {
    switch (operation) {
      case 'GetRoutingControlState':
        return this.getRoutingControlState(input);
      case 'ListRoutingControls':
        return this.listRoutingControls(input);
      case 'UpdateRoutingControlState':
        return this.updateStates([{ RoutingControlArn: input.RoutingControlArn, RoutingControlState: input.RoutingControlState }], input.SafetyRulesToOverride);
      case 'UpdateRoutingControlStates': {
        const entries = input.UpdateRoutingControlStateEntries;
        if (!Array.isArray(entries) || entries.length === 0) {
          throw fieldError('UpdateRoutingControlStateEntries', 'must be a non-empty list of routing control state entries');
        }
        return this.updateStates(entries as Json[], input.SafetyRulesToOverride);
      }
    }
  }

  /** Resolves once every update accepted so far is durable or has failed. */
  async settled(): Promise<void> {
    await this.updates;
  }

  /** The state of every control by name, for the twin's own status pages. */
  states(): Record<string, RoutingControlState> {
    const current = this.store.current();
    return Object.fromEntries(this.configuration.routingControls.map((control) => [control.name, current.get(control.arn) ?? control.initialState]));
  }

  private getRoutingControlState(input: Json): Json {
    const control = this.knownControl(input.RoutingControlArn, 'RoutingControlArn');
    return { RoutingControlArn: control.arn, RoutingControlName: control.name, RoutingControlState: this.stateOf(control) };
  }

  private listRoutingControls(input: Json): Json {
    const { ControlPanelArn, NextToken, MaxResults } = input;
    if (ControlPanelArn !== undefined) {
      requireArn(ControlPanelArn, 'ControlPanelArn');
      if (!this.configuration.controlPanels.some((panel) => panel.arn === ControlPanelArn)) {
        throw new ResourceNotFoundError(String(ControlPanelArn), 'ControlPanel');
      }
    }
    if (MaxResults !== undefined && (!Number.isInteger(MaxResults) || (MaxResults as number) < 1 || (MaxResults as number) > MAX_PAGE_SIZE)) {
      throw fieldError('MaxResults', `must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    }
    const after = NextToken === undefined ? undefined : decodeNextToken(NextToken);
    const matching = this.orderedControls.filter(
      (control) => (ControlPanelArn === undefined || control.controlPanel.arn === ControlPanelArn) && (after === undefined || control.arn > after),
    );
    const pageSize = (MaxResults as number | undefined) ?? DEFAULT_PAGE_SIZE;
    const page = matching.slice(0, pageSize);
    const last = page.at(-1);
    return {
      RoutingControls: page.map((control) => ({
        ControlPanelArn: control.controlPanel.arn,
        ControlPanelName: control.controlPanel.name,
        RoutingControlArn: control.arn,
        RoutingControlName: control.name,
        RoutingControlState: this.stateOf(control),
        Owner: ARC_ACCOUNT_ID,
      })),
      ...(matching.length > pageSize && last ? { NextToken: encodeNextToken(last.arn) } : {}),
    };
  }

  private updateStates(entries: readonly Json[], overrides: unknown): Promise<Json> {
    // Validation happens up front so a malformed batch never waits behind, or blocks, other updates.
    const changes = entries.map((entry, index) => {
      if (typeof entry !== 'object' || entry === null) throw fieldError(`UpdateRoutingControlStateEntries.${index}`, 'must be an object');
      return { control: this.knownControl(entry.RoutingControlArn, 'RoutingControlArn'), state: requireState(entry.RoutingControlState) };
    });
    const overridden = new Set(requireArnList(overrides, 'SafetyRulesToOverride'));
    const update = this.updates.then(async () => {
      const current = this.store.current();
      const proposed = new Map(current);
      for (const { control, state } of changes) proposed.set(control.arn, state);
      const violated = violatedSafetyRules(this.configuration.safetyRules, {
        current,
        proposed,
        touched: new Set(changes.map(({ control }) => control.arn)),
        overridden: new Set([...overridden].filter((arn) => this.safetyRuleArns.has(arn))),
      });
      if (violated.length > 0) throw new SafetyRuleConflictError(violated.map(({ name, arn }) => ({ name, arn })));
      await this.store.commit(proposed);
      return {};
    });
    this.updates = update.catch(() => undefined);
    return update;
  }

  private knownControl(arn: unknown, field: string): RoutingControlDefinition {
    requireArn(arn, field);
    const control = this.controlsByArn.get(arn);
    if (!control) throw new ResourceNotFoundError(arn, 'RoutingControl');
    return control;
  }

  private stateOf(control: RoutingControlDefinition): RoutingControlState {
    return this.store.current().get(control.arn) ?? control.initialState;
  }
}

function fieldError(name: string, message: string): RequestValidationError {
  return new RequestValidationError(`${name} ${message}`, 'fieldValidationFailed', [{ name, message }]);
}

function requireArn(value: unknown, field: string): asserts value is string {
  if (typeof value !== 'string' || !ARN_PATTERN.test(value)) throw fieldError(field, 'must be an ARN of 1 to 256 characters');
}

function requireArnList(value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw fieldError(field, 'must be a list of ARNs');
  value.forEach((arn, index) => requireArn(arn, `${field}.${index}`));
  return value as string[];
}

function requireState(value: unknown): RoutingControlState {
  if (value !== 'On' && value !== 'Off') throw fieldError('RoutingControlState', `must be On or Off, not ${JSON.stringify(value)}`);
  return value;
}

function encodeNextToken(afterArn: string): string {
  return Buffer.from(JSON.stringify({ after: afterArn })).toString('base64url');
}

function decodeNextToken(token: unknown): string {
  try {
    const { after } = JSON.parse(Buffer.from(String(token), 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof after === 'string') return after;
  } catch {
    // Falls through to the validation error: a token the cluster did not issue.
  }
  throw fieldError('NextToken', 'is not a token this cluster issued');
}
