import type { OutboundRecord } from '#domain/pipeline-messages.ts';
import type { Forward } from '#shared/pipeline/forward.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import { localDestinations, type DestinationResolver } from '#shared/pipeline/outbound-destinations.ts';
import { SafeStoreUnavailableError, type SafeStore } from '#shared/ports/safe-store.ts';

/**
 * The outbound gateway (DESIGN §2): records each message in its safe store, sends it to its queue, and records the
 * delivery. A message the store shows delivered is not sent again. A crash between the send and the record of it
 * sends the message once more on redelivery — the one duplicate no broker transaction can rule out — and the
 * store's delivery count then shows it (`rotor verify` counts it). Receivers key what they receive by content, so
 * it takes no second effect there.
 */

export interface OutboundStageDependencies {
  readonly store: SafeStore;
  readonly broker: MessageBroker;
  /** The gateway's destinations: `RESPONSE_QUEUE` etc. → queue name. */
  readonly queues: Readonly<Partial<Record<OutboundRecord['destination'], string>>>;
  readonly now?: () => Date;
  /** Where each destination is now (outbound-destinations.ts); default: every queue on `broker`. */
  readonly destinations?: DestinationResolver;
  /** Waits between attempts to record a delivery the store refused for a while (default: 0.25 s doubling, about 8 s in all). */
  readonly deliveryRecordBackoffMs?: readonly number[];
}

/**
 * Once a message is sent, failing to record it would send it again on redelivery. A store that throttles or is
 * briefly unreachable is waited out here, within the invocation, instead.
 */
const DELIVERY_RECORD_BACKOFF_MS = [250, 500, 1_000, 2_000, 2_000, 2_000] as const;

export { UnknownDestinationError } from '#shared/pipeline/outbound-destinations.ts';

export function outboundStep(deps: OutboundStageDependencies) {
  const now = deps.now ?? (() => new Date());
  const resolve = deps.destinations ?? localDestinations(deps.broker, deps.queues);
  return async (input: OutboundRecord): Promise<Forward[]> => {
    const { broker, queue } = await resolve(input.destination);
    const result = await deps.store.putIfAbsent({ ...input, queue, deliveries: 0 });
    if (!result.stored && Number(result.existing.deliveries ?? 0) > 0) return [];
    await broker.send(queue, input.body, { 'rotor-message-id': input.id });
    await recordDeliveryPatiently(deps.store, input.id, now().toISOString(), deps.deliveryRecordBackoffMs ?? DELIVERY_RECORD_BACKOFF_MS);
    return [];
  };
}

async function recordDeliveryPatiently(store: SafeStore, id: string, at: string, backoffMs: readonly number[]): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await store.recordDelivery(id, at);
      return;
    } catch (error) {
      if (!(error instanceof SafeStoreUnavailableError) || attempt >= backoffMs.length) throw error;
      await new Promise((resolve) => setTimeout(resolve, backoffMs[attempt]));
    }
  }
}
