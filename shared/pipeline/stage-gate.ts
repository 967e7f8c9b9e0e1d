import { RoutingGate } from '#shared/adapters/arc/routing-gate.ts';
import { regionalRoutingControlName } from '#shared/ports/routing-controls.ts';

/**
 * A stage's routing-control gate (DESIGN §4): inbound gateways consume only while their region's `queue` control is
 * On, matching only while `app` is. Reads are cached for about a second and survive the loss of cluster endpoints.
 */

/** The stage's control is Off in this region: the input is left for the region that is active. */
export class RoutingControlOffError extends Error {
  override readonly name = 'RoutingControlOffError';
  readonly transient = true;
  constructor(readonly controlName: string) {
    super(`routing control ${controlName} is Off: this region does not process it now`);
  }
}

/** How long a gated invocation waits for its control before failing, so the mapping redelivers later. */
const GATE_WAIT_MS = 5_000;

export interface StageGate {
  readonly controlName: string;
  waitUntilOn(): Promise<boolean>;
}

/** Undefined when the stage has no control, or the function runs without a routing-control cluster. */
export function stageGate(control: string | undefined, env: NodeJS.ProcessEnv = process.env): StageGate | undefined {
  if (!control) return undefined;
  const routing = RoutingGate.fromEnvironment(env);
  if (!routing) return undefined;
  const controlName = regionalRoutingControlName(control, env.AWS_REGION ?? '');
  return { controlName, waitUntilOn: () => routing.waitUntilOn(controlName, { maxWaitMs: GATE_WAIT_MS }) };
}
