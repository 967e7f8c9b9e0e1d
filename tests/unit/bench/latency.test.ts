import { describe, expect, it } from 'vitest';
import { latencyFigures } from '#local/bench/latency.ts';
import type { TrackedLeg } from '#local/bench/twin-probe.ts';

const leg = (n: number, expected: string, pairKey = `p${n}`): TrackedLeg => ({ messageId: `m${n}`, tradeId: `t${n}`, pairKey, expected, terminalId: `response:t${n}:${expected}` });

describe('latency figures', () => {
  it('measures acknowledged → terminal per leg, by final status, and counts the unfinished apart', () => {
    // Prepare
    const legs = [leg(1, 'SETTLED'), leg(2, 'SETTLED'), leg(3, 'UNMATCHED'), leg(4, 'MISMATCHED'), leg(5, 'SETTLED')];
    const acknowledged = new Map([['m1', 1_000], ['m2', 1_000], ['m3', 2_000], ['m4', 2_000]]);
    const terminal = new Map([['m1', 4_000], ['m2', 2_000], ['m3', 2_300], ['m5', 9_000]]);

    // Act
    const figures = latencyFigures(legs, acknowledged, terminal);

    // Assess
    expect(figures).toMatchObject({ legs: 5, terminal: 3, unfinished: 1, p50_ms: 1_000, p99_ms: 3_000, max_ms: 3_000 });
    expect(figures.by_status).toEqual({ SETTLED: { legs: 2, p50_ms: 1_000, p99_ms: 3_000 }, UNMATCHED: { legs: 1, p50_ms: 300, p99_ms: 300 } });
    expect(figures.samples_ms.sort((a, b) => a - b)).toEqual([300, 1_000, 3_000]);
  });

  it('times both legs of a trade from the later acknowledgement: a leg cannot match before its counterpart arrives', () => {
    // Prepare
    const legs = [leg(1, 'MATCHED', 'pair'), leg(2, 'MATCHED', 'pair'), leg(3, 'UNMATCHED')];
    const acknowledged = new Map([['m1', 1_000], ['m2', 15_000], ['m3', 1_000]]);
    const terminal = new Map([['m1', 15_400], ['m2', 15_500], ['m3', 1_200]]);

    // Act
    const figures = latencyFigures(legs, acknowledged, terminal);

    // Assess
    expect(figures.samples_ms).toEqual([400, 500, 200]);
  });
});
