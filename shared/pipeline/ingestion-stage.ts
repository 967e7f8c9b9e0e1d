import { ingestSettlementMessage, ingestTradeMatchingMessage } from '#domain/ingestion.ts';
import type { InboundRecord, MatchingInput, NackRecord } from '#domain/pipeline-messages.ts';
import { Settlement } from '#domain/settlement.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import type { Forward } from '#shared/pipeline/forward.ts';
import type { SafeStore } from '#shared/ports/safe-store.ts';
import type { AppName } from '#shared/topology/schema.ts';

/**
 * Ingestion (DESIGN §2): parses and validates what the gateway recorded, records the verdict in the ingestion safe
 * store, and forwards a valid record to matching or a NACK straight to egress, which answers it on the out queue.
 */

export interface IngestionStageDependencies {
  readonly app: AppName;
  readonly store: SafeStore;
  readonly matchingStream: string;
  readonly nackStream: string;
}

/** The trade id a matching input is about. */
export function tradeIdOf(record: MatchingInput): string {
  switch (record.kind) {
    case 'trade-leg':
      return TradeLeg.id(record.leg);
    case 'settlement-result':
      return TradeLeg.id(record.result);
    case 'settlement':
      return TradeLeg.id(record.settlement);
  }
}

function partitionKeyOf(record: MatchingInput): string {
  switch (record.kind) {
    case 'trade-leg':
      return TradeLeg.partitionKey(record.leg);
    case 'settlement-result':
      return TradeLeg.partitionKey(record.result);
    case 'settlement':
      return Settlement.partitionKey(record.settlement);
  }
}

export function ingestionStep(deps: IngestionStageDependencies) {
  return async (input: InboundRecord): Promise<Forward[]> => {
    const decision = deps.app === 'trade-matching' ? ingestTradeMatchingMessage(input) : ingestSettlementMessage(input);
    const common = { id: input.id, queue: input.queue, receivedAt: input.receivedAt };
    if (decision.status === 'ACCEPTED') {
      const { record } = decision;
      await deps.store.putIfAbsent({ ...common, status: 'ACCEPTED', kind: record.kind, tradeId: tradeIdOf(record) });
      return [{ stream: deps.matchingStream, partitionKey: partitionKeyOf(record), record }];
    }
    const { nack } = decision;
    await deps.store.putIfAbsent({ ...common, status: 'NACKED', ...(nack.tradeId ? { tradeId: nack.tradeId } : {}), nack });
    const record: NackRecord = { kind: 'nack', id: `nack:${input.id}`, messageId: input.id, queue: input.queue, nack };
    return [{ stream: deps.nackStream, partitionKey: input.id, record }];
  };
}
