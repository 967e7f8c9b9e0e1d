import net from 'node:net';
import type { TradeLeg } from '#domain/trade-leg.ts';
import { allocationInstructionOf } from '#shared/fix/allocation-instruction.ts';
import { decodeFix, encodeFix, type FixField, FixFrameReader, FixMessage, fixTimestamp } from '#shared/fix/codec.ts';
import { GATEWAY_COMP_ID } from '#shared/fix/counterparties.ts';
import { ADMIN_MSG_TYPES, TAG } from '#shared/fix/tags.ts';

/**
 * Rotor's own FIX 4.4 initiator, over the same codec as the gateway: the load client (`rotor fix-client`) and the
 * failover drill's counterparties. It stays connected (reconnecting every `reconnectMs` after any loss), answers
 * the gateway's ResendRequest from its in-memory store, and keeps every AllocationInstruction not yet acknowledged
 * with AllocStatus 3: after each logon it sends those again under the same AllocID, which the gateway
 * deduplicates. The first logon of the process resets sequence numbers (141=Y); reconnects continue them.
 */

export interface AllocationAck {
  readonly allocId: string;
  readonly status: string;
  readonly text: string | undefined;
  readonly at: number;
}

export interface InitiatorOptions {
  readonly host: string;
  readonly port: number;
  readonly senderCompId: string;
  readonly password: string;
  readonly heartbeatSeconds?: number;
  readonly reconnectMs?: number;
  readonly onAck?: (ack: AllocationAck) => void;
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
}

export class FixInitiator {
  loggedOn = false;
  /** Time of each logon (ms since the epoch): the drill reads failover from them. */
  readonly logons: number[] = [];
  readonly acks = new Map<string, AllocationAck>();
  readonly rejects = new Map<string, AllocationAck>();
  readonly outcomes: AllocationAck[] = [];
  private readonly pending = new Map<string, TradeLeg>();
  private readonly sent = new Map<number, FixMessage>();
  private nextSeq = 1;
  private expectedSeq = 1;
  private resetOnLogon = true;
  private socket: net.Socket | undefined;
  private stopped = false;
  private lastReceivedAt = 0;
  private lastSentAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private resendRequested = false;

  constructor(private readonly options: InitiatorOptions) {}

  get heartbeatSeconds(): number {
    return this.options.heartbeatSeconds ?? 1;
  }

