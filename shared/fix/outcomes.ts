import type { BrokerMessage, MessageBroker, QueueConsumer } from '#shared/ports/message-broker.ts';
import type { AcceptorSession } from './acceptor-session.ts';
import { type LegOutcome, outcomeAck } from './allocation-instruction.ts';
import type { Counterparty } from './counterparties.ts';
import type { FixLegItem, FixLegStore } from './leg-store.ts';

/**
 * Later outcomes back to the FIX sessions: the leader consumes TM's `tm.responses` queue (its JSON bodies, DESIGN
 * §2: `trade-status` and `allocation-status`), finds the FIX leg by its trade id and sends a 35=P on the sender's
 * session. A response is acknowledged to the broker only once the 35=P is stored in the session (so a resend after
 * a failover still carries it); while the sender is not logged on it is released and read again later. Responses
 * for legs that did not come over FIX are acknowledged and left alone.
 */

export interface OutcomeReporter {
  start(): void;
  stop(): Promise<void>;
}

export interface OutcomeReporterDependencies {
  readonly broker: MessageBroker;
  readonly queue: string;
  readonly legs: FixLegStore;
  readonly counterparties: ReadonlyMap<string, Counterparty>;
  readonly sessionOf: (compId: string) => AcceptorSession | undefined;
  readonly epoch: () => number | undefined;
  readonly log: (event: string, fields?: Record<string, unknown>) => void;
}

const OUTCOMES = new Set<string>(['MATCHED', 'MISMATCHED', 'SETTLED']);

export function responsesOutcomeReporter(deps: OutcomeReporterDependencies): OutcomeReporter {
  let running = false;
  let loop: Promise<void> | undefined;
  let consumer: QueueConsumer | undefined;
  const byTrade = new Map<string, FixLegItem>();
  let lastLoadedAt = 0;

  const legOf = async (tradeId: string): Promise<FixLegItem | undefined> => {
    if (!byTrade.has(tradeId) && Date.now() - lastLoadedAt > 1_000) {
      lastLoadedAt = Date.now();
      for (const item of await deps.legs.all()) byTrade.set(item.tradeId, item);
    }
    return byTrade.get(tradeId);
  };

  /** True when the message is settled (acknowledged), false to release it for later. */
  const deliver = async (message: BrokerMessage): Promise<boolean> => {
    let body: { type?: string; tradeId?: string; status?: string; allocationID?: number };
    try {
      body = JSON.parse(message.body) as typeof body;
    } catch {
      return true;
    }
    if ((body.type !== 'trade-status' && body.type !== 'allocation-status') || !body.tradeId || !OUTCOMES.has(body.status ?? '')) return true;
    const leg = await legOf(body.tradeId);
    if (!leg) return true;
    const session = deps.sessionOf(leg.senderCompId);
    if (!session) return false;
    const allocation = body.type === 'allocation-status' ? body.allocationID : undefined;
    await session.send(outcomeAck(leg.allocId, body.status as LegOutcome, new Date(), allocation));
    return true;
  };

  const run = async () => {
    while (running) {
      try {
        consumer ??= await deps.broker.consume(deps.queue, { prefetch: 50 });
        const batch = await consumer.receive({ maxMessages: 50, waitMs: 500 });
        let released = 0;
        for (const message of batch) {
          if (!running || deps.epoch() === undefined) {
            await consumer.release(message);
            continue;
          }
          const delivered = await deliver(message).catch(() => false);
          if (delivered) await consumer.ack(message);
          else {
            released += 1;
            await consumer.release(message);
          }
        }
        if (released > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
      } catch (error) {
        deps.log('outcomes: broker unavailable', { error: error instanceof Error ? error.message : String(error) });
        await consumer?.close().catch(() => undefined);
        consumer = undefined;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
    }
    await consumer?.close().catch(() => undefined);
    consumer = undefined;
  };

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}
