import type { JsonValue } from '#local/stepfunctions/definition.ts';

/**
 * One execution of a local state machine: its status, result and per-state history, as the CLI (`rotor rotate`
 * progress) and the dashboard show it. The engine's event stream has a single reader; this class is that
 * reader's sink and fans each event out to any number of subscribers.
 */

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED' | 'TIMED_OUT';

export interface ExecutionEvent {
  /** 1, 2, 3… in the order the engine emitted them. */
  readonly id: number;
  /** ExecutionStarted, StateEntered, StateExited, StateFailed, StateRetried, StateCaught, MapIteration…, ParallelBranch…, Execution… */
  readonly type: string;
  readonly timestamp: string;
  readonly stateName?: string;
  readonly stateType?: string;
  /** Index of the Map iteration this event belongs to. */
  readonly mapIterationIndex?: number;
  /** The Map or Parallel state, for iteration and branch events. */
  readonly parentStateName?: string;
  /** On exits, failures and iteration/branch ends: time since the matching start, retries included. */
  readonly durationMs?: number;
  readonly input?: JsonValue;
  readonly output?: JsonValue;
  readonly error?: string;
  readonly cause?: string;
  readonly retryAttempt?: number;
  /** On StateCaught: the state the catcher sends the execution to. */
  readonly catchNext?: string;
}

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly name: string;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  status: ExecutionStatus;
  readonly startDate: string;
  stopDate?: string;
  readonly input: JsonValue;
  output?: JsonValue;
  error?: string;
  cause?: string;
  events: ExecutionEvent[];
}

export type ExecutionEventListener = (event: ExecutionEvent, execution: ExecutionRecord) => void;

/** The engine's event, loosely typed: Rotor reads only these fields. */
export interface EngineEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: JsonValue; output?: JsonValue };
  parentState?: { name: string; type: string };
  index?: number;
  input?: JsonValue;
  output?: JsonValue;
  Error?: string;
  Cause?: unknown;
  retry?: { attempt: number };
  catch?: { catcher: { Next: string } };
}

const TERMINAL_EXECUTION_EVENTS = new Set(['ExecutionSucceeded', 'ExecutionFailed', 'ExecutionAborted', 'ExecutionTimeout']);

export class LocalExecution {
  readonly #record: ExecutionRecord;
  readonly #listeners = new Set<ExecutionEventListener>();
  readonly #startedAt = new Map<string, number>();
  readonly #abort: () => void;
  readonly done: Promise<ExecutionRecord>;
  #finish!: (record: ExecutionRecord) => void;

