import { decodeFix, encodeFix, type FixField, FixFrameReader, FixMessage, fixTimestamp } from './codec.ts';
import { type Counterparty, GATEWAY_COMP_ID } from './counterparties.ts';
import { FencedOutError, type SessionStore, type StoredOutbound } from './ports.ts';
import { ADMIN_MSG_TYPES, TAG } from './tags.ts';

/**
 * One FIX 4.4 acceptor session over one connection: Logon, sequence numbers, heartbeats, TestRequest,
 * ResendRequest, SequenceReset, Reject and Logout, with the sequence numbers and the messages sent kept in the
 * session store under the leader's fencing epoch. Transport-free: the caller feeds bytes, calls `tick` every second
 * and supplies `write` and `close`; the application handles everything that is not session-level.
 *
 * Inbound messages are handled one at a time, in order; outbound ones take a sequence number in the store before
 * they are written, one at a time, so the wire order is the sequence order. A message is counted as received
 * (nextTargetSeq moved on) only after the application has handled it: a leader that dies in between leaves the
 * number unconsumed, and the standby asks for the message again.
 */

export interface SessionDependencies {
  readonly store: SessionStore;
  /** The leader's fencing epoch; undefined when this process is not the leader. */
  readonly epoch: () => number | undefined;
  readonly counterparties: ReadonlyMap<string, Counterparty>;
  readonly write: (bytes: Buffer) => void;
  readonly close: () => void;
  /** Handles an application message; it answers through `session.send`. */
  readonly application: (message: FixMessage, session: AcceptorSession) => Promise<void>;
  /** Whether this counterparty may log on now (false when it already has a session here). */
  readonly admit: (session: AcceptorSession) => boolean;
  readonly onFenced: (error: FencedOutError) => void;
  readonly log: (event: string, fields?: Record<string, unknown>) => void;
  readonly now?: () => Date;
  /** Logs every message received (diagnosis of sequence problems). */
  readonly trace?: boolean;
}

const SUPPORTED_APPLICATION = new Set(['J']);

export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
}

export class AcceptorSession {
  state: 'awaiting-logon' | 'active' | 'closed' = 'awaiting-logon';
  counterparty: Counterparty | undefined;
  private nextSenderSeq = 1;
  private nextTargetSeq = 1;
  private heartbeatSeconds = 30;
  private resendRequestedUpTo = 0;
  private testRequestSent = false;
  private lastReceivedAt = Date.now();
  private lastSentAt = Date.now();
  private readonly reader = new FixFrameReader();
  private inbound: Promise<void> = Promise.resolve();
  private outbound: Promise<unknown> = Promise.resolve();
  private readonly now: () => Date;

  constructor(private readonly deps: SessionDependencies) {
    this.now = deps.now ?? (() => new Date());
  }

  get compId(): string | undefined {
    return this.counterparty?.compId;
  }

  /** Bytes from the connection. */
  receive(chunk: Buffer): void {
    this.lastReceivedAt = this.now().getTime();
    for (const item of this.reader.push(chunk)) {
      if ('error' in item) {
        // The FIX spec: a garbled message is ignored, its sequence number not consumed; the gap is resent later.
        this.deps.log('garbled message ignored', { reason: item.error.message });
        continue;
      }
      this.inbound = this.inbound.then(() => this.handleFrame(item.frame)).catch((error: unknown) => this.fail(error));
    }
  }

  /** Resolves when everything received so far has been handled. */
  idle(): Promise<void> {
    return this.inbound;
  }

  /** Sends an application or session message with the next sequence number, stored for ResendRequest. */
  send(message: FixMessage): Promise<void> {
    const sending = this.outbound.then(() => this.sendNow(message));
    this.outbound = sending.catch(() => undefined);
    return sending;
  }

  /** A fenced write of the session (its epoch, nothing else): refused with FencedOutError once deposed. */
  async fence(): Promise<void> {
    await this.deps.store.update(this.compId!, this.requireEpoch(), {}, {});
  }

  /** Called every second: heartbeats when quiet, a TestRequest and then a disconnect when the peer is. */
  tick(): void {
    if (this.state !== 'active') return;
    const now = this.now().getTime();
    const interval = this.heartbeatSeconds * 1000;
    if (now - this.lastSentAt >= interval) void this.send(FixMessage.of('0', [])).catch((error: unknown) => this.fail(error));
    const silent = now - this.lastReceivedAt;
    if (silent > interval * 2 + 1000) {
      this.end('no message from the counterparty within two heartbeat intervals');
    } else if (silent > interval + 1000 && !this.testRequestSent) {
      this.testRequestSent = true;
      void this.send(FixMessage.of('1', [[TAG.TestReqID, `TEST-${now}`]])).catch((error: unknown) => this.fail(error));
    }
  }

