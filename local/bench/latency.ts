import type { RunningTwin } from '#local/controller/controller.ts';
import { runGeneratorStep } from '#local/bench/generator-step.ts';
import { percentiles, round } from '#local/bench/stats.ts';
import { callsPerLeg, type TrackedLeg, type TwinProbe } from '#local/bench/twin-probe.ts';

/**
 * Latency at half the sustained rate: every leg from its acknowledgement — the later of its trade's two legs' (the
 * inbound gateway's store item, `receivedAt`) — to its terminal response's delivery (the outbound gateway's store item for
 * `response:<trade id>:<expected status>`, `deliveredAt`). Emulator calls per leg are counted over the same run.
 */

export interface LatencyFigures {
  readonly legs: number;
  readonly terminal: number;
  /** Legs acknowledged but not terminal by the end of the wait: left out of the percentiles. */
  readonly unfinished: number;
  readonly p50_ms: number | null;
  readonly p95_ms: number | null;
  readonly p99_ms: number | null;
  readonly max_ms: number | null;
  /** By the status the leg ends in: SETTLED legs go round the settlement app, the others do not. */
  readonly by_status: Record<string, { legs: number; p50_ms: number | null; p99_ms: number | null }>;
  /** Every latency measured, ms, for the histogram. */
  readonly samples_ms: number[];
}

export interface LatencyPhaseResult extends LatencyFigures {
  readonly rate: number;
  readonly seconds: number;
  readonly legs_sent: number;
  readonly calls_per_leg: ReturnType<typeof callsPerLeg>;
  /** Why calls per leg is null. */
  readonly calls_per_leg_reason?: string;
  readonly acknowledged_ms: number[];
  readonly terminal_ms: number[];
}

/**
 * Latencies of the legs that have both ends. Pure. A leg is timed from the later acknowledgement of its trade's two
 * legs: the generator shuffles a run's legs, so a counterpart may arrive many seconds after the first leg, and no
 * pipeline can match a leg before its counterpart exists. An unmatched leg (its counterpart never sent) is timed from
 * its own.
 */
export function latencyFigures(legs: readonly TrackedLeg[], acknowledged: ReadonlyMap<string, number>, terminal: ReadonlyMap<string, number>): LatencyFigures {
  const all: number[] = [];
  const byStatus = new Map<string, number[]>();
  const pairReady = new Map<string, number>();
  for (const leg of legs) {
    const at = acknowledged.get(leg.messageId);
    if (at !== undefined) pairReady.set(leg.pairKey, Math.max(pairReady.get(leg.pairKey) ?? 0, at));
  }
  let unfinished = 0;
  for (const leg of legs) {
    if (!acknowledged.has(leg.messageId)) continue;
    const start = pairReady.get(leg.pairKey) as number;
    const end = terminal.get(leg.messageId);
    if (end === undefined) {
      unfinished += 1;
      continue;
    }
    const latency = Math.max(0, end - start);
    all.push(latency);
    byStatus.set(leg.expected, [...(byStatus.get(leg.expected) ?? []), latency]);
  }
  const overall = percentiles(all);
  return {
    legs: legs.length,
    terminal: all.length,
    unfinished,
    p50_ms: overall.p50,
    p95_ms: overall.p95,
    p99_ms: overall.p99,
    max_ms: overall.max,
    by_status: Object.fromEntries(
      [...byStatus].sort(([a], [b]) => a.localeCompare(b)).map(([status, values]) => {
        const figures = percentiles(values);
        return [status, { legs: values.length, p50_ms: figures.p50, p99_ms: figures.p99 }];
      }),
    ),
    samples_ms: all,
  };
}

export async function runLatencyPhase(
  twin: RunningTwin,
  probe: TwinProbe,
  request: { rate: number; seconds: number; settleSeconds: number; sampleMs: number; seed: number },
  progress: (line: string) => void,
): Promise<LatencyPhaseResult> {
  progress(`latency: ${request.rate} legs/s for ${request.seconds} s, then up to ${request.settleSeconds} s for every leg to become terminal…`);
  const before = await probe.emulatorCalls();
  const step = await runGeneratorStep(twin, probe, request);
  const after = await probe.emulatorCalls();
  const acknowledged = await probe.receivedTimes(step.legs);
  const figures = latencyFigures(step.legs, acknowledged, step.terminal);
  progress(`latency: ${figures.terminal} of ${step.result.legsSent} legs terminal; p50 ${figures.p50_ms} ms, p95 ${figures.p95_ms} ms, p99 ${figures.p99_ms} ms`);
  const calls = before && after ? callsPerLeg(before, after, step.result.legsSent) : null;
  return {
    rate: request.rate,
    seconds: request.seconds,
    legs_sent: step.result.legsSent,
    ...figures,
    calls_per_leg: calls,
    ...(calls ? {} : { calls_per_leg_reason: 'the regions report no emulatorCalls in their status' }),
    acknowledged_ms: [...acknowledged.values()],
    terminal_ms: [...step.terminal.values()],
  };
}

export const roundedLatency = (value: number | null) => (value === null ? null : round(value, 0));
