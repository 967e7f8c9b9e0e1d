import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time and memory of the twin's processes (the controller, which is this process, and every region), read
 * from /proc every second: CPU seconds per bench phase and in total, peak RSS per process, and the peak of their
 * sum (what the machine had to hold at once). Linux only; elsewhere every figure is null.
 */

export interface SampledProcess {
  readonly name: string;
  readonly pid: number;
}

export interface ProcessFigures {
  readonly name: string;
  readonly pid: number;
  /** CPU seconds (user + system) per phase, and `total` over the whole bench. */
  readonly cpu_s: Record<string, number>;
  readonly peak_rss_mb: number | null;
}

export interface ProcessSummary {
  readonly processes: ProcessFigures[];
  /** Highest sum of every process's RSS in one sample. */
  readonly peak_total_rss_mb: number | null;
  /** One point per sample: seconds since start, total RSS (MB) and the CPU cores busy since the previous sample. */
  readonly series: Array<{ t: number; rss_mb: number; cores: number }>;
}

/** utime + stime in clock ticks from /proc/<pid>/stat (the command name may hold spaces and parentheses). */
export function parseProcStat(text: string): number | undefined {
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3, utime field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
}

/** VmRSS in kB from /proc/<pid>/status. */
export function parseVmRssKb(text: string): number | undefined {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

function clockTicksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

function read(pid: number): { ticks: number; rssKb: number } | undefined {
  try {
    const ticks = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const rssKb = parseVmRssKb(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return ticks === undefined || rssKb === undefined ? undefined : { ticks, rssKb };
  } catch {
    return undefined;
  }
}

export class ProcessSampler {
  readonly #targets: () => SampledProcess[];
  readonly #intervalMs: number;
  readonly #ticksPerSecond = clockTicksPerSecond();
  readonly #began = performance.now();
  readonly #known = new Map<string, { pid: number; first: number; last: number; peakRssKb: number; phases: Map<string, number> }>();
  readonly #series: ProcessSummary['series'] = [];
  #phase: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  #peakTotalKb = 0;
  #lastTicks = 0;
  #lastAt = 0;

  constructor(targets: () => SampledProcess[], intervalMs = 1_000) {
    this.#targets = targets;
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.sample();
    this.#timer ??= setInterval(() => this.sample(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Closes the current phase (its CPU is charged up to now) and opens the next. */
  phase(name: string | undefined): void {
    this.sample();
    this.#phase = name;
  }

  stop(): void {
    this.phase(undefined);
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  sample(): void {
    let totalKb = 0;
    let totalTicks = 0;
    for (const target of this.#targets()) {
      const figures = read(target.pid);
      if (!figures) continue;
      const key = `${target.name}:${target.pid}`;
      let entry = this.#known.get(key);
      if (!entry) {
        entry = { pid: target.pid, first: figures.ticks, last: figures.ticks, peakRssKb: 0, phases: new Map() };
        this.#known.set(key, entry);
      }
      if (this.#phase !== undefined) entry.phases.set(this.#phase, (entry.phases.get(this.#phase) ?? 0) + figures.ticks - entry.last);
      entry.last = figures.ticks;
      entry.peakRssKb = Math.max(entry.peakRssKb, figures.rssKb);
      totalKb += figures.rssKb;
      totalTicks += figures.ticks;
    }
    if (totalKb === 0) return;
    const now = performance.now();
    this.#peakTotalKb = Math.max(this.#peakTotalKb, totalKb);
    const cores = this.#lastAt === 0 ? 0 : (totalTicks - this.#lastTicks) / this.#ticksPerSecond / ((now - this.#lastAt) / 1000);
    this.#series.push({ t: Math.round(now - this.#began) / 1000, rss_mb: Math.round(totalKb / 1024), cores: Math.max(0, Math.round(cores * 100) / 100) });
    this.#lastTicks = totalTicks;
    this.#lastAt = now;
  }

  summary(): ProcessSummary {
    const seconds = (ticks: number) => Math.round((ticks / this.#ticksPerSecond) * 10) / 10;
    return {
      processes: [...this.#known].map(([key, entry]) => ({
        name: key.slice(0, key.lastIndexOf(':')),
        pid: entry.pid,
        cpu_s: { ...Object.fromEntries([...entry.phases].map(([phase, ticks]) => [phase, seconds(ticks)])), total: seconds(entry.last - entry.first) },
        peak_rss_mb: entry.peakRssKb === 0 ? null : Math.round(entry.peakRssKb / 1024),
      })),
      peak_total_rss_mb: this.#peakTotalKb === 0 ? null : Math.round(this.#peakTotalKb / 1024),
      series: this.#series,
    };
  }
}