  /** Closes the connection; the session's state stays in the store for the next logon. */
  end(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.deps.log('session closed', { compId: this.compId, reason });
    this.deps.close();
  }

  private async handleFrame(frame: Buffer): Promise<void> {
    if (this.state === 'closed') return;
    let message: FixMessage;
    try {
      message = decodeFix(frame).message;
    } catch (error) {
      this.deps.log('garbled message ignored', { reason: (error as Error).message });
      return;
    }
    this.testRequestSent = false;
    if (this.state === 'awaiting-logon') return this.handleLogon(message);
    const seq = message.int(TAG.MsgSeqNum);
    if (this.deps.trace) this.deps.log('received', { compId: this.compId, msgType: message.msgType, seq, expected: this.nextTargetSeq, possDup: message.get(TAG.PossDupFlag), newSeq: message.get(TAG.NewSeqNo) });
    if (seq === undefined) return this.logoutAndClose('MsgSeqNum(34) missing');
    if (message.get(TAG.SenderCompID) !== this.compId || message.get(TAG.TargetCompID) !== GATEWAY_COMP_ID) {
      await this.reject(message, seq, 9, 'CompID problem');
      return this.logoutAndClose('SenderCompID or TargetCompID does not match the session');
    }
    if (message.msgType === '4' && message.get(TAG.GapFillFlag) !== 'Y') return this.sequenceReset(message);
    if (seq < this.nextTargetSeq) {
      if (message.get(TAG.PossDupFlag) === 'Y') return; // already handled: a resend of something received
      return this.logoutAndClose(`MsgSeqNum too low, expecting ${this.nextTargetSeq} but received ${seq}`);
    }
    if (seq > this.nextTargetSeq) {
      // A ResendRequest is answered even out of sequence: both sides may be waiting for the other's gap to close.
      if (message.msgType === '2') await this.resend(message.int(TAG.BeginSeqNo) ?? 1, message.int(TAG.EndSeqNo) ?? 0);
      // One ResendRequest (to infinity) per gap: asking again for every later message would make the counterparty
      // replay the whole range each time.
      if (this.resendRequestedUpTo < this.nextTargetSeq) await this.requestResend(seq);
      return;
    }
    if (!message.has(TAG.SendingTime)) {
      await this.reject(message, seq, 1, 'Required tag missing', TAG.SendingTime);
      return this.received(seq);
    }
    await this.dispatch(message, seq);
  }

  private async dispatch(message: FixMessage, seq: number): Promise<void> {
    switch (message.msgType) {
      case '0':
      case '3':
        if (message.msgType === '3') this.deps.log('session reject received', { compId: this.compId, text: message.get(TAG.Text) });
        return this.received(seq);
      case '1':
        await this.send(FixMessage.of('0', [[TAG.TestReqID, message.get(TAG.TestReqID) ?? '']]));
        return this.received(seq);
      case '2':
        await this.received(seq);
        return this.resend(message.int(TAG.BeginSeqNo) ?? 1, message.int(TAG.EndSeqNo) ?? 0);
      case '4':
        return this.gapFill(message, seq);
      case '5':
        await this.received(seq);
        await this.send(FixMessage.of('5', []));
        return this.end('counterparty logged out');
      case 'A':
        await this.reject(message, seq, 5, 'Logon received on a session already logged on');
        return this.received(seq);
      default:
        if (!SUPPORTED_APPLICATION.has(message.msgType)) {
          await this.reject(message, seq, 11, `MsgType ${message.msgType} is not supported`);
          return this.received(seq);
        }
        await this.deps.application(message, this);
        return this.received(seq);
    }
  }

