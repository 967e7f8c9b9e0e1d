import type { RunningTwin } from '#local/controller/controller.ts';
import { runGeneratorStep, waitForTerminal, type GeneratorStep } from '#local/bench/generator-step.ts';
import { round } from '#local/bench/stats.ts';
import { drainSeconds, judgeStep, nextRate, sustainedRate, type BacklogSample, type RampPlan, type RampStep } from '#local/bench/sustained-rate.ts';
import type { TwinProbe } from '#local/bench/twin-probe.ts';

/**
 * The pipeline phase's ramp: the generator at one rate after another (sustained-rate.ts picks them), each for the
 * measurement window; after each run the bench waits for its legs to become terminal and judges whether the
 * backlog stayed bounded. After a step that was not sustained, the backlog is drained before anything else runs.
 */

export interface RampSettings {
  readonly plan: RampPlan;
  readonly stepSeconds: number;
  readonly settleSeconds: number;
  /** Longest extra wait for an overloaded step's legs before anything else runs (not counted in the budget). */
  readonly drainSeconds: number;
  /** Time for the ramp's steps; no step starts that would not finish within it. */
  readonly budgetSeconds: number;
  readonly sampleMs: number;
  readonly firstSeed: number;
}

export interface RampStepReport {
  readonly rate: number;
  readonly seconds: number;
  readonly legs_sent: number;
  readonly send_rate: number;
  /** Legs terminal by the end of the settle wait (what the verdict saw). */
  readonly terminal: number;
  readonly terminal_fraction: number;
  /** Seconds from the generator's return until 98% of the legs were terminal; null when they were not in time. */
  readonly drain_s: number | null;
  /** Legs terminal per second, from the first leg acknowledged to the last terminal (drain included). */
  readonly completion_rate: number | null;
  /** Peak of the iterator ages summed over every Kinesis mapping, and of the largest single one. */
  readonly peak_iterator_age_ms: number;
  readonly peak_max_iterator_age_ms: number;
  readonly peak_queue_depth: number;
  readonly iterator_age_growth_ms_per_s: number;
  readonly queue_depth_growth_per_s: number;
  readonly sustained: boolean;
  /** Why not sustained. */
  readonly reasons: string[];
  /** Backlog growth seen in the window, whether or not it condemned the step (it does when draining was slow). */
  readonly growth: string[];
  readonly samples: BacklogSample[];
}

/** When each leg was acknowledged and reached its terminal response (epoch ms), for the throughput chart. */
export interface LegTimes {
  readonly acknowledged: number[];
  readonly terminal: number[];
}

export interface RampResult {
  readonly steps: RampStepReport[];
  /** The highest sustained step, or null when even the lowest rate was not. */
  readonly sustained: RampStep | null;
  readonly times: LegTimes;
  readonly seconds: number;
}

