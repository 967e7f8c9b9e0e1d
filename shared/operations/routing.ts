import { z } from 'zod';
import { regionalRoutingControlName, type RoutingControls, type RoutingControlState } from '#shared/ports/routing-controls.ts';
import { AppName } from '#shared/topology/schema.ts';

/**
 * Reading and flipping an app's routing controls (`<app>-<kind>-<region>`, kind dns | queue | app) for the rotation
 * and disaster-recovery workflows.
 *
 * - describe: every region that has a control of the app in the cluster, each control's state, and the active
 *   region: the one region whose dns control is On (null when none is, or more than one).
 * - set: all changes in one `updateMany`, which the cluster applies together or not at all. Its safety rules keep
 *   exactly one dns and one app control On per app, so moving an app is one call that turns the new region On and
 *   the old one Off; a call that would break a rule changes nothing and fails with `SafetyRuleViolationError`.
 *   Answers the describe shape as it is afterwards.
 */

export const ROUTING_KINDS = ['dns', 'queue', 'app'] as const;
export type RoutingKind = (typeof ROUTING_KINDS)[number];

const RoutingChange = z.strictObject({
  kind: z.enum(ROUTING_KINDS),
  region: z.string().min(1),
  state: z.enum(['On', 'Off']),
});

export const RoutingRequest = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('describe'), app: AppName }),
  z.strictObject({
    action: z.literal('set'),
    app: AppName,
    changes: z
      .array(RoutingChange)
      .min(1)
      .refine((changes) => new Set(changes.map((change) => `${change.kind}/${change.region}`)).size === changes.length, {
        message: 'each control may be changed once per call',
      }),
  }),
]);
export type RoutingRequest = z.infer<typeof RoutingRequest>;

export interface AppRouting {
  readonly app: AppName;
  /** The one region whose dns control is On; null when none or several are. */
  readonly activeRegion: string | null;
  readonly regions: string[];
  readonly controls: Record<RoutingKind, Record<string, RoutingControlState>>;
}

/** The cluster has no dns, queue or app control for the app: the workflow names an app the cluster does not route. */
export class AppNotRoutedError extends Error {
  override readonly name = 'AppNotRoutedError';
  readonly transient = false;
}

export async function routing(request: RoutingRequest, { controls }: { controls: RoutingControls }): Promise<AppRouting> {
  if (request.action === 'set') {
    await controls.updateMany(
      request.changes.map((change) => ({ name: regionalRoutingControlName(`${request.app}-${change.kind}`, change.region), state: change.state })),
    );
  }
  return describeRouting(request.app, controls);
}

export async function describeRouting(app: AppName, controls: RoutingControls): Promise<AppRouting> {
  const pattern = new RegExp(`^${app}-(${ROUTING_KINDS.join('|')})-(.+)$`);
  const states: AppRouting['controls'] = { dns: {}, queue: {}, app: {} };
  const regions = new Set<string>();
  for (const control of await controls.list()) {
    const match = pattern.exec(control.name);
    if (!match) continue;
    const [, kind, region] = match as unknown as [string, RoutingKind, string];
    states[kind][region] = control.state;
    regions.add(region);
  }
  if (regions.size === 0) throw new AppNotRoutedError(`the routing-control cluster has no dns, queue or app control for ${app}`);
  const sorted = [...regions].sort();
  const dnsOn = sorted.filter((region) => states.dns[region] === 'On');
  const sortedStates = (byRegion: Record<string, RoutingControlState>) =>
    Object.fromEntries(sorted.filter((region) => byRegion[region] !== undefined).map((region) => [region, byRegion[region]!]));
  return {
    app,
    activeRegion: dnsOn.length === 1 ? dnsOn[0]! : null,
    regions: sorted,
    controls: { dns: sortedStates(states.dns), queue: sortedStates(states.queue), app: sortedStates(states.app) },
  };
}