  constructor(record: ExecutionRecord, abort: () => void) {
    this.#record = record;
    this.#abort = abort;
    this.done = new Promise((resolve) => (this.#finish = resolve));
  }

  get executionArn(): string {
    return this.#record.executionArn;
  }

  get name(): string {
    return this.#record.name;
  }

  get status(): ExecutionStatus {
    return this.#record.status;
  }

  /** A copy that later events do not change. */
  snapshot(): ExecutionRecord {
    return structuredClone(this.#record);
  }

  /** Stops the execution as StopExecution does; a Task already running finishes, but nothing runs after it. */
  abort(): void {
    if (this.#record.status === 'RUNNING') this.#abort();
  }

  subscribe(listener: ExecutionEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Every event so far, then each new one as it happens, ending when the execution ends. */
  async *watch(): AsyncGenerator<ExecutionEvent> {
    const pending: ExecutionEvent[] = [];
    let wake: (() => void) | undefined;
    const unsubscribe = this.subscribe((event) => {
      pending.push(event);
      wake?.();
    });
    let ended = false;
    void this.done.then(() => {
      ended = true;
      wake?.();
    });
    try {
      yield* [...this.#record.events];
      while (true) {
        while (pending.length > 0) yield pending.shift()!;
        if (ended) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      unsubscribe();
    }
  }

  /** Translates and records one engine event, then tells every subscriber. */
  recordEngineEvent(engineEvent: EngineEvent): void {
    const event = this.#translate(engineEvent);
    this.#record.events.push(event);
    if (event.type === 'ExecutionFailed' || event.type === 'ExecutionTimeout') {
      this.#record.error ??= event.error;
      this.#record.cause ??= event.cause;
    }
    for (const listener of this.#listeners) {
      try {
        listener(event, this.#record);
      } catch {
        // A failing dashboard or CLI listener must not change the outcome of an execution.
      }
    }
  }

  complete(outcome: { status: Exclude<ExecutionStatus, 'RUNNING'>; output?: JsonValue; error?: string; cause?: string }): ExecutionRecord {
    const record = this.#record;
    record.status = outcome.status;
    record.stopDate = new Date().toISOString();
    if (outcome.output !== undefined) record.output = outcome.output;
    // The engine's ExecutionFailed event names the failing state's error precisely; the fallback is generic.
    if (outcome.error !== undefined) record.error ??= outcome.error;
    if (outcome.cause !== undefined) record.cause ??= outcome.cause;
    this.#finish(this.snapshot());
    return record;
  }

  #translate(engineEvent: EngineEvent): ExecutionEvent {
    const base = {
      id: this.#record.events.length + 1,
      type: engineEvent.type,
      timestamp: new Date(engineEvent.timestamp).toISOString(),
    };
    const index = engineEvent.index;
    const details: Record<string, unknown> = {};
    if (engineEvent.state) {
      details.stateName = engineEvent.state.name;
      details.stateType = engineEvent.state.type;
      const key = `state:${engineEvent.state.name}#${index ?? ''}`;
      if (engineEvent.type === 'StateEntered') {
        this.#startedAt.set(key, engineEvent.timestamp);
        details.input = engineEvent.state.input;
      } else if (engineEvent.type === 'StateExited' || engineEvent.type === 'StateFailed') {
        details.durationMs = this.#elapsedSince(key, engineEvent.timestamp);
      }
      if (engineEvent.type === 'StateExited') details.output = engineEvent.state.output;
    }
    if (engineEvent.parentState) {
      details.parentStateName = engineEvent.parentState.name;
      const key = `${engineEvent.type.replace(/(Started|Succeeded|Failed)$/, '')}:${engineEvent.parentState.name}#${index ?? ''}`;
      if (engineEvent.type.endsWith('Started')) this.#startedAt.set(key, engineEvent.timestamp);
      else details.durationMs = this.#elapsedSince(key, engineEvent.timestamp);
    }
    if (engineEvent.type === 'ExecutionStarted') this.#startedAt.set('execution', engineEvent.timestamp);
    if (TERMINAL_EXECUTION_EVENTS.has(engineEvent.type)) details.durationMs = this.#elapsedSince('execution', engineEvent.timestamp);
    if (engineEvent.type === 'ExecutionSucceeded' || engineEvent.type.endsWith('Succeeded')) {
      if (engineEvent.output !== undefined) details.output = engineEvent.output;
    }
    if (index !== undefined) details.mapIterationIndex = index;
    if (engineEvent.Error !== undefined) details.error = engineEvent.Error;
    if (engineEvent.Cause !== undefined) details.cause = causeText(engineEvent.Cause);
    if (engineEvent.type === 'ExecutionTimeout') {
      details.error = 'States.Timeout';
      details.cause = 'the execution ran longer than the state machine TimeoutSeconds';
    }
    if (engineEvent.retry) details.retryAttempt = engineEvent.retry.attempt;
    if (engineEvent.catch) details.catchNext = engineEvent.catch.catcher.Next;
    return { ...base, ...details };
  }

  #elapsedSince(key: string, timestamp: number): number | undefined {
    const started = this.#startedAt.get(key);
    return started === undefined ? undefined : timestamp - started;
  }
}

function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return JSON.stringify(cause);
}
