import type { CachedRoutingControls } from '#shared/adapters/arc/cached-routing-controls.ts';
import { regionalRoutingControlName, RoutingControlNotFoundError } from '#shared/ports/routing-controls.ts';
import type { AppName } from '#shared/topology/schema.ts';

/**
 * Edge routing for the clients of an app's inbound queue (the generator, `rotor submit`, the FIX gateway): which
 * region's broker to send to. On AWS a Route 53 failover record does this, its health checks being the ARC
 * `<app>-dns-<region>` routing controls; here the client reads the same controls itself. Reads go through
 * CachedRoutingControls, so when no cluster endpoint answers the client keeps sending where it last knew to
 * (static stability) instead of stopping or guessing, and the answer says it is stale.
 */

export interface ActiveBroker {
  readonly app: AppName;
  readonly region: string;
  /** `stomp://host:port` of the region's broker. */
  readonly brokerUrl: string;
  /** True when the cluster could not be reached and this is the last known routing. */
  readonly stale: boolean;
  /** How old the routing-control state behind this answer is. */
  readonly ageMs: number;
}

/** No region's dns control is On: the app has no serving region (the cluster's safety rules should prevent this). */
export class NoActiveRegionError extends Error {
  override readonly name = 'NoActiveRegionError';
  readonly transient = true;
  constructor(readonly app: AppName) {
    super(`no region's ${app}-dns control is On; ${app} clients have nowhere to send`);
  }
}

/** More than one region's dns control is On: sending would split the app's traffic (a split brain). */
export class SeveralActiveRegionsError extends Error {
  override readonly name = 'SeveralActiveRegionsError';
  readonly transient = false;
  constructor(
    readonly app: AppName,
    readonly regions: readonly string[],
  ) {
    super(`${app}-dns is On in ${regions.join(' and ')}; refusing to pick one`);
  }
}

export interface EdgeRoutingOptions {
  readonly controls: CachedRoutingControls;
  /** Region → `stomp://host:port` of its broker; only these regions are candidates. */
  readonly brokers: Readonly<Record<string, string>>;
}

export class EdgeRouting {
  constructor(private readonly options: EdgeRoutingOptions) {}

  /** The region whose `<app>-dns` control is On, and its broker; one cluster request for every region. */
  async resolveActiveBroker(app: AppName): Promise<ActiveBroker> {
    const states = await this.options.controls.list();
    const active: { region: string; stale: boolean; ageMs: number }[] = [];
    for (const region of Object.keys(this.options.brokers)) {
      const name = regionalRoutingControlName(`${app}-dns`, region);
      const observed = states.get(name);
      if (!observed) throw new RoutingControlNotFoundError(name);
      if (observed.state === 'On') active.push({ region, stale: observed.stale, ageMs: observed.ageMs });
    }
    if (active.length === 0) throw new NoActiveRegionError(app);
    if (active.length > 1) throw new SeveralActiveRegionsError(app, active.map((entry) => entry.region));
    const [{ region, stale, ageMs }] = active as [(typeof active)[number]];
    return { app, region, brokerUrl: this.options.brokers[region]!, stale, ageMs };
  }
}

/** One-off resolution, for a client that does not keep an EdgeRouting around. */
export function resolveActiveBroker(app: AppName, options: EdgeRoutingOptions): Promise<ActiveBroker> {
  return new EdgeRouting(options).resolveActiveBroker(app);
}
