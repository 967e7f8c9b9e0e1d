import { round, slope } from '#local/bench/stats.ts';

/**
 * When is a rate sustained? The pipeline keeps up with R legs/s when its backlog stays bounded over the
 * measurement window: the generator really sent at R, the legs it sent reach their terminal state soon after it
 * stopped, and no backlog kept growing *and* took long to drain. Growth alone does not condemn a step: load builds
 * up during a window (pairs match, and their settlements go round the settlement app, only once both legs
 * arrived), and one record retried with backoff makes its mapping's iterator age climb for seconds at any rate. A
 * backlog that really outgrew the pipeline still needs long to drain once the generator stops. Pure, so the
 * decision is tested on samples.
 */

export interface BacklogSample {
  /** Seconds since the step began. */
  readonly t: number;
  /** Iterator ages (each mapping's oldest shard) summed over every Kinesis mapping of the active regions. */
  readonly iteratorAgeMs: number;
  /** The largest of those ages: one stage's backlog. */
  readonly maxIteratorAgeMs: number;
  /** Messages waiting (ready plus unacknowledged) over every MQ mapping of the active regions. */
  readonly queueDepth: number;
}

export interface StepObservation {
  /** Legs per second asked of the generator. */
  readonly rate: number;
  /** Seconds asked of the generator. */
  readonly seconds: number;
  readonly legsSent: number;
  /** How long the generator took to send them. */
  readonly sendSeconds: number;
  /** Samples from the start of the step to the end of the settle wait. */
  readonly samples: readonly BacklogSample[];
  /** Legs sent that reached their terminal state by the end of the settle wait. */
  readonly terminal: number;
  /** Seconds waited after the generator returned. */
  readonly settleSeconds: number;
  /** Seconds from the generator's return until 98% of its legs were terminal; null when they never were. */
  readonly drainSeconds: number | null;
}

export interface StepVerdict {
  readonly bounded: boolean;
  /** Why not, one line each; empty when bounded. */
  readonly reasons: string[];
  readonly sendRate: number;
  readonly terminalFraction: number;
  /** Peaks of the summed iterator ages, of the largest single one, and of the summed queue depths. */
  readonly peakIteratorAgeMs: number;
  readonly peakMaxIteratorAgeMs: number;
  readonly peakQueueDepth: number;
  /** Growth over the second half of the send window: ms of iterator age per second, messages per second. */
  readonly iteratorAgeGrowth: number;
  readonly queueDepthGrowth: number;
  /** Growth seen during the window, whether or not it condemned the step. */
  readonly growth: string[];
}

export const LIMITS = {
  /** The generator must send at least this share of the legs asked for, at this share of the rate. */
  minSendShare: 0.9,
  /**
   * One mapping's iterator age growing faster than this (ms per s): that stage falls at least 20% behind its input.
   * Judged on the largest age, not the sum: while the pipeline fills, more and more mappings get records, and the
   * sum grows even at a rate every stage keeps up with.
   */
  maxIteratorAgeGrowth: 200,
  /** ... unless the age stays below this anyway (a poll interval and a retry backoff alone give a few seconds). */
  iteratorAgeFloorMs: 5_000,
  /** Queue depth growing faster than this share of the rate, past one second's worth of legs. */
  maxQueueDepthGrowthShare: 0.1,
  /** Share of the legs sent that must be terminal by the end of the settle wait. */
  minTerminalFraction: 0.98,
  /** A growing backlog condemns the step when draining it took longer than this share of the window. */
  slowDrainShareOfWindow: 0.5,
} as const;

export function judgeStep(step: StepObservation, limits = LIMITS): StepVerdict {
  const reasons: string[] = [];
  const sendRate = step.sendSeconds > 0 ? step.legsSent / step.sendSeconds : 0;
  const asked = Math.round(step.rate * step.seconds);
  if (step.legsSent < limits.minSendShare * asked || sendRate < limits.minSendShare * step.rate) {
    reasons.push(`the generator sent ${step.legsSent} of ${asked} legs at ${round(sendRate)} legs/s`);
  }

  const window = step.samples.filter((sample) => sample.t <= step.sendSeconds);
  const secondHalf = window.filter((sample) => sample.t >= step.sendSeconds / 2);
  const ageGrowth = slope(secondHalf.map((sample) => ({ x: sample.t, y: sample.maxIteratorAgeMs })));
  const depthGrowth = slope(secondHalf.map((sample) => ({ x: sample.t, y: sample.queueDepth })));
  const last = window.at(-1);
  const growth: string[] = [];
  if (last && ageGrowth > limits.maxIteratorAgeGrowth && last.maxIteratorAgeMs > limits.iteratorAgeFloorMs) {
    growth.push(`a Kinesis iterator age grew ${Math.round(ageGrowth)} ms/s to ${last.maxIteratorAgeMs} ms`);
  }
  if (last && depthGrowth > Math.max(1, limits.maxQueueDepthGrowthShare * step.rate) && last.queueDepth > step.rate) {
    growth.push(`MQ queue depth grew ${round(depthGrowth)} messages/s to ${last.queueDepth}`);
  }
  const slowDrain = step.drainSeconds !== null && step.drainSeconds > limits.slowDrainShareOfWindow * step.seconds;
  if (growth.length > 0 && slowDrain) reasons.push(...growth.map((line) => `${line}, and draining took ${round(step.drainSeconds!)} s`));

  const terminalFraction = step.legsSent === 0 ? 0 : step.terminal / step.legsSent;
  if (terminalFraction < limits.minTerminalFraction) {
    reasons.push(`${step.terminal} of ${step.legsSent} legs terminal ${round(step.settleSeconds)} s after the generator stopped`);
  }
  return {
    bounded: reasons.length === 0,
    reasons,
    sendRate: round(sendRate, 2),
    terminalFraction: round(terminalFraction, 3),
    peakIteratorAgeMs: Math.max(0, ...step.samples.map((sample) => sample.iteratorAgeMs)),
    peakMaxIteratorAgeMs: Math.max(0, ...step.samples.map((sample) => sample.maxIteratorAgeMs)),
    peakQueueDepth: Math.max(0, ...step.samples.map((sample) => sample.queueDepth)),
    iteratorAgeGrowth: Math.round(ageGrowth),
    queueDepthGrowth: round(depthGrowth, 2),
    growth,
  };
}

