import { setTimeout as delay } from 'node:timers/promises';

/**
 * `rotor up --rate R`: the twin keeps the load generator running, the way an operator on AWS would keep invoking
 * the generator Lambda. Each invocation asks for a minute of legs at R per second in the active trade-matching
 * region; the function itself honours the `trade-matching-generator` routing control, so flipping that control
 * starts and stops the load without touching the twin; the loop also skips invoking while the controller sees the
 * control Off. After a run that stopped early (the control is Off) or an
 * invocation that failed, the loop waits a few seconds before asking again, so an Off control or a region outage
 * costs one small request every few seconds, not a busy loop. The dashboard starts, stops and restarts the loop at
 * another rate through GeneratorSwitch (below).
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

/** `stopping`: told to stop, the loop lets the run in flight end (Lambda has no cancel) and starts no other. */
export type GeneratorState = 'running' | 'waiting' | 'stopping' | 'stopped' | 'unavailable';

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
  /** Seconds of legs each invocation asks for (default GENERATOR_RUN_SECONDS). */
  readonly runSeconds?: number;
}

export class GeneratorLoop {
  readonly #options: GeneratorLoopOptions;
  /** Aborts the invocation in flight. */
  readonly #abort = new AbortController();
  /** Ends the loop (and its pauses) once the invocation in flight, if any, has answered. */
  readonly #halt = new AbortController();
  #running: Promise<void> | undefined;
  #status: GeneratorStatus;
  #lastNotice: string | undefined;

  constructor(options: GeneratorLoopOptions) {
    this.#options = options;
    this.#status = { rate: options.rate, state: 'waiting', reason: 'not started', runs: 0, legsSent: 0 };
  }

  status(): GeneratorStatus {
    return this.#status;
  }

  start(): void {
    this.#running ??= this.#loop();
  }

  /** Aborts an invocation in flight rather than waiting out its minute. */
  async stop(reason = 'the twin is stopping'): Promise<void> {
    this.#halt.abort();
    this.#abort.abort();
    await this.#running;
    this.#status = { ...this.#status, state: 'stopped', reason };
  }

  /**
   * Invokes no more runs; a run in flight goes on in its region regardless (nothing cancels a Lambda invocation), so
   * the loop waits for its answer and counts its legs. Resolves when the loop has ended.
   */
  async retire(reason: string): Promise<void> {
    if (!this.#running) {
      this.#status = { ...this.#status, state: 'stopped', reason };
      return;
    }
    if (this.#halt.signal.aborted) return this.#running;
    this.#status = { ...this.#status, state: 'stopping', reason: `${reason}; a run in flight ends first` };
    this.#halt.abort();
    await this.#running;
    this.#status = { ...this.#status, state: 'stopped', reason };
  }

  async #loop(): Promise<void> {
    const signal = this.#halt.signal;
    const { rate } = this.#options;
    while (!signal.aborted) {
      if (this.#options.controlIsOn && !this.#options.controlIsOn()) {
        this.#controlOff();
        await delay(this.#pauseMs, undefined, { signal }).catch(() => undefined);
        continue;
      }
      // Running has no reason: whatever the last one was (not started, the control Off) no longer holds.
      const { reason: _reason, ...running } = this.#status;
      this.#status = { ...running, state: 'running' };
      let pause = false;
      try {
        const { region, result } = await this.#options.invoke({ rate, durationSeconds: this.#options.runSeconds ?? GENERATOR_RUN_SECONDS }, this.#abort.signal);
        const run = runResult(result);
        this.#status = { ...this.#status, runs: this.#status.runs + 1, legsSent: this.#status.legsSent + run.legsSent, region };
        if (run.legsSent > 0 || run.stoppedBy === undefined) {
          this.#notice(`generator: run ${run.runId} sent ${run.legsSent} legs into ${region}${run.stoppedBy ? ` (stopped by ${run.stoppedBy})` : ''}`, true);
        }
        if (run.stoppedBy === 'generator-control-off' && !signal.aborted) {
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

/** The regions run no generator function, so no loop can start. */
export class GeneratorUnavailableError extends Error {
  override readonly name = 'GeneratorUnavailableError';
}

/** What the dashboard drives: the twin's one generator loop, started, stopped or restarted at another rate. */
export interface GeneratorControl {
  /** The current (or last) loop's status, with runs and legs counted over every loop so far; null before the first. */
  status(): GeneratorStatus | null;
  /** Starts a loop at `rate`, retiring the one running at another rate; GeneratorUnavailableError without a generator. */
  start(rate: number, runSeconds?: number): Promise<GeneratorStatus>;
  /**
   * Stops the loop. By default a run in flight ends in its region first (its legs are counted; the status says
   * `stopping` meanwhile) and this resolves at once; `abortInFlight` stops waiting for it and resolves when every
   * loop has ended (the twin stopping).
   */
  stop(reason: string, options?: { abortInFlight?: boolean }): Promise<GeneratorStatus | null>;
}

/**
 * The twin's generator loop behind a switch: `rotor up --rate` starts the first, the dashboard starts, stops and
 * restarts it. A retired loop's run in flight goes on (at the old rate) until it ends, so shorter runs
 * (`runSeconds`) make a stop or a new rate take effect sooner; turning the generator routing control Off stops
 * every run within a second.
 */
export class GeneratorSwitch implements GeneratorControl {
  readonly #create: (rate: number, runSeconds: number) => GeneratorLoop;
  readonly #unavailable: string | undefined;
  readonly #loops: GeneratorLoop[] = [];
  #current: GeneratorLoop | undefined;
  #unavailableStatus: GeneratorStatus | undefined;
  /** One start or stop at a time. */
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: { create: (rate: number, runSeconds: number) => GeneratorLoop; unavailable?: string }) {
    this.#create = options.create;
    this.#unavailable = options.unavailable;
  }

  status(): GeneratorStatus | null {
    const latest = this.#loops.at(-1);
    if (!latest) return this.#unavailableStatus ?? null;
    const totals = this.#loops.map((loop) => loop.status()).reduce((sum, status) => ({ runs: sum.runs + status.runs, legsSent: sum.legsSent + status.legsSent }), { runs: 0, legsSent: 0 });
    return { ...latest.status(), ...totals };
  }

  start(rate: number, runSeconds = GENERATOR_RUN_SECONDS): Promise<GeneratorStatus> {
    return this.#serialized(async () => {
      if (!(Number.isFinite(rate) && rate > 0)) throw new RangeError(`the generator rate must be a positive number of legs per second, not ${rate}`);
      if (this.#unavailable !== undefined) {
        this.#unavailableStatus = { rate, state: 'unavailable', reason: this.#unavailable, runs: 0, legsSent: 0 };
        throw new GeneratorUnavailableError(this.#unavailable);
      }
      const current = this.#current?.status();
      if (current && current.rate === rate && (current.state === 'running' || current.state === 'waiting')) return this.status()!;
      void this.#current?.retire(`restarted at ${rate} legs/s`);
      const loop = this.#create(rate, runSeconds);
      this.#loops.push(loop);
      this.#current = loop;
      loop.start();
      return this.status()!;
    });
  }

  stop(reason: string, options: { abortInFlight?: boolean } = {}): Promise<GeneratorStatus | null> {
    return this.#serialized(async () => {
      if (options.abortInFlight) await Promise.all(this.#loops.map((loop) => loop.stop(reason)));
      else void this.#current?.retire(reason);
      this.#current = undefined;
      return this.status();
    });
  }

  #serialized<T>(operation: () => Promise<T>): Promise<T> {
    const next = this.#queue.catch(() => undefined).then(operation);
    this.#queue = next;
    return next;
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