  private async handleLogon(message: FixMessage): Promise<void> {
    const compId = message.get(TAG.SenderCompID) ?? '';
    const counterparty = this.deps.counterparties.get(compId);
    const refuse = (reason: string) => {
      this.deps.log('logon refused', { compId, reason });
      this.deps.write(encodeFix(FixMessage.of('5', [[TAG.SenderCompID, GATEWAY_COMP_ID], [TAG.TargetCompID, compId], [TAG.MsgSeqNum, '1'], [TAG.SendingTime, fixTimestamp(this.now())], [TAG.Text, reason]])));
      this.end(reason);
    };
    if (message.msgType !== 'A') return refuse(`the first message must be a Logon (35=A), not 35=${message.msgType}`);
    if (!counterparty) return refuse(`unknown SenderCompID ${compId}`);
    if (message.get(TAG.TargetCompID) !== GATEWAY_COMP_ID) return refuse(`TargetCompID must be ${GATEWAY_COMP_ID}`);
    if (message.get(TAG.Username) !== compId || message.get(TAG.Password) !== counterparty.password) return refuse('bad Username or Password');
    if (message.get(TAG.EncryptMethod) !== '0') return refuse('EncryptMethod(98) must be 0');
    const heartbeat = message.int(TAG.HeartBtInt);
    if (!heartbeat || heartbeat > 3600) return refuse('HeartBtInt(108) must be 1-3600 seconds');
    const seq = message.int(TAG.MsgSeqNum);
    if (seq === undefined) return refuse('MsgSeqNum(34) missing');
    const epoch = this.deps.epoch();
    if (epoch === undefined) return refuse('this gateway is not the leader');
    this.counterparty = counterparty;
    if (!this.deps.admit(this)) {
      this.counterparty = undefined;
      return refuse(`${compId} is already logged on`);
    }

    const reset = message.get(TAG.ResetSeqNumFlag) === 'Y';
    const state = await this.deps.store.claim(compId, epoch);
    this.nextSenderSeq = state.nextSenderSeq;
    this.nextTargetSeq = state.nextTargetSeq;
    if (reset) {
      await this.deps.store.update(compId, epoch, {}, { nextSenderSeq: 1, nextTargetSeq: 1 });
      this.nextSenderSeq = 1;
      this.nextTargetSeq = 1;
    }
    if (seq < this.nextTargetSeq) {
      this.deps.log('logon refused', { compId, reason: 'MsgSeqNum too low' });
      this.state = 'active';
      return this.logoutAndClose(`MsgSeqNum too low, expecting ${this.nextTargetSeq} but received ${seq}`);
    }
    this.heartbeatSeconds = heartbeat;
    this.state = 'active';
    this.deps.log('logged on', { compId, nextSenderSeq: this.nextSenderSeq, nextTargetSeq: this.nextTargetSeq, received: seq, epoch });
    await this.send(FixMessage.of('A', [[TAG.EncryptMethod, '0'], [TAG.HeartBtInt, String(heartbeat)], ...(reset ? ([[TAG.ResetSeqNumFlag, 'Y']] as FixField[]) : [])]));
    if (seq > this.nextTargetSeq) return this.requestResend(seq);
    return this.received(seq);
  }

  private async received(seq: number): Promise<void> {
    await this.deps.store.update(this.compId!, this.requireEpoch(), { nextTargetSeq: seq }, { nextTargetSeq: seq + 1 });
    this.nextTargetSeq = seq + 1;
  }

  private async requestResend(seenSeq: number): Promise<void> {
    this.resendRequestedUpTo = seenSeq;
    await this.send(FixMessage.of('2', [[TAG.BeginSeqNo, String(this.nextTargetSeq)], [TAG.EndSeqNo, '0']]));
  }

  private async gapFill(message: FixMessage, seq: number): Promise<void> {
    const newSeq = message.int(TAG.NewSeqNo);
    if (newSeq === undefined || newSeq <= seq) {
      await this.reject(message, seq, 5, 'NewSeqNo(36) must be greater than MsgSeqNum', TAG.NewSeqNo);
      return this.received(seq);
    }
    await this.deps.store.update(this.compId!, this.requireEpoch(), { nextTargetSeq: seq }, { nextTargetSeq: newSeq });
    this.nextTargetSeq = newSeq;
  }

  private async sequenceReset(message: FixMessage): Promise<void> {
    const newSeq = message.int(TAG.NewSeqNo);
    if (newSeq === undefined || newSeq < this.nextTargetSeq) {
      return this.reject(message, message.int(TAG.MsgSeqNum) ?? 0, 5, 'NewSeqNo(36) may not lower the expected MsgSeqNum', TAG.NewSeqNo);
    }
    await this.deps.store.update(this.compId!, this.requireEpoch(), {}, { nextTargetSeq: newSeq });
    this.nextTargetSeq = newSeq;
  }

