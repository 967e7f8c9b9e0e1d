import type { TradeLeg } from '#domain/trade-leg.ts';
import { TradeLeg as Legs } from '#domain/trade-leg.ts';
import { DEFAULT_COUNTERPARTIES } from '#shared/fix/counterparties.ts';
import { FixInitiator } from './initiator.ts';

/**
 * Steady FIX load: an investment manager and a broker session, each sending its leg of the same trades — equal
 * economics, so every trade matches and settles — at `pairsPerSecond`. Used by `rotor fix-client` and the failover
 * drill, which read the acknowledgement times and the trade ids acknowledged.
 */

export interface FixLoadOptions {
  readonly host: string;
  readonly port: number;
  readonly pairsPerSecond: number;
  /** At most this many pairs (unbounded when absent). */
  readonly pairs?: number;
  /** Letters and digits naming the run in trade ids and AllocIDs, so runs never collide. */
  readonly runId: string;
  readonly heartbeatSeconds?: number;
  readonly log?: (event: string, fields?: Record<string, unknown>) => void;
}

const [IM, BROKER] = DEFAULT_COUNTERPARTIES as [(typeof DEFAULT_COUNTERPARTIES)[number], (typeof DEFAULT_COUNTERPARTIES)[number]];

export class FixLoad {
  readonly im: FixInitiator;
  readonly broker: FixInitiator;
  private readonly legs = new Map<string, TradeLeg>();
  private timer: NodeJS.Timeout | undefined;
  private pairsSent = 0;

  constructor(private readonly options: FixLoadOptions) {
    const initiator = (party: typeof IM) =>
      new FixInitiator({ host: options.host, port: options.port, senderCompId: party.compId, password: party.password, heartbeatSeconds: options.heartbeatSeconds ?? 1, reconnectMs: 100, ...(options.log ? { log: options.log } : {}) });
    this.im = initiator(IM);
    this.broker = initiator(BROKER);
  }

  start(): void {
    this.im.start();
    this.broker.start();
    const everyMs = 1_000 / this.options.pairsPerSecond;
    this.timer = setInterval(() => {
      if (this.options.pairs !== undefined && this.pairsSent >= this.options.pairs) return;
      this.sendPair(this.pairsSent++);
    }, everyMs);
  }

  loggedOn(): boolean {
    return this.im.loggedOn && this.broker.loggedOn;
  }

  done(): boolean {
    return this.options.pairs !== undefined && this.pairsSent >= this.options.pairs && this.unacknowledged() === 0;
  }

  sent(): number {
    return this.legs.size;
  }

  acked(): number {
    return this.im.acks.size + this.broker.acks.size;
  }

  rejected(): number {
    return this.im.rejects.size + this.broker.rejects.size;
  }

  unacknowledged(): number {
    return this.im.unacknowledged() + this.broker.unacknowledged();
  }

  outcomes(): number {
    return this.im.outcomes.length + this.broker.outcomes.length;
  }

  /** True once both sessions have an acknowledgement received at or after `since`. */
  ackedSince(since: number): boolean {
    return [this.im, this.broker].every((side) => [...side.acks.values()].some((ack) => ack.at >= since));
  }

  /** When the later of the two sessions got its first acknowledgement at or after `since`. */
  firstAckSince(since: number): number | undefined {
    const firsts = [this.im, this.broker].map((side) => Math.min(...[...side.acks.values()].filter((ack) => ack.at >= since).map((ack) => ack.at)));
    return firsts.every(Number.isFinite) ? Math.max(...firsts) : undefined;
  }

  /** When the later of the two sessions logged on again at or after `since` (the service back for both). */
  loggedOnSince(since: number): number | undefined {
    const firsts = [this.im, this.broker].map((side) => Math.min(...side.logons.filter((at) => at >= since)));
    return firsts.every(Number.isFinite) ? Math.max(...firsts) : undefined;
  }

  /** Trade ids (DESIGN §3.2) of every leg the gateway acknowledged. */
  acknowledgedTradeIds(): string[] {
    return [...this.im.acks.keys(), ...this.broker.acks.keys()].map((allocId) => Legs.id(this.legs.get(allocId)!));
  }

  /** Trade ids of acknowledged legs whose counterpart leg was never acknowledged. */
  acknowledgedAlone(): Set<string> {
    const alone = new Set<string>();
    const pairs: Array<[FixInitiator, FixInitiator, string, string]> = [[this.im, this.broker, '-IM-', '-BR-'], [this.broker, this.im, '-BR-', '-IM-']];
    for (const [side, other, mine, theirs] of pairs) {
      for (const allocId of side.acks.keys()) {
        if (!other.acks.has(allocId.replace(mine, theirs))) alone.add(Legs.id(this.legs.get(allocId)!));
      }
    }
    return alone;
  }

  /** Stops sending, waits (up to `timeoutMs`) for every leg to be acknowledged, then logs both sessions out. */
  async stop(timeoutMs: number): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    const deadline = Date.now() + timeoutMs;
    while (this.unacknowledged() > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    this.abort();
  }

  abort(): void {
    if (this.timer) clearInterval(this.timer);
    this.im.stop();
    this.broker.stop();
  }

  private sendPair(index: number): void {
    const tradeID = `${this.options.runId}${index}`.slice(-20);
    const base = {
      imID: 'QAINS012', brokerID: 'QABRO010', tradeID, security: 'AMZN', transactionIndicator: 'B' as const, price: `${10 + (index % 90)}.25`, quantity: 1000,
      tradeDate: '2026-11-23', settlementDate: '2026-11-25',
      allocations: [{ allocationID: 1, quantity: 600, account: `ACC${index % 7}` }, { allocationID: 2, quantity: 400, account: 'ACC9' }],
    };
    const imLeg: TradeLeg = { senderID: IM.party, ...base };
    const brokerLeg: TradeLeg = { senderID: BROKER.party, ...base };
    const imAlloc = `${this.options.runId}-IM-${index}`;
    const brokerAlloc = `${this.options.runId}-BR-${index}`;
    this.legs.set(imAlloc, imLeg);
    this.legs.set(brokerAlloc, brokerLeg);
    this.im.sendAllocation(imLeg, imAlloc);
    this.broker.sendAllocation(brokerLeg, brokerAlloc);
  }
}
