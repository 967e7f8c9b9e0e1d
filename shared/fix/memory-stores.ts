import { FencedOutError, type Lease, type LeaseStore, type SessionState, type SessionStore, SessionStateConflictError, type StoredOutbound } from './ports.ts';

/** In-memory stores with the same fencing rules as the DynamoDB adapters: for the session engine's unit tests. */

export class InMemorySessionStore implements SessionStore {
  readonly sessions = new Map<string, SessionState & { epoch: number }>();
  readonly messages = new Map<string, StoredOutbound>();
  refused = 0;

  async claim(session: string, epoch: number): Promise<SessionState> {
    const current = this.sessions.get(session);
    if (current && current.epoch > epoch) this.refuse(session, epoch);
    const state = { nextSenderSeq: current?.nextSenderSeq ?? 1, nextTargetSeq: current?.nextTargetSeq ?? 1, epoch };
    this.sessions.set(session, state);
    return { nextSenderSeq: state.nextSenderSeq, nextTargetSeq: state.nextTargetSeq };
  }

  async update(session: string, epoch: number, expected: Partial<SessionState>, next: Partial<SessionState>): Promise<void> {
    const current = this.sessions.get(session) ?? { nextSenderSeq: 1, nextTargetSeq: 1, epoch: 0 };
    if (current.epoch > epoch) this.refuse(session, epoch);
    for (const [key, value] of Object.entries(expected)) {
      if (current[key as keyof SessionState] !== value) throw new SessionStateConflictError(`${session}: ${key} is ${current[key as keyof SessionState]}, not ${value}`);
    }
    this.sessions.set(session, { ...current, ...next, epoch });
  }

  async storeOutbound(session: string, epoch: number, message: StoredOutbound): Promise<void> {
    const current = this.sessions.get(session);
    if (current && current.epoch > epoch) this.refuse(session, epoch);
    this.messages.set(`${session}:${message.seq}`, message);
  }

  async outbound(session: string, from: number, to: number): Promise<StoredOutbound[]> {
    const found: StoredOutbound[] = [];
    for (let seq = from; seq <= to; seq++) {
      const message = this.messages.get(`${session}:${seq}`);
      if (message) found.push(message);
    }
    return found;
  }

  private refuse(session: string, epoch: number): never {
    this.refused += 1;
    throw new FencedOutError(`session ${session}`, epoch);
  }
}

export class InMemoryLeaseStore implements LeaseStore {
  private readonly leases = new Map<string, Lease>();

  constructor(private readonly now: () => number = Date.now) {}

  async acquire(region: string, holder: string, address: string, ttlMs: number): Promise<Lease | undefined> {
    const current = this.leases.get(region);
    if (current && current.expiresAt >= this.now()) return undefined;
    const lease = { region, holder, address, epoch: (current?.epoch ?? 0) + 1, expiresAt: this.now() + ttlMs };
    this.leases.set(region, lease);
    return lease;
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | undefined> {
    const current = this.leases.get(lease.region);
    if (current?.holder !== lease.holder || current.epoch !== lease.epoch) return undefined;
    const renewed = { ...current, expiresAt: this.now() + ttlMs };
    this.leases.set(lease.region, renewed);
    return renewed;
  }

  async release(lease: Lease): Promise<void> {
    const current = this.leases.get(lease.region);
    if (current?.holder === lease.holder && current.epoch === lease.epoch) this.leases.set(lease.region, { ...current, expiresAt: 0 });
  }

  async current(region: string): Promise<Lease | undefined> {
    return this.leases.get(region);
  }
}