  /** Answers a ResendRequest: stored application messages again (PossDupFlag, OrigSendingTime), gaps filled. */
  private resend(begin: number, endRequested: number): Promise<void> {
    const replaying = this.outbound.then(async () => {
      const end = endRequested === 0 || endRequested >= this.nextSenderSeq ? this.nextSenderSeq - 1 : endRequested;
      if (begin > end) return;
      const stored = new Map((await this.deps.store.outbound(this.compId!, begin, end)).map((message) => [message.seq, message]));
      let gapStart: number | undefined;
      for (let seq = begin; seq <= end + 1; seq++) {
        const message = seq <= end ? stored.get(seq) : undefined;
        const replayable = message !== undefined && !ADMIN_MSG_TYPES.has(message.msgType);
        if (!replayable && seq <= end) {
          gapStart ??= seq;
          continue;
        }
        if (gapStart !== undefined) {
          this.writeWithHeader(FixMessage.of('4', [[TAG.GapFillFlag, 'Y'], [TAG.NewSeqNo, String(seq)]]), gapStart, [[TAG.PossDupFlag, 'Y']]);
          gapStart = undefined;
        }
        if (replayable) this.writeWithHeader(FixMessage.of(message.msgType, message.body), seq, [[TAG.PossDupFlag, 'Y'], [TAG.OrigSendingTime, message.sendingTime]]);
      }
      this.deps.log('resent', { compId: this.compId, begin, end });
    });
    this.outbound = replaying.catch(() => undefined);
    return replaying;
  }

  private async sendNow(message: FixMessage): Promise<void> {
    if (this.state === 'closed') return;
    const compId = this.compId!;
    const epoch = this.requireEpoch();
    const seq = this.nextSenderSeq;
    const sendingTime = fixTimestamp(this.now());
    // The number is taken (fenced) and the message stored side by side, one round trip instead of two: nothing is
    // written to the wire unless both succeed, and a stored message whose number was refused is never sent.
    const stored: StoredOutbound = { seq, msgType: message.msgType, body: message.fields.filter(([tag]) => tag !== TAG.MsgType), sendingTime };
    const [allocated, kept] = await Promise.allSettled([
      this.deps.store.update(compId, epoch, { nextSenderSeq: seq }, { nextSenderSeq: seq + 1 }),
      ADMIN_MSG_TYPES.has(message.msgType) ? Promise.resolve() : this.deps.store.storeOutbound(compId, epoch, stored),
    ]);
    if (allocated.status === 'rejected') throw allocated.reason;
    this.nextSenderSeq = seq + 1;
    if (kept.status === 'rejected') throw kept.reason;
    this.writeWithHeader(message, seq, [], sendingTime);
  }

  private writeWithHeader(message: FixMessage, seq: number, extra: FixField[], sendingTime = fixTimestamp(this.now())): void {
    if (this.state === 'closed') return;
    const header: FixField[] = [[TAG.MsgType, message.msgType], [TAG.SenderCompID, GATEWAY_COMP_ID], [TAG.TargetCompID, this.compId!], [TAG.MsgSeqNum, String(seq)], ...extra, [TAG.SendingTime, sendingTime]];
    this.deps.write(encodeFix(new FixMessage([...header, ...message.fields.filter(([tag]) => tag !== TAG.MsgType)])));
    this.lastSentAt = this.now().getTime();
  }

  private async reject(message: FixMessage, seq: number, reason: number, text: string, refTag?: number): Promise<void> {
    await this.send(
      FixMessage.of('3', [
        [TAG.RefSeqNum, String(seq)],
        ...(refTag === undefined ? [] : ([[TAG.RefTagID, String(refTag)]] as FixField[])),
        [TAG.RefMsgType, message.msgType],
        [TAG.SessionRejectReason, String(reason)],
        [TAG.Text, text],
      ]),
    );
  }

  private async logoutAndClose(reason: string): Promise<void> {
    this.deps.log('logout', { compId: this.compId, reason });
    await this.send(FixMessage.of('5', [[TAG.Text, reason]])).catch(() => undefined);
    this.end(reason);
  }

  private requireEpoch(): number {
    const epoch = this.deps.epoch();
    if (epoch === undefined) throw new NotLeaderError('this gateway is no longer the leader');
    return epoch;
  }

  private fail(error: unknown): void {
    if (error instanceof FencedOutError) {
      this.deps.log('write refused: a newer leader holds the session', { compId: this.compId, epoch: error.epoch });
      this.deps.onFenced(error);
    } else {
      this.deps.log('session failed', { compId: this.compId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    }
    this.end(error instanceof Error ? error.message : String(error));
  }
}
