import type { FixField } from './codec.ts';

/**
 * What the FIX gateway keeps outside its process, so any standby resumes a session exactly where it was: each
 * session's sequence numbers and the messages it sent (to answer ResendRequest), and the region's leader lease.
 * Every write a leader makes carries its fencing epoch and is refused by the store once a newer epoch has
 * written the same item: a deposed leader that wakes up cannot move a session back or forward.
 */

export interface SessionState {
  /** MsgSeqNum of the next message the gateway sends. */
  readonly nextSenderSeq: number;
  /** MsgSeqNum the gateway expects next from the counterparty. */
  readonly nextTargetSeq: number;
}

export interface StoredOutbound {
  readonly seq: number;
  readonly msgType: string;
  /** The message's fields after the header (35 excluded), as sent. */
  readonly body: readonly FixField[];
  readonly sendingTime: string;
}

export interface SessionStore {
  /**
   * Takes the session for `epoch`: from now on only writes with this epoch or a newer one land. Resolves its
   * state ({1, 1} for a session never seen). Throws FencedOutError when a newer epoch holds it.
   */
  claim(session: string, epoch: number): Promise<SessionState>;
  /** Sets fields of the state when the stored values still equal `expected`; FencedOutError when fenced. */
  update(session: string, epoch: number, expected: Partial<SessionState>, next: Partial<SessionState>): Promise<void>;
  /** Records a sent application message under its sequence number (already allocated by `update`). */
  storeOutbound(session: string, epoch: number, message: StoredOutbound): Promise<void>;
  /** The stored messages with `from <= seq <= to`, in order; gaps are sequence numbers with nothing stored. */
  outbound(session: string, from: number, to: number): Promise<StoredOutbound[]>;
}

export interface Lease {
  readonly region: string;
  readonly holder: string;
  /** Where clients reach the holder (`host:port`): the front routes there. */
  readonly address: string;
  readonly epoch: number;
  /** Wall-clock expiry, epoch milliseconds. */
  readonly expiresAt: number;
}

export interface LeaseStore {
  /** Takes the lease when free or expired, with epoch + 1; undefined when someone else holds it. */
  acquire(region: string, holder: string, address: string, ttlMs: number): Promise<Lease | undefined>;
  /** Extends the lease while `holder` still holds `epoch`; false once it was taken over. */
  renew(lease: Lease, ttlMs: number): Promise<Lease | undefined>;
  /** Gives the lease up at once (a clean shutdown), so the standby need not wait out the expiry. */
  release(lease: Lease): Promise<void>;
  current(region: string): Promise<Lease | undefined>;
}

/** The store refused a write because a newer epoch owns the item: this process is no longer the leader. */
export class FencedOutError extends Error {
  override readonly name = 'FencedOutError';
  constructor(
    readonly what: string,
    readonly epoch: number,
  ) {
    super(`${what}: epoch ${epoch} is stale; a newer leader owns it`);
  }
}

/** The stored sequence numbers are not the expected ones: another writer of the same epoch raced this one. */
export class SessionStateConflictError extends Error {
  override readonly name = 'SessionStateConflictError';
}
