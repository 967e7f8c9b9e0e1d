import { experiment, experiments, type Injected } from '#local/chaos/catalogue.ts';
import type { ChaosTwin } from '#local/chaos/chaos-twin.ts';

/**
 * Runs chaos experiments against a running twin: one run per experiment at a time, each ended by its duration or by
 * stop(). Every answer is plain JSON, so the control server, the CLI and the dashboard share it.
 */

export interface ExperimentSummary {
  readonly name: string;
  readonly summary: string;
  readonly targetKind: string;
  readonly defaultTargets: string[];
  readonly defaultDurationMs: number;
  readonly brokenBuild: boolean;
}

export interface ExperimentRun {
  readonly id: string;
  readonly experiment: string;
  readonly targets: string[];
  readonly durationMs: number;
  state: 'running' | 'stopped' | 'failed';
  readonly startedAt: string;
  stoppedAt?: string;
  notes: string[];
  error?: string;
}

export class UnknownExperimentError extends Error {
  override readonly name = 'UnknownExperimentError';
}

export class ExperimentAlreadyRunningError extends Error {
  override readonly name = 'ExperimentAlreadyRunningError';
}

export class InvalidChaosRequestError extends Error {
  override readonly name = 'InvalidChaosRequestError';
}

const KEPT_RUNS = 50;
const MAX_DURATION_MS = 3_600_000;

export class ChaosController {
  private readonly runs: ExperimentRun[] = [];
  private readonly active = new Map<string, { run: ExperimentRun; injected: Injected | undefined; timer: NodeJS.Timeout }>();
  private sequence = 0;

  constructor(private readonly twin: ChaosTwin) {}

  list(): ExperimentSummary[] {
    return experiments().map((candidate) => ({
      name: candidate.name,
      summary: candidate.summary,
      targetKind: candidate.targetKind,
      defaultTargets: safely(() => candidate.defaultTargets(this.twin), []),
      defaultDurationMs: candidate.defaultDurationMs,
      brokenBuild: candidate.brokenBuild ?? false,
    }));
  }

  /** Injects the fault and returns once it is in place; it ends by itself after the duration. */
  async start(name: string, options: { targets?: readonly string[]; durationMs?: number } = {}): Promise<ExperimentRun> {
    const chosen = experiment(name);
    if (!chosen) throw new UnknownExperimentError(`no experiment named ${name}; rotor chaos list names them`);
    if (this.active.has(name)) throw new ExperimentAlreadyRunningError(`${name} is already running; stop it first`);
    const durationMs = options.durationMs ?? chosen.defaultDurationMs;
    if (!(Number.isInteger(durationMs) && durationMs > 0 && durationMs <= MAX_DURATION_MS)) throw new InvalidChaosRequestError(`the duration must be 1 ms to 1 h, not ${durationMs}`);
    const targets = options.targets && options.targets.length > 0 ? [...options.targets] : chosen.defaultTargets(this.twin);
    this.sequence += 1;
    const run: ExperimentRun = { id: `chaos-${name}-${Date.now()}-${this.sequence}`, experiment: name, targets, durationMs, state: 'running', startedAt: new Date().toISOString(), notes: [] };
    this.remember(run);
    const entry = { run, injected: undefined as Injected | undefined, timer: setTimeout(() => void this.stop(name), durationMs) };
    this.active.set(name, entry);
    try {
      entry.injected = await chosen.inject(this.twin, { id: run.id, targets, durationMs });
      run.notes.push(...entry.injected.notes);
    } catch (error) {
      clearTimeout(entry.timer);
      this.active.delete(name);
      run.state = 'failed';
      run.error = (error as Error).message;
      run.stoppedAt = new Date().toISOString();
    }
    return copyOf(run);
  }

  /** Ends one experiment, or every running one; answers the runs it ended. */
  async stop(name?: string): Promise<ExperimentRun[]> {
    const names = name === undefined ? [...this.active.keys()] : [name];
    if (name !== undefined && !experiment(name)) throw new UnknownExperimentError(`no experiment named ${name}`);
    const ended: ExperimentRun[] = [];
    for (const each of names) {
      const entry = this.active.get(each);
      if (!entry) continue;
      this.active.delete(each);
      clearTimeout(entry.timer);
      try {
        const notes = await entry.injected?.undo();
        if (Array.isArray(notes)) entry.run.notes.push(...notes);
        entry.run.state = 'stopped';
      } catch (error) {
        entry.run.state = 'failed';
        entry.run.error = `could not undo: ${(error as Error).message}`;
      }
      entry.run.stoppedAt = new Date().toISOString();
      ended.push(copyOf(entry.run));
    }
    return ended;
  }

  /** Running experiments first, then the most recent ended ones. */
  status(): { running: ExperimentRun[]; recent: ExperimentRun[] } {
    return {
      running: [...this.active.values()].map((entry) => copyOf(entry.run)),
      recent: this.runs.filter((run) => run.state !== 'running').map(copyOf),
    };
  }

  private remember(run: ExperimentRun): void {
    this.runs.unshift(run);
    if (this.runs.length > KEPT_RUNS) this.runs.length = KEPT_RUNS;
  }
}

/** Answers never share arrays with the runs the controller keeps updating. */
function copyOf(run: ExperimentRun): ExperimentRun {
  return { ...run, targets: [...run.targets], notes: [...run.notes] };
}

function safely<T>(body: () => T, fallback: T): T {
  try {
    return body();
  } catch {
    return fallback;
  }
}
