import { setTimeout as delay } from 'node:timers/promises';

/**
 * `rotor up --rate R`: the twin keeps the load generator running, the way an operator on AWS would keep invoking
 * the generator Lambda. Each invocation asks for a minute of legs at R per second in the active trade-matching
 * region; the function itself honours the `trade-matching-generator` routing control, so flipping that control
 * starts and stops the load without touching the twin; the loop also skips invoking while the controller sees the
 * control Off. After a run that stopped early (the control is Off) or an
 * invocation that failed, the loop waits a few seconds before asking again, so an Off control or a region outage
 * costs one small request every few seconds, not a busy loop.
 */

export const GENERATOR_FUNCTION = 'generator';
export const GENERATOR_CONTROL = 'trade-matching-generator';
export const GENERATOR_RUN_SECONDS = 60;
const PAUSE_MS = 5_000;

/** What the generator function returns for one run. */
export interface GeneratorRunResult {
  readonly runId: string;
  readonly legsSent: number;
  /** Why the run ended before its duration, e.g. `generator-control-off`. */
  readonly stoppedBy?: string;
}

export type GeneratorState = 'running' | 'waiting' | 'stopped' | 'unavailable';

export interface GeneratorStatus {
  readonly rate: number;
  readonly state: GeneratorState;
  /** Why the loop does not run (`unavailable`), or why it is waiting. */
  readonly reason?: string;
  readonly runs: number;
  readonly legsSent: number;
  /** Region of the last run. */
  readonly region?: string;
  readonly lastError?: string;
}

export interface GeneratorLoopOptions {
  readonly rate: number;
  /** Invokes the generator in the active trade-matching region; rejects when it failed or could not be reached. */
  readonly invoke: (payload: { rate: number; durationSeconds: number }, signal: AbortSignal) => Promise<{ region: string; result: unknown }>;
  readonly notify: (message: string) => void;
  /**
   * The control's state as the controller sees it. While Off the loop does not invoke at all: each invocation is a
   * recorded generator run, and an Off control would otherwise leave an empty one every few seconds.
   */
  readonly controlIsOn?: () => boolean;
  readonly pauseMs?: number;
}

export class GeneratorLoop {
  readonly #options: GeneratorLoopOptions;
  readonly #abort = new AbortController();
  #running: Promise<void> | undefined;
  #status: GeneratorStatus;
  #lastNotice: string | undefined;

  constructor(options: GeneratorLoopOptions) {
    this.#options = options;
    this.#status = { rate: options.rate, state: 'waiting', reason: 'not started', runs: 0, legsSent: 0 };
  }

  /** A loop that never starts: the status says why (no generator function in this build). */
  static unavailable(rate: number, reason: string): { status(): GeneratorStatus; stop(): Promise<void> } {
    const status: GeneratorStatus = { rate, state: 'unavailable', reason, runs: 0, legsSent: 0 };
    return { status: () => status, stop: async () => undefined };
  }

  status(): GeneratorStatus {
    return this.#status;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Aborts an invocation in flight rather than waiting out its minute. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
    this.#status = { ...this.#status, state: 'stopped', reason: 'the twin is stopping' };
  }

  async #loop(): Promise<void> {
    const signal = this.#abort.signal;
    const { rate } = this.#options;
    while (!signal.aborted) {
      if (this.#options.controlIsOn && !this.#options.controlIsOn()) {
        this.#controlOff();
        await delay(this.#pauseMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      this.#status = { ...this.#status, state: 'running' };
      let pause = false;
      try {
        const { region, result } = await this.#options.invoke({ rate, durationSeconds: GENERATOR_RUN_SECONDS }, signal);
        const run = runResult(result);
        this.#status = { ...this.#status, runs: this.#status.runs + 1, legsSent: this.#status.legsSent + run.legsSent, region };
        if (run.legsSent > 0 || run.stoppedBy === undefined) {
          this.#notice(`generator: run ${run.runId} sent ${run.legsSent} legs into ${region}${run.stoppedBy ? ` (stopped by ${run.stoppedBy})` : ''}`, true);
        }
        if (run.stoppedBy === 'generator-control-off') {
          if (run.legsSent === 0) this.#controlOff();
          this.#status = { ...this.#status, state: 'waiting', reason: `${GENERATOR_CONTROL} is Off` };
        }
        // A run that stopped because the edge moved goes on at once in the region it moved to.
        pause = run.stoppedBy !== undefined && run.stoppedBy !== 'region-not-active';
      } catch (error) {
        if (signal.aborted) break;
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.#notice(`generator: invocation failed (${message}); trying again every ${this.#pauseMs / 1000} s`);
        this.#status = { ...this.#status, state: 'waiting', reason: 'the last invocation failed', lastError: message };
        pause = true;
      }
      if (pause) await delay(this.#pauseMs, undefined, { signal }).catch(() => undefined);
    }
  }

  #controlOff(): void {
    this.#notice(`generator: routing control ${GENERATOR_CONTROL} is Off, so no legs flow; turn it On to start (checked every ${this.#pauseMs / 1000} s)`);
    this.#status = { ...this.#status, state: 'waiting', reason: `${GENERATOR_CONTROL} is Off` };
  }

  get #pauseMs(): number {
    return this.#options.pauseMs ?? PAUSE_MS;
  }

  /** One line per change of situation: an Off control or a dead region would otherwise print every few seconds. */
  #notice(message: string, always = false): void {
    if (!always && message === this.#lastNotice) return;
    this.#lastNotice = message;
    this.#options.notify(message);
  }
}

class GeneratorResultError extends Error {
  override readonly name = 'GeneratorResultError';
}

function runResult(result: unknown): GeneratorRunResult {
  const run = result as Partial<GeneratorRunResult> | null;
  if (typeof run !== 'object' || run === null || typeof run.legsSent !== 'number') {
    throw new GeneratorResultError(`the generator returned ${JSON.stringify(result)}, not {runId, legsSent, stoppedBy?}`);
  }
  return { runId: String(run.runId ?? '?'), legsSent: run.legsSent, ...(typeof run.stoppedBy === 'string' ? { stoppedBy: run.stoppedBy } : {}) };
}
