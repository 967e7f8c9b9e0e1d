import { MessageId } from '#shared/pipeline/message-id.ts';
import { ReplayTargetsMissingError } from './errors.ts';
import type { ReconciliationNames } from './names.ts';
import type { PairSpec } from './pair-graph.ts';

/**
 * FIX store → TM in-gateway store (docs/fix.md): every leg the FIX gateway acknowledged and forwarded must be in
 * the TM inbound gateway's store under the id that gateway gives its body on `tm.trades`. A leg stored and not yet
 * forwarded is the FIX gateway's own to re-drive, so it is left out. Replay sends the stored body to `tm.trades`
 * again; it is byte for byte the body forwarded, so the inbound gateway records it once whatever happens twice.
 */
export const FIX_GATEWAY_PAIR = 'tm:fix-gateway→inbound-gateway';

export function fixGatewayPair(names: ReconciliationNames): PairSpec {
  const stores = names.stores['trade-matching'];
  const source = stores.fixGateway!;
  return {
    name: FIX_GATEWAY_PAIR,
    app: 'trade-matching',
    source: { kind: 'table', table: source },
    sourceName: source,
    destinationName: stores.inboundGateway,
    includes: (item) => item.kind === 'fix-leg' && item.forwarded === true && typeof item.body === 'string',
    expected: (item) => [{ anyOf: [{ table: stores.inboundGateway, id: MessageId.of('tm.trades', String(item.body)), matches: () => true }] }],
    replay(item) {
      const queue = names.targets?.tradesQueue;
      if (!queue) throw new ReplayTargetsMissingError(FIX_GATEWAY_PAIR);
      return typeof item.body === 'string' ? { kind: 'queue', queue, body: item.body } : undefined;
    },
  };
}
