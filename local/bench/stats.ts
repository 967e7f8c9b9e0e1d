/** Small, pure arithmetic the bench shares: percentiles, trends and the ceiling's call schedule. */

/** Nearest-rank percentile (p in 0..100) of unsorted values; null for none. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export interface Percentiles {
  readonly p50: number | null;
  readonly p95: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export function percentiles(values: readonly number[]): Percentiles {
  return { p50: percentile(values, 50), p95: percentile(values, 95), p99: percentile(values, 99), max: percentile(values, 100) };
}

/** Least-squares slope of y over x (units of y per unit of x); 0 with fewer than two distinct x. */
export function slope(points: ReadonlyArray<{ x: number; y: number }>): number {
  const n = points.length;
  if (n < 2) return 0;
  const meanX = points.reduce((sum, point) => sum + point.x, 0) / n;
  const meanY = points.reduce((sum, point) => sum + point.y, 0) / n;
  let numerator = 0;
  let denominator = 0;
  for (const { x, y } of points) {
    numerator += (x - meanX) * (y - meanY);
    denominator += (x - meanX) ** 2;
  }
  return denominator === 0 ? 0 : numerator / denominator;
}

/**
 * Smooth weighted round robin: hands out kinds in proportion to their weights, evenly interleaved and
 * deterministic, so concurrent workers drawing from it run the mix in its proportions at every moment.
 */
export function weightedSchedule<K extends string>(weights: Readonly<Record<K, number>>): () => K {
  const entries = (Object.entries(weights) as Array<[K, number]>).filter(([, weight]) => weight > 0);
  if (entries.length === 0) throw new RangeError('a schedule needs at least one positive weight');
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  const credit = new Map<K, number>(entries.map(([kind]) => [kind, 0]));
  return () => {
    let best: K | undefined;
    for (const [kind, weight] of entries) {
      const value = credit.get(kind)! + weight;
      credit.set(kind, value);
      if (best === undefined || value > credit.get(best)!) best = kind;
    }
    credit.set(best!, credit.get(best!)! - total);
    return best!;
  };
}

/**
 * Legs per second a bare run of the mix achieved: every call completed, over the calls one leg needs. The schedule
 * hands calls out in the mix's proportions, so the kinds complete in those proportions too (a kind needed once in
 * fifty legs may not complete at all in a short run, which must not make the run worth nothing). Kinds with no
 * weight are ignored.
 */
export function legsPerSecond<K extends string>(callsPerLeg: Readonly<Record<K, number>>, completed: Readonly<Partial<Record<K, number>>>, seconds: number): number {
  const kinds = (Object.entries(callsPerLeg) as Array<[K, number]>).filter(([, perLeg]) => perLeg > 0);
  const perLeg = kinds.reduce((sum, [, calls]) => sum + calls, 0);
  const done = kinds.reduce((sum, [kind]) => sum + (completed[kind] ?? 0), 0);
  if (perLeg === 0 || !(seconds > 0)) return 0;
  return done / perLeg / seconds;
}

/** Counts per fixed-width bucket of `width` starting at `start`; for charts. */
export function histogram(values: readonly number[], start: number, width: number, buckets: number): number[] {
  const counts = new Array<number>(buckets).fill(0);
  for (const value of values) {
    const index = Math.floor((value - start) / width);
    if (index >= 0 && index < buckets) counts[index]! += 1;
    else if (index >= buckets) counts[buckets - 1]! += 1;
  }
  return counts;
}

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;
