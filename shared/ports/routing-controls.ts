/**
 * The routing-control port: how Rotor's functions and workflows read and flip the global state flags that decide
 * which region serves an app (Route 53 ARC routing controls, DESIGN §4).
 *
 * Controls are addressed by name, as operators know them: `<app>-<kind>-<region>` for the dns, queue and app
 * controls, `trade-matching-generator` for the generator. Readers that poll a control must survive the cluster
 * being unreachable by keeping their last known state (static stability), so that case has its own transient error.
 */

export type RoutingControlState = 'On' | 'Off';

export interface RoutingControlStatus {
  readonly name: string;
  readonly arn: string;
  readonly controlPanelName: string;
  readonly state: RoutingControlState;
}

export interface RoutingControlChange {
  readonly name: string;
  readonly state: RoutingControlState;
}

export interface UpdateOptions {
  /** ARNs of safety rules to bypass, as AWS's `SafetyRulesToOverride`; for break-glass recovery only. */
  readonly safetyRulesToOverride?: readonly string[];
}

export interface RoutingControls {
  getState(name: string): Promise<RoutingControlState>;
  list(): Promise<RoutingControlStatus[]>;
  update(name: string, state: RoutingControlState, options?: UpdateOptions): Promise<void>;
  /** All changes apply together or none does. */
  updateMany(changes: readonly RoutingControlChange[], options?: UpdateOptions): Promise<void>;
}

/** The per-region control's name, e.g. `trade-matching-dns` in `us-east-1` → `trade-matching-dns-us-east-1`. */
export { regionalControlName as regionalRoutingControlName } from '#shared/topology/routing.ts';

/**
 * No cluster endpoint answered. Transient: callers keep acting on the last state they saw rather than guessing,
 * and try again later.
 */
export class RoutingControlsUnreachableError extends Error {
  override readonly name = 'RoutingControlsUnreachableError';
  readonly transient = true;
  constructor(
    readonly endpointFailures: readonly string[],
    options?: ErrorOptions,
  ) {
    super(`no routing-control cluster endpoint answered: ${endpointFailures.join('; ')}`, options);
  }
}

/** The named control does not exist in the cluster. */
export class RoutingControlNotFoundError extends Error {
  override readonly name = 'RoutingControlNotFoundError';
  readonly transient = false;
  constructor(
    readonly controlName: string,
    options?: ErrorOptions,
  ) {
    super(`routing control ${controlName} does not exist`, options);
  }
}

/** The cluster refused the change because it would break a safety rule; nothing changed. */
export class SafetyRuleViolationError extends Error {
  override readonly name = 'SafetyRuleViolationError';
  readonly transient = false;
}

/** The cluster rejected the request as malformed (an unknown state, a bad ARN). */
export class RoutingControlRequestError extends Error {
  override readonly name = 'RoutingControlRequestError';
  readonly transient = false;
}
