import { RoutingControlsUnreachableError, type RoutingControls, type RoutingControlState } from '#shared/ports/routing-controls.ts';

/**
 * Static stability for readers of routing controls: while the cluster answers, reads are live; when no endpoint
 * does, a reader gets the state it saw last, marked stale and with its age, and keeps doing what it was doing
 * instead of stopping or guessing. Only a control never seen at all makes the unreachable error surface.
 */

export interface ObservedRoutingControlState {
  readonly state: RoutingControlState;
  /** When the cluster last reported this state (epoch milliseconds). */
  readonly observedAt: number;
  readonly ageMs: number;
  /** True when the cluster could not be reached and this is the last known state. */
  readonly stale: boolean;
  /** Why the live read failed, when stale. */
  readonly unreachable?: RoutingControlsUnreachableError;
}

export class CachedRoutingControls {
  private readonly lastSeen = new Map<string, { state: RoutingControlState; observedAt: number }>();

  constructor(
    private readonly controls: RoutingControls,
    private readonly now: () => number = Date.now,
  ) {}

  async getState(name: string): Promise<ObservedRoutingControlState> {
    try {
      const state = await this.controls.getState(name);
      const observedAt = this.now();
      this.lastSeen.set(name, { state, observedAt });
      return { state, observedAt, ageMs: 0, stale: false };
    } catch (error) {
      const known = this.lastSeen.get(name);
      if (!(error instanceof RoutingControlsUnreachableError) || !known) throw error;
      return { ...known, ageMs: this.now() - known.observedAt, stale: true, unreachable: error };
    }
  }

  /** Every control's state; on an unreachable cluster, the last known states of the controls seen so far. */
  async list(): Promise<Map<string, ObservedRoutingControlState>> {
    try {
      const controls = await this.controls.list();
      const observedAt = this.now();
      for (const control of controls) this.lastSeen.set(control.name, { state: control.state, observedAt });
      return new Map(controls.map((control) => [control.name, { state: control.state, observedAt, ageMs: 0, stale: false }]));
    } catch (error) {
      if (!(error instanceof RoutingControlsUnreachableError) || this.lastSeen.size === 0) throw error;
      const now = this.now();
      return new Map(
        [...this.lastSeen].map(([name, known]) => [name, { ...known, ageMs: now - known.observedAt, stale: true, unreachable: error }]),
      );
    }
  }

  /** The last state seen for `name` without asking the cluster, or undefined when never seen. */
  lastKnown(name: string): ObservedRoutingControlState | undefined {
    const known = this.lastSeen.get(name);
    return known && { ...known, ageMs: this.now() - known.observedAt, stale: true };
  }
}