export async function runRamp(twin: RunningTwin, probe: TwinProbe, settings: RampSettings, progress: (line: string) => void): Promise<RampResult> {
  progress(`ramp: from ${settings.plan.startRate} legs/s, ×${settings.plan.factor} per step, ${settings.stepSeconds} s each`);
  const began = performance.now();
  const history: RampStep[] = [];
  const steps: RampStepReport[] = [];
  const times: LegTimes = { acknowledged: [], terminal: [] };
  const stepCost = settings.stepSeconds + settings.settleSeconds;
  for (let rate = nextRate(history, settings.plan); rate !== undefined; rate = nextRate(history, settings.plan)) {
    const elapsed = (performance.now() - began) / 1000;
    if (elapsed + stepCost > settings.budgetSeconds) {
      progress(`ramp: stopping, a step at ${rate} legs/s would overrun the ramp's ${settings.budgetSeconds} s`);
      break;
    }
    progress(`ramp: step ${history.length + 1}: ${rate} legs/s for ${settings.stepSeconds} s…`);
    let step: GeneratorStep;
    try {
      step = await runGeneratorStep(twin, probe, {
        rate,
        seconds: settings.stepSeconds,
        seed: settings.firstSeed + history.length,
        settleSeconds: settings.settleSeconds,
        sampleMs: settings.sampleMs,
      });
    } catch (error) {
      // A generator that cannot be invoked or fails ends the ramp; what was measured so far stands.
      const reason = `the step failed: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
      progress(`ramp: ${rate} legs/s: ${reason}`);
      history.push({ rate, bounded: false, sendRate: 0 });
      steps.push({ ...failedStep(rate, settings.stepSeconds), reasons: [reason] });
      break;
    }
    const drain = drainSeconds([...step.terminal.values()], step.result.legsSent, step.startedAt + step.result.durationMs);
    const verdict = judgeStep({
      rate,
      seconds: settings.stepSeconds,
      legsSent: step.result.legsSent,
      sendSeconds: step.result.durationMs / 1000,
      samples: step.samples,
      terminal: step.terminal.size,
      settleSeconds: step.settleSeconds,
      drainSeconds: drain,
    });
    history.push({ rate, bounded: verdict.bounded, sendRate: verdict.sendRate });
    const terminalInTime = step.terminal.size;
    if (!verdict.bounded) {
      // Outside the budget: whatever runs next must not start on a backlog.
      progress(`ramp: not sustained; draining its backlog (up to ${settings.drainSeconds} s)…`);
      await waitForTerminal(probe, step.legs, step.terminal, settings.drainSeconds);
    }
    const received = await probe.receivedTimes(step.legs);
    times.acknowledged.push(...received.values());
    times.terminal.push(...step.terminal.values());
    const report = stepReport(step, verdict, received, terminalInTime, drain);
    steps.push(report);
    progress(
      `ramp: ${rate} legs/s → sent ${report.legs_sent} (${report.send_rate}/s), ${round(report.terminal_fraction * 100)}% terminal ` +
        `${round(step.settleSeconds)} s after (98% after ${report.drain_s ?? '-'} s), peak iterator ages ${report.peak_iterator_age_ms} ms (largest ${report.peak_max_iterator_age_ms} ms), queue depth ${report.peak_queue_depth}: ` +
        `${verdict.bounded ? `sustained${verdict.growth.length > 0 ? ` (growing but drained: ${verdict.growth.join('; ')})` : ''}` : `NOT sustained (${verdict.reasons.join('; ')})`}`,
    );
  }
  const best = sustainedRate(history);
  return { steps, sustained: best ?? null, times, seconds: round((performance.now() - began) / 1000) };
}

function stepReport(step: GeneratorStep, verdict: ReturnType<typeof judgeStep>, received: Map<string, number>, terminalInTime: number, drain: number | null): RampStepReport {
  const firstAck = Math.min(...received.values());
  const lastTerminal = Math.max(...step.terminal.values());
  const span = (lastTerminal - firstAck) / 1000;
  return {
    rate: step.request.rate,
    seconds: step.request.seconds,
    legs_sent: step.result.legsSent,
    send_rate: verdict.sendRate,
    terminal: terminalInTime,
    terminal_fraction: verdict.terminalFraction,
    drain_s: drain === null ? null : round(drain, 1),
    completion_rate: Number.isFinite(span) && span > 0 ? round(step.terminal.size / span, 2) : null,
    peak_iterator_age_ms: verdict.peakIteratorAgeMs,
    peak_max_iterator_age_ms: verdict.peakMaxIteratorAgeMs,
    peak_queue_depth: verdict.peakQueueDepth,
    iterator_age_growth_ms_per_s: verdict.iteratorAgeGrowth,
    queue_depth_growth_per_s: verdict.queueDepthGrowth,
    sustained: verdict.bounded,
    reasons: verdict.reasons,
    growth: verdict.growth,
    samples: step.samples.map((sample) => ({ ...sample, t: round(sample.t, 1) })),
  };
}

function failedStep(rate: number, seconds: number): RampStepReport {
  return {
    rate, seconds, legs_sent: 0, send_rate: 0, terminal: 0, terminal_fraction: 0, drain_s: null, completion_rate: null, peak_iterator_age_ms: 0, peak_max_iterator_age_ms: 0, peak_queue_depth: 0,
    iterator_age_growth_ms_per_s: 0, queue_depth_growth_per_s: 0, sustained: false, reasons: [], growth: [], samples: [],
  };
}
