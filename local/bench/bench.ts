import { readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { startTwin, type RunningTwin } from '#local/controller/controller.ts';
import { measureCeiling, type CeilingResult } from '#local/bench/ceiling.ts';
import { runLatencyPhase, type LatencyPhaseResult } from '#local/bench/latency.ts';
import { traceLegMix, type LegMix } from '#local/bench/leg-mix.ts';
import { runRamp, type RampResult } from '#local/bench/pipeline-ramp.ts';
import { ProcessSampler, type ProcessFigures } from '#local/bench/process-sampler.ts';
import { latencySeconds, type BenchProfile } from '#local/bench/profiles.ts';
import { round } from '#local/bench/stats.ts';
import { startRateFor } from '#local/bench/sustained-rate.ts';
import { TwinProbe } from '#local/bench/twin-probe.ts';

/**
 * `rotor bench`: a fresh twin of its own, in this process as `rotor up` runs it; the emulator ceiling of one leg's
 * calls; the pipeline ramp to the highest sustained rate; latency at half that rate; then the twin is stopped.
 * Returns the figures; report.ts writes them out.
 */

export const DEFAULT_BENCH_DATA_DIR = '.rotor/bench';

/**
 * The zero-RPO mode measured on a second fresh twin whose TM inbound store replicates synchronously, at the same rate
 * as the latency phase: the acknowledgement itself waits for the peer region, so its cost is the gateway's peer wait,
 * and what it adds end to end shows in the percentiles against the asynchronous twin's.
 */
export interface ZeroRpoFigures {
  readonly rate: number;
  readonly legs: number;
  readonly p50_ms: number | null;
  readonly p95_ms: number | null;
  readonly p99_ms: number | null;
  /** The zero-RPO twin's percentile minus the asynchronous twin's; noise of a few ms either way is expected. */
  readonly added_p50_ms: number | null;
  readonly added_p99_ms: number | null;
  /** Per acknowledged write of the synchronous table: how long it waited for the peer to apply it. */
  readonly peer_wait_avg_ms: number | null;
  readonly peer_wait_max_ms: number | null;
  readonly sync_writes: number;
  readonly sync_unavailable: number;
}

export interface BenchOptions {
  readonly profile: BenchProfile;
  readonly dataDir: string;
  readonly progress: (line: string) => void;
  readonly signal?: AbortSignal;
}

export interface BenchResult {
  readonly legs_per_s: number | null;
  readonly ceiling_legs_per_s: number | null;
  readonly ratio: number | null;
  readonly p50_ms: number | null;
  readonly p95_ms: number | null;
  readonly p99_ms: number | null;
  /** Peak of the sum of every process's RSS (controller and regions), MB. */
  readonly rss_mb: number | null;
  /** CPU seconds per process over the whole bench. */
  readonly cpu_s: Record<string, number>;
  /** Emulator calls per leg by service (both regions: the other region's are replication), at half load. */
  readonly calls_per_leg: Record<string, number> | null;
  readonly calls_per_leg_reason?: string;
  readonly zero_rpo: ZeroRpoFigures | null;
  /** Why zero_rpo is null (the phase failed or was skipped). */
  readonly zero_rpo_reason?: string;
  readonly profile: string;
  readonly started_at: string;
  readonly duration_s: number;
  readonly machine: { cpus: number; cpu_model: string; memory_mb: number; node: string; platform: string; load_average_at_start: number[] };
  readonly twin: { data_dir: string; regions: readonly string[]; active_region: string; startup_s: number };
  readonly mix: Pick<LegMix, 'pairs' | 'seed' | 'mix' | 'recordsPerLeg' | 'perLeg'>;
  readonly ceiling: CeilingResult | { error: string };
  readonly pipeline: { sustained_rate: number | null; steps: RampResult['steps']; seconds: number };
  readonly latency: (Omit<LatencyPhaseResult, 'samples_ms' | 'acknowledged_ms' | 'terminal_ms'>) | null;
  readonly processes: ProcessFigures[];
}

/** What the report draws besides the result's figures. */
export interface BenchSeries {
  readonly acknowledged: number[];
  readonly terminal: number[];
  readonly latencies: number[];
  readonly resources: Array<{ t: number; rss_mb: number; cores: number }>;
}

export class BenchAbortedError extends Error {
  override readonly name = 'BenchAbortedError';
}

/** The data directory holds something else than a bench twin: the bench would wipe it. */
export class BenchDataDirError extends Error {
  override readonly name = 'BenchDataDirError';
}

/** Written into the bench twin's data directory, so a later bench may wipe it and nothing else. */
export const BENCH_MARKER = 'rotor-bench.marker';

/** Refuses a directory that exists, is not empty and was not made by the bench (a `rotor up` twin, a repository…). */
export async function assertBenchDataDir(dataDir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dataDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  if (entries.length > 0 && !entries.includes(BENCH_MARKER)) {
    throw new BenchDataDirError(`${dataDir} is not empty and was not made by rotor bench, which wipes its data directory first; give it a new or empty one`);
  }
}

export async function runBench(options: BenchOptions): Promise<{ result: BenchResult; series: BenchSeries }> {
  const { profile, progress } = options;
  const startedAt = new Date();
  const began = performance.now();
  const machine = {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model ?? 'unknown',
    memory_mb: Math.round(os.totalmem() / 1024 / 1024),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    load_average_at_start: os.loadavg().map((load) => round(load, 2)),
  };
  await assertBenchDataDir(options.dataDir);
  progress(`bench (${profile.name}): tracing one leg's emulator calls through the stages…`);
  const mix = await traceLegMix();
  progress(`bench: starting a fresh twin in ${options.dataDir}…`);
  const twin = await startTwin({ dataDir: options.dataDir, fresh: true, onEvent: (message) => progress(`twin: ${message}`) });
  const stop = () => void twin.stop().catch(() => undefined);
  options.signal?.addEventListener('abort', stop, { once: true });
  const sampler = new ProcessSampler(() => [
    { name: 'controller', pid: process.pid },
    ...twin.regions.flatMap((region) => (twin.region(region).pid === undefined ? [] : [{ name: region, pid: twin.region(region).pid! }])),
  ]);
  const probe = new TwinProbe(twin);
  const checkAborted = () => {
    if (options.signal?.aborted) throw new BenchAbortedError('interrupted');
  };
  try {
    await writeFile(path.join(twin.layout.dataDir, BENCH_MARKER), 'A twin of rotor bench: the next bench wipes this directory.\n');
    checkAborted();
    sampler.start();

    sampler.phase('ceiling');
    const ceiling = await measureCeiling(twin, mix.perLeg, { ...profile.ceiling, progress }).catch((error: unknown) => ({ error: describe(error) }));
    progress('error' in ceiling ? `ceiling: failed: ${ceiling.error}` : `ceiling: ${ceiling.legs_per_s} legs/s${ceiling.notes.length > 0 ? ` (${ceiling.notes.join('; ')})` : ''}`);
    checkAborted();
    sampler.phase(undefined);
    await quiet(twin, profile.quietSeconds);

    sampler.phase('ramp');
    const startRate = startRateFor('error' in ceiling ? null : ceiling.legs_per_s);
    const ramp = await runRamp(twin, probe, { ...profile.ramp, plan: { ...profile.ramp.plan, startRate } }, progress);
    checkAborted();

    sampler.phase('latency');
    const half = ramp.sustained ? round(ramp.sustained.sendRate / 2, 2) : profile.ramp.plan.minRate;
    if (!ramp.sustained) progress(`latency: no rate was sustained; measuring at ${half} legs/s anyway`);
    const latency = await runLatencyPhase(twin, probe, { rate: half, seconds: latencySeconds(profile, half), settleSeconds: profile.latency.settleSeconds, sampleMs: profile.ramp.sampleMs, seed: profile.ramp.firstSeed + 1_000 }, progress);
    checkAborted();
    sampler.stop();
    const processes = sampler.summary();
    const twinFacts = { data_dir: twin.layout.dataDir, regions: twin.regions, active_region: twin.activeRegion('trade-matching'), startup_s: round(twin.startupMs.total / 1000) };
    progress('bench: stopping the twin…');
    await twin.stop();
    const zeroRpo = await measureZeroRpo(options, { rate: half, seconds: latencySeconds(profile, half), baseline: latency }).catch((error: unknown) => ({ error: describe(error) }));
    progress('error' in zeroRpo ? `zero-RPO: failed: ${zeroRpo.error}` : `zero-RPO: p50 ${zeroRpo.p50_ms} ms (${signed(zeroRpo.added_p50_ms)} ms), peer wait ${zeroRpo.peer_wait_avg_ms} ms on average`);

    const legsPerSecond = ramp.sustained ? round(ramp.sustained.sendRate, 2) : null;
    const ceilingRate = 'error' in ceiling ? null : ceiling.legs_per_s;
    const { samples_ms: latencies, acknowledged_ms: acknowledged, terminal_ms: terminal, ...latencyFigures } = latency;
    const result: BenchResult = {
      legs_per_s: legsPerSecond,
      ceiling_legs_per_s: ceilingRate,
      ratio: legsPerSecond !== null && ceilingRate ? round(legsPerSecond / ceilingRate, 3) : null,
      p50_ms: latency.p50_ms,
      p95_ms: latency.p95_ms,
      p99_ms: latency.p99_ms,
      rss_mb: processes.peak_total_rss_mb,
      cpu_s: Object.fromEntries(processes.processes.map((entry) => [entry.name, entry.cpu_s.total ?? 0])),
      calls_per_leg: latency.calls_per_leg?.by_service ?? null,
      ...(latency.calls_per_leg_reason ? { calls_per_leg_reason: latency.calls_per_leg_reason } : {}),
      zero_rpo: 'error' in zeroRpo ? null : zeroRpo,
      ...('error' in zeroRpo ? { zero_rpo_reason: zeroRpo.error } : {}),
      profile: profile.name,
      started_at: startedAt.toISOString(),
      duration_s: 0,
      machine,
      twin: twinFacts,
      mix: { pairs: mix.pairs, seed: mix.seed, mix: mix.mix, recordsPerLeg: roundAll(mix.recordsPerLeg), perLeg: roundAll(mix.perLeg) },
      ceiling,
      pipeline: { sustained_rate: legsPerSecond, steps: ramp.steps, seconds: ramp.seconds },
      latency: latencyFigures,
      processes: processes.processes,
    };
    const series: BenchSeries = {
      acknowledged: [...ramp.times.acknowledged, ...acknowledged],
      terminal: [...ramp.times.terminal, ...terminal],
      latencies,
      resources: processes.series,
    };
    return { result: { ...result, duration_s: round((performance.now() - began) / 1000) }, series };
  } catch (error) {
    if (options.signal?.aborted) throw new BenchAbortedError('interrupted; the twin was stopped');
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', stop);
    sampler.stop();
    probe.close();
    await twin.stop().catch(() => undefined);
  }
}

/** The latency phase again, on a fresh twin in zero-RPO mode (the first twin is stopped: one twin at a time). */
async function measureZeroRpo(options: BenchOptions, phase: { rate: number; seconds: number; baseline: LatencyPhaseResult }): Promise<ZeroRpoFigures> {
  const { profile, progress } = options;
  progress(`zero-RPO: starting a fresh twin with the TM inbound store replicated synchronously…`);
  const twin = await startTwin({ dataDir: options.dataDir, fresh: true, zeroRpo: true, onEvent: (message) => progress(`twin: ${message}`) });
  const stop = () => void twin.stop().catch(() => undefined);
  options.signal?.addEventListener('abort', stop, { once: true });
  const probe = new TwinProbe(twin);
  try {
    await writeFile(path.join(twin.layout.dataDir, BENCH_MARKER), 'A twin of rotor bench: the next bench wipes this directory.\n');
    const latency = await runLatencyPhase(twin, probe, { rate: phase.rate, seconds: phase.seconds, settleSeconds: profile.latency.settleSeconds, sampleMs: profile.ramp.sampleMs, seed: profile.ramp.firstSeed + 2_000 }, progress);
    const sync = Object.values(twin.globalTables.metrics().endpoints)
      .flatMap((endpoint) => Object.values(endpoint?.syncTables ?? {}))
      .filter((table) => table.committed > 0);
    const committed = sync.reduce((sum, table) => sum + table.peerWait.count, 0);
    const difference = (a: number | null, b: number | null) => (a === null || b === null ? null : round(a - b));
    return {
      rate: phase.rate,
      legs: latency.terminal,
      p50_ms: latency.p50_ms,
      p95_ms: latency.p95_ms,
      p99_ms: latency.p99_ms,
      added_p50_ms: difference(latency.p50_ms, phase.baseline.p50_ms),
      added_p99_ms: difference(latency.p99_ms, phase.baseline.p99_ms),
      peer_wait_avg_ms: committed === 0 ? null : round(sync.reduce((sum, table) => sum + table.peerWait.averageMs * table.peerWait.count, 0) / committed),
      peer_wait_max_ms: sync.length === 0 ? null : Math.max(...sync.map((table) => table.peerWait.maxMs)),
      sync_writes: sync.reduce((sum, table) => sum + table.committed, 0),
      sync_unavailable: sync.reduce((sum, table) => sum + table.unavailable, 0),
    };
  } finally {
    options.signal?.removeEventListener('abort', stop);
    probe.close();
    await twin.stop();
  }
}

const signed = (value: number | null) => (value === null ? 'n/a' : value >= 0 ? `+${value}` : String(value));

/** Waits for the global tables to ship what the ceiling wrote, then a little more. */
async function quiet(twin: RunningTwin, seconds: number): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (twin.globalTables.metrics().links.some((link) => link.backlog > 0) && performance.now() < deadline) await delay(250);
  await delay(seconds * 1000);
}

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

function roundAll<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value, (_, v: unknown) => (typeof v === 'number' ? round(v, 3) : v))) as T;
}