  start(): void {
    this.connect();
    this.timer = setInterval(() => this.tick(), 250);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.loggedOn) this.send(FixMessage.of('5', []));
    this.socket?.end();
    setTimeout(() => this.socket?.destroy(), 200).unref();
  }

  /** Sends the leg now if logged on; in any case keeps it until the gateway acknowledges it. */
  sendAllocation(leg: TradeLeg, allocId: string): void {
    this.pending.set(allocId, leg);
    if (this.loggedOn) this.send(allocationInstructionOf(leg, allocId));
  }

  unacknowledged(): number {
    return this.pending.size;
  }

  /** Drops the connection without a Logout, as a network failure would. */
  dropConnection(): void {
    this.socket?.destroy();
  }

  private connect(): void {
    if (this.stopped) return;
    const socket = net.connect({ host: this.options.host, port: this.options.port });
    this.socket = socket;
    const reader = new FixFrameReader();
    socket.setNoDelay(true);
    socket.on('connect', () => {
      this.lastReceivedAt = Date.now();
      this.resendRequested = false;
      this.send(
        FixMessage.of('A', [
          [TAG.EncryptMethod, '0'],
          [TAG.HeartBtInt, String(this.heartbeatSeconds)],
          ...(this.resetOnLogon ? ([[TAG.ResetSeqNumFlag, 'Y']] as FixField[]) : []),
          [TAG.Username, this.options.senderCompId],
          [TAG.Password, this.options.password],
        ]),
        this.resetOnLogon ? 1 : undefined,
      );
    });
    socket.on('data', (chunk) => {
      this.lastReceivedAt = Date.now();
      for (const item of reader.push(chunk)) if ('frame' in item) this.handle(decodeFix(item.frame).message);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.loggedOn = false;
      this.socket = undefined;
      if (!this.stopped) setTimeout(() => this.connect(), this.options.reconnectMs ?? 100);
    });
  }

  private handle(message: FixMessage): void {
    const seq = message.int(TAG.MsgSeqNum) ?? 0;
    if (message.msgType !== '0' && message.msgType !== 'P') this.options.log?.('received', { compId: this.options.senderCompId, msgType: message.msgType, seq, expected: this.expectedSeq, begin: message.get(TAG.BeginSeqNo), newSeq: message.get(TAG.NewSeqNo) });
    if (message.msgType === 'A') {
      this.loggedOn = true;
      this.resetOnLogon = false;
      this.logons.push(Date.now());
      this.options.log?.('logged on', { compId: this.options.senderCompId, seq });
      if (seq === 1 && message.get(TAG.ResetSeqNumFlag) === 'Y') this.expectedSeq = 1;
      this.accept(seq);
      // Unacknowledged legs go again after the gateway has had the chance to ask for a resend.
      setTimeout(() => {
        if (this.loggedOn) for (const [allocId, leg] of this.pending) this.send(allocationInstructionOf(leg, allocId));
      }, 2_000);
      return;
    }
    if (message.msgType === '4' && message.get(TAG.GapFillFlag) !== 'Y') {
      this.expectedSeq = message.int(TAG.NewSeqNo) ?? this.expectedSeq;
      return;
    }
    if (seq < this.expectedSeq) return; // a duplicate, or one we already had
    if (seq > this.expectedSeq) {
      // Answered even out of sequence: the gateway may be waiting for this side's gap as this side waits for its.
      if (message.msgType === '2') this.replay(message.int(TAG.BeginSeqNo) ?? 1, message.int(TAG.EndSeqNo) ?? 0);
      if (!this.resendRequested) {
        this.resendRequested = true;
        this.send(FixMessage.of('2', [[TAG.BeginSeqNo, String(this.expectedSeq)], [TAG.EndSeqNo, '0']]));
      }
      return;
    }
    this.resendRequested = false;
    switch (message.msgType) {
      case '1':
        this.send(FixMessage.of('0', [[TAG.TestReqID, message.get(TAG.TestReqID) ?? '']]));
        break;
      case '2':
        this.replay(message.int(TAG.BeginSeqNo) ?? 1, message.int(TAG.EndSeqNo) ?? 0);
        break;
      case '4':
        this.expectedSeq = Math.max(message.int(TAG.NewSeqNo) ?? seq + 1, seq + 1);
        return;
      case '5':
        this.options.log?.('logged out', { compId: this.options.senderCompId, text: message.get(TAG.Text) });
        this.socket?.end();
        break;
      case 'P':
        this.onAllocationAck(message);
        break;
      default:
        break;
    }
    this.accept(seq);
  }

  private accept(seq: number): void {
    if (seq >= this.expectedSeq) this.expectedSeq = seq + 1;
  }

  private onAllocationAck(message: FixMessage): void {
    const ack: AllocationAck = { allocId: message.get(TAG.AllocID) ?? '', status: message.get(TAG.AllocStatus) ?? '', text: message.get(TAG.Text), at: Date.now() };
    if (ack.status === '3') {
      this.pending.delete(ack.allocId);
      if (!this.acks.has(ack.allocId)) this.acks.set(ack.allocId, ack);
    } else if (ack.status === '1' && message.get(TAG.AllocRejCode) !== undefined) {
      this.pending.delete(ack.allocId);
      this.rejects.set(ack.allocId, ack);
    } else {
      this.outcomes.push(ack);
    }
    this.options.onAck?.(ack);
  }

  private replay(begin: number, endRequested: number): void {
    const end = endRequested === 0 ? this.nextSeq - 1 : Math.min(endRequested, this.nextSeq - 1);
    let gapStart: number | undefined;
    for (let seq = begin; seq <= end + 1; seq++) {
      const stored = seq <= end ? this.sent.get(seq) : undefined;
      const replayable = stored !== undefined && !ADMIN_MSG_TYPES.has(stored.msgType);
      if (!replayable && seq <= end) {
        gapStart ??= seq;
        continue;
      }
      if (gapStart !== undefined) {
        this.write(FixMessage.of('4', [[TAG.GapFillFlag, 'Y'], [TAG.NewSeqNo, String(seq)]]), gapStart, [[TAG.PossDupFlag, 'Y']]);
        gapStart = undefined;
      }
      if (replayable) this.write(stored, seq, [[TAG.PossDupFlag, 'Y'], [TAG.OrigSendingTime, fixTimestamp(new Date())]]);
    }
  }

  private send(message: FixMessage, forcedSeq?: number): void {
    if (forcedSeq !== undefined) this.nextSeq = forcedSeq;
    const seq = this.nextSeq++;
    if (!ADMIN_MSG_TYPES.has(message.msgType)) this.sent.set(seq, message);
    this.write(message, seq, []);
  }

  private write(message: FixMessage, seq: number, extra: FixField[]): void {
    const header: FixField[] = [
      [TAG.MsgType, message.msgType],
      [TAG.SenderCompID, this.options.senderCompId],
      [TAG.TargetCompID, GATEWAY_COMP_ID],
      [TAG.MsgSeqNum, String(seq)],
      ...extra,
      [TAG.SendingTime, fixTimestamp(new Date())],
    ];
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    socket.write(encodeFix(new FixMessage([...header, ...message.fields.filter(([tag]) => tag !== TAG.MsgType)])));
    this.lastSentAt = Date.now();
  }

  private tick(): void {
    if (!this.socket) return;
    const now = Date.now();
    const interval = this.heartbeatSeconds * 1000;
    if (this.loggedOn && now - this.lastSentAt >= interval) this.send(FixMessage.of('0', []));
    // The gateway went silent (paused, or its connection is half-open): reconnect, the front routes to the leader.
    if (now - this.lastReceivedAt > interval * 2 + 500) {
      this.options.log?.('gateway silent; reconnecting', { compId: this.options.senderCompId });
      this.lastReceivedAt = now;
      this.socket.destroy();
    }
  }
}
