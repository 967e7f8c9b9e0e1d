import type { GroundTruth } from '#domain/generator.ts';
import type { SimulationResult } from './in-memory-pipeline.ts';

/** Judges a simulation against the generator's ground truth, leg by leg. */

export interface Disagreement {
  id: string;
  what: 'trade' | 'allocation' | 'settlement' | 'unexpected trade';
  expected: string | undefined;
  actual: string | undefined;
}

export interface TruthCheck {
  legs: number;
  agreeing: number;
  disagreements: Disagreement[];
}

export function checkAgainstTruth(result: SimulationResult, truth: GroundTruth): TruthCheck {
  const disagreements: Disagreement[] = [];
  let agreeing = 0;
  for (const [id, expected] of Object.entries(truth.legs)) {
    const before = disagreements.length;
    const compare = (what: Disagreement['what'], key: string, want: string | undefined, got: string | undefined) => {
      if (want !== got) disagreements.push({ id: key, what, expected: want, actual: got });
    };
    compare('trade', id, expected.status, result.trades[id]);
    for (const [key, status] of Object.entries(expected.allocations)) compare('allocation', key, status, result.allocations[key]);
    for (const [key, status] of Object.entries(expected.settlements)) compare('settlement', key, status, result.settlements[key]);
    const settlementPrefix = `${id}-`;
    for (const [key, status] of Object.entries(result.settlements)) {
      if (key.startsWith(settlementPrefix) && !(key in expected.settlements)) compare('settlement', key, undefined, status);
    }
    if (disagreements.length === before) agreeing += 1;
  }
  for (const [id, status] of Object.entries(result.trades)) {
    if (!(id in truth.legs)) disagreements.push({ id, what: 'unexpected trade', expected: undefined, actual: status });
  }
  return { legs: Object.keys(truth.legs).length, agreeing, disagreements };
}
