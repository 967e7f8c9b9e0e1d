import { TradeLeg } from '#domain/trade-leg.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import type { AcceptorSession } from './acceptor-session.ts';
import { legOfAllocationInstruction, receivedAck, rejectedAck } from './allocation-instruction.ts';
import type { FixMessage } from './codec.ts';
import { fixLegId, type FixLegItem, type FixLegStore } from './leg-store.ts';
import { FencedOutError } from './ports.ts';

/**
 * What the gateway does with an AllocationInstruction: validate it as the pipeline would (a reject ack with the
 * NACK code), record it in the FIX safe store under (SenderCompID, AllocID), acknowledge it with AllocStatus 3 only
 * then, and forward its JSON body to the TM `tm.trades` queue. A second message with the same AllocID and the same
 * leg is acknowledged again and not forwarded again; with a different leg it is a CONFLICTING_DUPLICATE.
 */

export interface GatewayApplicationDependencies {
  readonly legs: FixLegStore;
  readonly forwarder: LegForwarder;
  readonly epoch: () => number | undefined;
  readonly now?: () => Date;
  readonly log: (event: string, fields?: Record<string, unknown>) => void;
}

export function gatewayApplication(deps: GatewayApplicationDependencies) {
  const now = deps.now ?? (() => new Date());
  return async (message: FixMessage, session: AcceptorSession): Promise<void> => {
    const counterparty = session.counterparty!;
    const mapped = legOfAllocationInstruction(message, counterparty.party);
    if (!mapped.ok) {
      deps.log('allocation rejected', { compId: counterparty.compId, allocId: mapped.allocId, code: mapped.nack.code });
      return session.send(rejectedAck(mapped.allocId, mapped.nack, now()));
    }
    const epoch = deps.epoch();
    if (epoch === undefined) throw new FencedOutError(`allocation ${mapped.allocId}`, 0);
    // A fenced write before the leg is stored: a deposed leader learns it here and stores nothing.
    await session.fence();
    const item: FixLegItem = {
      id: fixLegId(counterparty.compId, mapped.allocId),
      kind: 'fix-leg',
      senderCompId: counterparty.compId,
      allocId: mapped.allocId,
      tradeId: TradeLeg.id(mapped.leg),
      body: mapped.body,
      epoch,
      forwarded: false,
      receivedAt: now().toISOString(),
    };
    const put = await deps.legs.putIfAbsent(item);
    if (!put.stored && put.existing.body !== item.body) {
      return session.send(
        rejectedAck(mapped.allocId, { code: 'CONFLICTING_DUPLICATE', reason: `AllocID ${mapped.allocId} was already received with a different leg; the first version stands` }, now()),
      );
    }
    await session.send(receivedAck(mapped.allocId, now()));
    const stored = put.stored ? item : put.existing;
    if (!stored.forwarded) deps.forwarder.forward(stored);
  };
}

/**
 * Forwards stored legs to `tm.trades`, marking each forwarded once the broker has it. The body is the stored one,
 * byte for byte, so the TM inbound gateway gives a leg forwarded twice (a crash between the send and the mark, a
 * new leader's re-drive) the same message id and records it once.
 */
export class LegForwarder {
  private readonly inFlight = new Set<string>();
  forwardedCount = 0;

  constructor(
    private readonly deps: {
      readonly broker: MessageBroker;
      readonly queue: string;
      readonly legs: FixLegStore;
      readonly epoch: () => number | undefined;
      readonly onFenced: (error: FencedOutError) => void;
      readonly log: (event: string, fields?: Record<string, unknown>) => void;
    },
  ) {}

  forward(item: FixLegItem): void {
    if (this.inFlight.has(item.id)) return;
    this.inFlight.add(item.id);
    void this.send(item).finally(() => this.inFlight.delete(item.id));
  }

  /** Forwards every stored leg not yet forwarded: a new leader calls it first, then every few seconds. */
  async redrive(): Promise<number> {
    const pending = await this.deps.legs.unforwarded();
    for (const item of pending) this.forward(item);
    return pending.length;
  }

  /** Resolves when nothing is being forwarded. */
  async drained(): Promise<void> {
    while (this.inFlight.size > 0) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  private async send(item: FixLegItem): Promise<void> {
    const epoch = this.deps.epoch();
    if (epoch === undefined) return;
    try {
      await this.deps.broker.send(this.deps.queue, item.body, { 'rotor-fix-id': item.id });
      await this.deps.legs.markForwarded(item.id, epoch);
      this.forwardedCount += 1;
    } catch (error) {
      if (error instanceof FencedOutError) return this.deps.onFenced(error);
      this.deps.log('forward failed; the re-drive tries again', { id: item.id, error: error instanceof Error ? error.message : String(error) });
    }
  }
}
