import type { Lease, LeaseStore } from './ports.ts';

/**
 * Leadership of a region's FIX gateway: a standby tries to take the lease every `pollMs`; the leader renews it every
 * `renewMs` on its own timer, never on the message path, so a busy or blocked session cannot make it lapse
 * unnoticed. A renewal the store refuses means a newer epoch exists: the holder is deposed at once. The holder does
 * not trust its own clock to stop writing: the store's epoch conditions are what stop a paused leader's writes.
 */

export interface LeaderElectionOptions {
  readonly leases: LeaseStore;
  readonly region: string;
  readonly holder: string;
  readonly address: string;
  readonly ttlMs: number;
  readonly renewMs: number;
  readonly pollMs: number;
  readonly onElected: (lease: Lease) => Promise<void> | void;
  readonly onDeposed: (reason: string) => void;
  readonly log: (event: string, fields?: Record<string, unknown>) => void;
}

export class LeaderElection {
  private lease: Lease | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastRenewedAt = 0;

  constructor(private readonly options: LeaderElectionOptions) {}

  /** The epoch this process leads with, or undefined when it is a standby. */
  epoch(): number | undefined {
    return this.lease?.epoch;
  }

  current(): Lease | undefined {
    return this.lease;
  }

  start(): void {
    this.schedule(0);
  }

  /** Steps down from the outside (a fenced write was refused): a standby again, after the lease moves on. */
  depose(reason: string): void {
    if (!this.lease) return;
    this.lease = undefined;
    this.options.log('deposed', { reason });
    this.options.onDeposed(reason);
  }

  /** Stops without releasing the lease (tests standing in for a killed process): it expires on its own. */
  abandon(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.lease = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const lease = this.lease;
    this.lease = undefined;
    if (lease) await this.options.leases.release(lease).catch(() => undefined);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.step(), delayMs);
  }

  private async step(): Promise<void> {
    try {
      if (this.lease) await this.renew(this.lease);
      else await this.tryAcquire();
    } catch (error) {
      this.options.log('lease store unavailable', { error: error instanceof Error ? error.message : String(error) });
      // Unable to renew for a whole lease period: someone else may hold it by now.
      if (this.lease && Date.now() - this.lastRenewedAt > this.options.ttlMs) this.depose('the lease could not be renewed before it expired');
    }
    this.schedule(this.lease ? this.options.renewMs : this.options.pollMs);
  }

  private async renew(lease: Lease): Promise<void> {
    const renewed = await this.options.leases.renew(lease, this.options.ttlMs);
    if (this.lease !== lease) return;
    if (!renewed) return this.depose('the lease was taken over');
    this.lease = renewed;
    this.lastRenewedAt = Date.now();
  }

  private async tryAcquire(): Promise<void> {
    const acquired = await this.options.leases.acquire(this.options.region, this.options.holder, this.options.address, this.options.ttlMs);
    if (!acquired || this.stopped) return;
    this.lease = acquired;
    this.lastRenewedAt = Date.now();
    this.options.log('elected', { epoch: acquired.epoch });
    // Taking over (claiming sessions, re-driving legs) runs beside the renewals, never in their way.
    void Promise.resolve()
      .then(() => this.options.onElected(acquired))
      .catch((error: unknown) => {
        if (this.lease === acquired) this.depose(`taking over failed: ${error instanceof Error ? error.message : String(error)}`);
      });
  }
}
