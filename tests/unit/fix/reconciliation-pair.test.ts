import { describe, expect, it } from 'vitest';
import { legBody } from '#shared/fix/allocation-instruction.ts';
import { MessageId } from '#shared/pipeline/message-id.ts';
import { FIX_GATEWAY_PAIR } from '#shared/reconciliation/fix-gateway-pair.ts';
import { manifestNames } from '#shared/reconciliation/names.ts';
import { reconciliationGraph } from '#shared/reconciliation/pair-graph.ts';

const body = legBody({
  senderID: 'QAINS012', imID: 'QAINS012', brokerID: 'QABRO010', tradeID: 'T1', security: 'AMZN', transactionIndicator: 'B', price: '12.50', quantity: 10,
  tradeDate: '2026-11-23', settlementDate: '2026-11-24', allocations: [{ allocationID: 1, quantity: 10, account: 'ACC1' }],
});
const leg = { id: 'fix:IMQAINS012:A1', kind: 'fix-leg', senderCompId: 'IMQAINS012', allocId: 'A1', tradeId: 'QAINS012-QAINS012-QABRO010-T1', body, epoch: 3, forwarded: true };

describe('reconciliation: FIX store → TM in-gateway store', () => {
  const names = { ...manifestNames(), targets: { ...manifestNames().targets, tradesQueue: 'us-east-1.tm.trades' } };
  const pair = reconciliationGraph('trade-matching', names).find((candidate) => candidate.name === FIX_GATEWAY_PAIR)!;

  it('comes first in the trade matching graph and is absent from settlement', () => {
    // Assess
    expect(reconciliationGraph('trade-matching', names)[0]?.name).toBe(FIX_GATEWAY_PAIR);
    expect(reconciliationGraph('settlement', names).map((candidate) => candidate.name)).not.toContain(FIX_GATEWAY_PAIR);
  });

  it('expects a forwarded leg in the in-gateway store under the id the inbound gateway gives its body', () => {
    // Act
    const [expectation] = pair.expected(leg);

    // Assess
    expect(expectation?.anyOf).toHaveLength(1);
    expect(expectation?.anyOf[0]).toMatchObject({ table: 'tm-inbound-gateway-store', id: MessageId.of('us-east-1.tm.trades', body) });
  });

  it('leaves out legs not yet forwarded and items that are not legs', () => {
    // Act / Assess
    expect(pair.includes!(leg)).toBe(true);
    expect(pair.includes!({ ...leg, forwarded: false })).toBe(false);
    expect(pair.includes!({ id: 'watermark:1', kind: 'watermark' })).toBe(false);
  });

  it('replays the stored body, byte for byte, to tm.trades as the region names it', () => {
    // Act / Assess
    expect(pair.replay(leg)).toEqual({ kind: 'queue', queue: 'us-east-1.tm.trades', body });
  });
});
