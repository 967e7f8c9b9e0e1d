import { describe, expect, it } from 'vitest';
import { latencyFigures } from '#local/bench/latency.ts';
import type { TrackedLeg } from '#local/bench/twin-probe.ts';

const leg = (n: number, expected: string): TrackedLeg => ({ messageId: `m${n}`, tradeId: `t${n}`, expected, terminalId: `response:t${n}:${expected}` });

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
});
