import type { RampSettings } from '#local/bench/pipeline-ramp.ts';

/**
 * How long each phase runs. `quick` fits in under five minutes on a 2-core machine, start-up (~15 s) and stop
 * included: a short ceiling, a doubling ramp of 15-second steps within 150 s, and 20 s at half the sustained rate.
 * `full` (about 15 minutes) gives every step three times as long, refines the rate between the last sustained and
 * the first unsustained step, and measures latency for a minute.
 */

export const PROFILE_NAMES = ['quick', 'full'] as const;
export type ProfileName = (typeof PROFILE_NAMES)[number];

export interface BenchProfile {
  readonly name: ProfileName;
  /** Each concurrency in turn: a warm-up, then `seconds` measured. The ramp starts near a quarter of the ceiling (its `startRate` is the fallback). */
  readonly ceiling: { readonly seconds: number; readonly warmupSeconds: number; readonly concurrencies: readonly number[] };
  readonly ramp: RampSettings;
  /** The latency run lasts `targetLegs / rate` seconds, within [minSeconds, maxSeconds]. */
  readonly latency: { readonly targetLegs: number; readonly minSeconds: number; readonly maxSeconds: number; readonly settleSeconds: number };
  /** Pause for replication and the ceiling's leftovers to settle before the ramp. */
  readonly quietSeconds: number;
}

export const PROFILES: Readonly<Record<ProfileName, BenchProfile>> = {
  quick: {
    name: 'quick',
    ceiling: { seconds: 3, warmupSeconds: 1, concurrencies: [16, 64, 256] },
    ramp: {
      plan: { startRate: 2, factor: 2, minRate: 0.5, maxSteps: 6, refineSteps: 0, refineRatio: 2 },
      stepSeconds: 20,
      settleSeconds: 20,
      drainSeconds: 20,
      budgetSeconds: 140,
      sampleMs: 2_000,
      firstSeed: 101,
    },
    latency: { targetLegs: 60, minSeconds: 20, maxSeconds: 30, settleSeconds: 25 },
    quietSeconds: 3,
  },
  full: {
    name: 'full',
    ceiling: { seconds: 8, warmupSeconds: 2, concurrencies: [16, 32, 64, 128, 256] },
    ramp: {
      plan: { startRate: 2, factor: 2, minRate: 0.5, maxSteps: 12, refineSteps: 3, refineRatio: 1.25 },
      stepSeconds: 45,
      settleSeconds: 30,
      drainSeconds: 60,
      budgetSeconds: 600,
      sampleMs: 2_000,
      firstSeed: 101,
    },
    latency: { targetLegs: 300, minSeconds: 60, maxSeconds: 120, settleSeconds: 60 },
    quietSeconds: 5,
  },
};

export const isProfileName = (name: string): name is ProfileName => (PROFILE_NAMES as readonly string[]).includes(name);

/** Seconds of the latency run at `rate` legs/s: long enough for `targetLegs`, within the profile's bounds. */
export function latencySeconds(profile: BenchProfile, rate: number): number {
  const { targetLegs, minSeconds, maxSeconds } = profile.latency;
  return Math.min(maxSeconds, Math.max(minSeconds, Math.ceil(targetLegs / rate)));
}
