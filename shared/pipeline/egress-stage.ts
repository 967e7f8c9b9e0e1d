import { settlementEgress, tradeMatchingEgress } from '#domain/egress.ts';
import type { EgressInput } from '#domain/pipeline-messages.ts';
import type { Forward } from '#shared/pipeline/forward.ts';
import type { SafeStore } from '#shared/ports/safe-store.ts';
import type { AppName } from '#shared/topology/schema.ts';

/**
 * Egress (DESIGN §2): turns matching's events and ingestion's NACKs into the messages the outbound gateway sends,
 * records each in the egress safe store under its own id, then forwards it.
 */

export interface EgressStageDependencies {
  readonly app: AppName;
  readonly store: SafeStore;
  readonly outboundStream: string;
}

export function egressStep(deps: EgressStageDependencies) {
  const messagesFor = deps.app === 'trade-matching' ? tradeMatchingEgress : settlementEgress;
  return async (input: EgressInput): Promise<Forward[]> => {
    const messages = messagesFor(input);
    // Independent items: written side by side, all before anything is forwarded.
    await Promise.all(messages.map((message) => deps.store.putIfAbsent({ ...message, sourceId: input.id })));
    return messages.map((record) => ({ stream: deps.outboundStream, partitionKey: record.tradeId ?? record.id, record }));
  };
}
