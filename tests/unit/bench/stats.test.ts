import { describe, expect, it } from 'vitest';
import { histogram, legsPerSecond, percentile, percentiles, slope, weightedSchedule } from '#local/bench/stats.ts';

describe('bench arithmetic', () => {
  it('takes nearest-rank percentiles of unsorted values', () => {
    // Prepare
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1

    // Act
    const figures = percentiles(values);

    // Assess
    expect(figures).toEqual({ p50: 50, p95: 95, p99: 99, max: 100 });
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
    expect(() => percentile([1], 101)).toThrow(RangeError);
  });

  it('fits a least-squares slope, flat for a constant or a single point', () => {
    // Prepare
    const rising = [0, 1, 2, 3].map((x) => ({ x, y: 10 + 250 * x }));

    // Act / Assess
    expect(slope(rising)).toBeCloseTo(250);
    expect(slope([0, 1, 2].map((x) => ({ x, y: 4 })))).toBe(0);
    expect(slope([{ x: 1, y: 9 }])).toBe(0);
  });

  it('schedules calls in the proportions of their weights, interleaved', () => {
    // Prepare
    const next = weightedSchedule({ put: 3, get: 1, send: 0.5 });

    // Act
    const drawn = Array.from({ length: 900 }, next);

    // Assess
    const count = (kind: string) => drawn.filter((k) => k === kind).length;
    expect(count('put')).toBe(600);
    expect(count('get')).toBe(200);
    expect(count('send')).toBe(100);
    expect(drawn.slice(0, 4)).toContain('get');
    expect(() => weightedSchedule({ none: 0 })).toThrow(RangeError);
  });

  it('counts legs as every call completed over the calls one leg needs, even when a rare call never came up', () => {
    // Prepare
    const perLeg = { put: 10, sql: 2, get: 0.01, unused: 0 };

    // Act
    const rate = legsPerSecond(perLeg, { put: 1_000, sql: 200, get: 0 }, 5);

    // Assess
    expect(rate).toBeCloseTo(1_200 / 12.01 / 5);
    expect(legsPerSecond({ put: 0 }, { put: 5 }, 5)).toBe(0);
  });

  it('buckets values, the last bucket taking everything beyond', () => {
    expect(histogram([0, 4, 5, 9, 10, 99, -1], 0, 5, 2)).toEqual([2, 4]);
  });
});
