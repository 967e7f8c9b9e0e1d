import { describe, expect, it } from 'vitest';
import { TradeLeg } from '#domain/trade-leg.ts';
import { simulate } from '#shared/simulation/in-memory-pipeline.ts';
import { judge, responseId, resultId, type Observed } from '#shared/verification/judge.ts';
import { aBrokerLeg, anImLeg, bodyOf, numbered } from '#tests/factories/trade-legs.ts';

/** A matched, settled trade: what every store holds once both legs went all the way. */
async function settledTrade() {
  const legs = [anImLeg(), aBrokerLeg()];
  const expected = await simulate(numbered(legs));
  const sent = legs.map((leg, index) => ({ messageId: `m${index}`, tradeId: TradeLeg.id(leg) }));
  const tradeIds = sent.map((leg) => leg.tradeId);
  const settlementIds = Object.keys(expected.settlements);
  const observed: Observed = {
    acked: new Set(['m0', 'm1']),
    tradesInDatabase: new Map(tradeIds.map((id) => [id, { status: 'SETTLED', allocations: { 1: 'SETTLED', 2: 'SETTLED' } }])),
    tradesInStore: new Map(tradeIds.map((id) => [id, 'SETTLED'])),
    deliveries: new Map([...tradeIds.map((id) => [responseId(id, 'SETTLED'), 1] as const), ...settlementIds.map((id) => [resultId(id, 'SETTLED'), 1] as const)]),
    settlementsInDatabase: new Map(settlementIds.map((id) => [id, 'SETTLED'])),
    settlementsInStore: new Map(settlementIds.map((id) => [id, 'SETTLED'])),
    ledgerBalanced: true,
  };
  return { sent, expected, observed, tradeIds, settlementIds };
}

describe('verify judge', () => {
  it('is ok when every acked leg reached its expected state everywhere, once', async () => {
    // Prepare
    const { sent, expected, observed } = await settledTrade();

    // Act
    const report = judge(sent, expected, observed);

    // Assess
    expect(report).toMatchObject({ ok: true, legs_sent: 2, legs_acked: 2, lost: 0, duplicates: 0, unexpected: 0, ledger_balanced: true });
  });

  it('counts a leg whose settlement result never went out as lost, and a second delivery as a duplicate', async () => {
    // Prepare
    const { sent, expected, observed, tradeIds, settlementIds } = await settledTrade();
    const deliveries = new Map(observed.deliveries);
    deliveries.delete(resultId(settlementIds[0]!, 'SETTLED'));
    deliveries.set(responseId(tradeIds[1]!, 'SETTLED'), 2);

    // Act
    const report = judge(sent, expected, { ...observed, deliveries });

    // Assess
    expect(report).toMatchObject({ ok: false, lost: 1, duplicates: 1, unexpected: 0 });
    expect(report.examples.duplicates).toEqual([responseId(tradeIds[1]!, 'SETTLED')]);
  });

  it('calls a state that can no longer become the expected one unexpected, and an unacknowledged leg not ok', async () => {
    // Prepare
    const { sent, expected, observed, tradeIds } = await settledTrade();
    const tradesInDatabase = new Map(observed.tradesInDatabase);
    tradesInDatabase.set(tradeIds[0]!, { status: 'MISMATCHED', allocations: { 1: 'UNSETTLED', 2: 'UNSETTLED' } });

    // Act
    const wrong = judge(sent, expected, { ...observed, tradesInDatabase });
    const unacked = judge(sent, expected, { ...observed, acked: new Set(['m0']) });

    // Assess
    expect(wrong).toMatchObject({ ok: false, unexpected: 1 });
    expect(unacked).toMatchObject({ ok: false, legs_sent: 2, legs_acked: 1, lost: 0 });
  });

  it('keeps an unmatched leg that is still on its way apart from one that arrived', async () => {
    // Prepare
    const leg = anImLeg({ tradeID: 'LONELY1' });
    const expected = await simulate([{ index: 0, body: bodyOf(leg) }]);
    const tradeId = TradeLeg.id(leg);
    const base: Observed = {
      acked: new Set(['m0']),
      tradesInDatabase: new Map(),
      tradesInStore: new Map(),
      deliveries: new Map(),
      settlementsInDatabase: new Map(),
      settlementsInStore: new Map(),
      ledgerBalanced: true,
    };

    // Act
    const onItsWay = judge([{ messageId: 'm0', tradeId }], expected, base);
    const arrived = judge([{ messageId: 'm0', tradeId }], expected, {
      ...base,
      tradesInDatabase: new Map([[tradeId, { status: 'UNMATCHED', allocations: { 1: 'UNSETTLED', 2: 'UNSETTLED' } }]]),
      tradesInStore: new Map([[tradeId, 'UNMATCHED']]),
      deliveries: new Map([[responseId(tradeId, 'UNMATCHED'), 1]]),
    });

    // Assess
    expect(onItsWay).toMatchObject({ ok: false, lost: 1 });
    expect(arrived).toMatchObject({ ok: true, lost: 0 });
  });
});
