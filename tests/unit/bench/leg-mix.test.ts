import { describe, expect, it } from 'vitest';
import { generateRun } from '#domain/generator.ts';
import { idempotentStagesInManifest, STAGE_CALLS, traceLegMix } from '#local/bench/leg-mix.ts';

describe('leg mix, counted from the code', () => {
  it('sends every settlement of a matched leg round the settlement app and back', async () => {
    // Prepare
    const { legs, truth } = generateRun({ pairs: 30, seed: 7 });
    const settlements = Object.values(truth.legs).reduce((sum, leg) => sum + Object.keys(leg.settlements).length, 0);

    // Act
    const mix = await traceLegMix({ pairs: 30, seed: 7 });

    // Assess
    const perLeg = (n: number) => n / legs.length;
    expect(mix.legs).toBe(legs.length);
    expect(mix.recordsPerLeg['sm-inbound-gateway']).toBeCloseTo(perLeg(settlements));
    // Trade matching takes every leg plus every settlement's result.
    expect(mix.recordsPerLeg['tm-inbound-gateway']).toBeCloseTo(perLeg(legs.length + settlements));
    expect(mix.recordsPerLeg['tm-matching']).toBeCloseTo(mix.recordsPerLeg['tm-inbound-gateway']!);
    expect(mix.perLeg.brokerConsumeAcks).toBeCloseTo(perLeg(legs.length + 2 * settlements));
    expect(mix.perLeg.sqlTransactions).toEqual({ 'tm-db': mix.recordsPerLeg['tm-matching'], 'sm-db': mix.recordsPerLeg['sm-matching'] });
  });

  it('counts every record forwarded as read once downstream, and every outbound record as sent', async () => {
    // Act
    const mix = await traceLegMix({ pairs: 30, seed: 7 });

    // Assess
    expect(mix.perLeg.kinesisPutRecords).toBeCloseTo(mix.perLeg.kinesisGetRecords);
    const outbound = mix.recordsPerLeg['tm-outbound-gateway']! + mix.recordsPerLeg['sm-outbound-gateway']!;
    expect(mix.perLeg.brokerSends).toBeCloseTo(1 + outbound); // the client's leg, then every outbound message
    // Each outbound record: its safe-store write and its delivery count, plus Powertools' two idempotency writes.
    expect(mix.perLeg.dynamodbUpdateItem).toBeCloseTo(2 * outbound);
    expect(mix.perLeg.avgRecordBytes).toBeGreaterThan(100);
  });

  it('says idempotency where the manifest gives a stage an idempotency table, and nowhere else', () => {
    // Act
    const inManifest = idempotentStagesInManifest();

    // Assess
    const fromTable = Object.entries(STAGE_CALLS).filter(([, calls]) => calls.idempotency).map(([stage]) => stage);
    expect([...new Set(inManifest.map((fn) => fn.replace(/^(tm|sm)-/, '')))].sort()).toEqual(fromTable.sort());
  });
});
