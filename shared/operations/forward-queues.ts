import { z } from 'zod';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import { AppName, type Topology } from '#shared/topology/schema.ts';
import { appResources, type ResourceNames } from './app-resources.ts';

/**
 * A rotation that rolls back has already moved the edge once: clients sent to the target, whose `queue` control held
 * their messages in its broker. Putting routing back on the source would strand them there until the target is next
 * made active; this moves every message waiting on the app's inbound queues here to the same queues in the region
 * that serves the app again. Each message is acknowledged here only after the other broker has taken it, so a crash
 * in between sends it twice at worst — and the gateway there records a body once (its message id is the body's).
 */

export const ForwardQueuesRequest = z.strictObject({
  check: z.literal('forward-queues'),
  app: AppName,
  runId: z.string().min(1),
  toRegion: z.string().min(1),
});
export type ForwardQueuesRequest = z.infer<typeof ForwardQueuesRequest>;

export interface QueuesForwarded {
  readonly check: 'forward-queues';
  readonly app: AppName;
  readonly region: string;
  readonly toRegion: string;
  /** Manifest queue name → messages moved. */
  readonly forwarded: Record<string, number>;
}

export class UnknownRegionBrokerError extends Error {
  override readonly name = 'UnknownRegionBrokerError';
}

export interface ForwardQueuesDependencies {
  readonly topology: Pick<Topology, 'functions' | 'tables' | 'databases' | 'queues'>;
  readonly names: ResourceNames;
  readonly region: string;
  readonly broker: Pick<MessageBroker, 'consume' | 'queueDepth'>;
  /** How long to keep trying while the queue still counts messages another consumer holds (30 s by default). */
  readonly settleMs?: number;
  /** The broker of another region and the prefix its queue names carry; undefined for a region it does not know. */
  readonly brokerOf: (region: string) => { broker: Pick<MessageBroker, 'send'>; queuePrefix: string } | undefined;
}

const BATCH = 100;
const QUIET_MS = 300;
const SETTLE_MS = 30_000;

export async function forwardQueuedMessages(request: ForwardQueuesRequest, deps: ForwardQueuesDependencies): Promise<QueuesForwarded> {
  const target = deps.brokerOf(request.toRegion);
  if (!target) throw new UnknownRegionBrokerError(`no broker known for ${request.toRegion}; EDGE_BROKERS names every region's`);
  const { inboundQueues } = appResources(deps.topology, request.app);
  const forwarded: Record<string, number> = {};
  for (const queue of inboundQueues) {
    const consumer = await deps.broker.consume(deps.names('queue', queue), { prefetch: BATCH });
    let moved = 0;
    const giveUpAt = Date.now() + (deps.settleMs ?? SETTLE_MS);
    try {
      for (;;) {
        const messages = await consumer.receive({ maxMessages: BATCH, waitMs: QUIET_MS });
        // Quiet is not empty: a consumer that held messages (a gateway before it saw its control Off) gives them back.
        if (messages.length === 0 && ((await deps.broker.queueDepth(deps.names('queue', queue))) === 0 || Date.now() >= giveUpAt)) break;
        for (const message of messages) {
          await target.broker.send(`${target.queuePrefix}${queue}`, message.body, message.headers);
          await consumer.ack(message);
          moved++;
        }
      }
    } finally {
      await consumer.close();
    }
    forwarded[queue] = moved;
  }
  return { check: 'forward-queues', app: request.app, region: deps.region, toRegion: request.toRegion, forwarded };
}