export interface RampPlan {
  readonly startRate: number;
  /** Multiplier between steps while every step so far was sustained (divisor while none was). */
  readonly factor: number;
  readonly minRate: number;
  readonly maxSteps: number;
  /** Steps between the highest sustained and the lowest unsustained rate once both are known (geometric middle). */
  readonly refineSteps: number;
  /** Stop refining when unsustained / sustained is at most this. */
  readonly refineRatio: number;
}

export interface RampStep {
  readonly rate: number;
  readonly bounded: boolean;
  /** Legs per second the generator really sent. */
  readonly sendRate: number;
}

/** The next rate to try after `history`, or undefined when the ramp is done. */
export function nextRate(history: readonly RampStep[], plan: RampPlan): number | undefined {
  if (history.length === 0) return plan.startRate;
  if (history.length >= plan.maxSteps) return undefined;
  const { good, bad, bracketedAt } = bracket(history);
  if (bad === undefined) return round(good! * plan.factor, 2);
  if (good === undefined) {
    const lower = round(bad / plan.factor, 2);
    return lower >= plan.minRate ? lower : undefined;
  }
  const refinements = history.length - 1 - bracketedAt;
  if (bad / good <= plan.refineRatio || refinements >= plan.refineSteps) return undefined;
  return round(Math.sqrt(good * bad), 2);
}

/**
 * The highest sustained rate, the lowest unsustained rate above it, and the step at which both were first known.
 * An unsustained rate at or below a sustained one is noise and bounds nothing.
 */
function bracket(history: readonly RampStep[]): { good?: number; bad?: number; bracketedAt: number } {
  const boundsOf = (steps: readonly RampStep[]) => {
    const good = steps.filter((step) => step.bounded).reduce<number | undefined>((max, step) => Math.max(max ?? 0, step.rate), undefined);
    const bad = steps.filter((step) => !step.bounded && (good === undefined || step.rate > good)).reduce<number | undefined>((min, step) => Math.min(min ?? Infinity, step.rate), undefined);
    return { good, bad };
  };
  const bracketedAt = history.findIndex((_, index) => {
    const { good, bad } = boundsOf(history.slice(0, index + 1));
    return good !== undefined && bad !== undefined;
  });
  const { good, bad } = boundsOf(history);
  return { ...(good === undefined ? {} : { good }), ...(bad === undefined ? {} : { bad }), bracketedAt };
}

/** The highest sustained step: what the pipeline carries, as the legs/s the generator really sent. */
export function sustainedRate(history: readonly RampStep[]): RampStep | undefined {
  return history.filter((step) => step.bounded).reduce<RampStep | undefined>((best, step) => (!best || step.rate > best.rate ? step : best), undefined);
}

/** Where the ramp starts: a power of two near a quarter of the ceiling (at least 1, and 2 without a ceiling). */
export function startRateFor(ceilingLegsPerSecond: number | null): number {
  if (ceilingLegsPerSecond === null || !(ceilingLegsPerSecond > 0)) return 2;
  return Math.max(1, 2 ** Math.floor(Math.log2(ceilingLegsPerSecond / 4)));
}

/**
 * Seconds from `stoppedAt` (epoch ms) until `share` of `legs` had become terminal, at 0 when they already had;
 * null when fewer ever did.
 */
export function drainSeconds(terminalTimes: readonly number[], legs: number, stoppedAt: number, share: number = LIMITS.minTerminalFraction): number | null {
  const needed = Math.ceil(share * legs);
  if (needed === 0) return 0;
  if (terminalTimes.length < needed) return null;
  const sorted = [...terminalTimes].sort((a, b) => a - b);
  return Math.max(0, (sorted[needed - 1]! - stoppedAt) / 1000);
}
