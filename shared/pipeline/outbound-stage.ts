import type { OutboundRecord } from '#domain/pipeline-messages.ts';
import type { Forward } from '#shared/pipeline/forward.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import { localDestinations, type DestinationResolver } from '#shared/pipeline/outbound-destinations.ts';
import type { SafeStore } from '#shared/ports/safe-store.ts';

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
}

export { UnknownDestinationError } from '#shared/pipeline/outbound-destinations.ts';

export function outboundStep(deps: OutboundStageDependencies) {
  const now = deps.now ?? (() => new Date());
  const resolve = deps.destinations ?? localDestinations(deps.broker, deps.queues);
  return async (input: OutboundRecord): Promise<Forward[]> => {
    const { broker, queue } = await resolve(input.destination);
    const result = await deps.store.putIfAbsent({ ...input, queue, deliveries: 0 });
    if (!result.stored && Number(result.existing.deliveries ?? 0) > 0) return [];
    await broker.send(queue, input.body, { 'rotor-message-id': input.id });
    await deps.store.recordDelivery(input.id, now().toISOString());
    return [];
  };
}
