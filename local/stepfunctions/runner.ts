import '#local/stepfunctions/promise-with-resolvers.ts';
import { randomUUID } from 'node:crypto';
import {
  ExecutionAbortedError,
  ExecutionError,
  ExecutionTimeoutError,
  StateMachine,
  type RunOptions,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import {
  loadDefinition,
  stateMachineNameFromFile,
  visitStates,
  type AslStateMachine,
  type JsonValue,
} from '#local/stepfunctions/definition.ts';
import {
  ExecutionAlreadyExistsError,
  ExecutionNotFoundError,
  InvalidExecutionNameError,
  StepFunctionsRunnerError,
} from '#local/stepfunctions/errors.ts';
import {
  LocalExecution,
  type EngineEvent,
  type ExecutionEventListener,
  type ExecutionRecord,
  type ExecutionStatus,
} from '#local/stepfunctions/execution.ts';
import { ExecutionStore } from '#local/stepfunctions/execution-store.ts';
import { bindLambdaTasks, engineTaskHandlers, type LambdaTaskBinding, type TaskHandlers } from '#local/stepfunctions/task-handlers.ts';

/**
 * Rotor's local Step Functions: runs a workflow (rotation, DR, reconciliation, replay) with the same ASL as
 * AWS, calling the operations functions in-process, and keeps a StartExecution / DescribeExecution /
 * ListExecutions / StopExecution-like record of every execution.
 */

export interface StateMachineRunnerOptions {
  /** An ASL object, or the path of a `workflows/*.asl.json` file. */
  readonly definition: AslStateMachine | string;
  /** Defaults to the file name without `.asl.json`, or "state-machine" for an inline definition. */
  readonly stateMachineName?: string;
  readonly handlers: TaskHandlers;
  /** Where execution history is kept; omitted, history lives in memory only. */
  readonly dataDir?: string;
  readonly region?: string;
  readonly accountId?: string;
  /** Milliseconds every Wait state (a number) or the named ones (an object) pause instead of their own time. */
  readonly waitOverridesMs?: number | Readonly<Record<string, number>>;
  /** Milliseconds between retries for every retrying state (a number) or the named ones (per retrier with an array). */
  readonly retryOverridesMs?: number | Readonly<Record<string, number | number[]>>;
}

export interface StartExecutionOptions {
  /** 1–80 characters, no whitespace or `< > { } [ ] ? * " # % \ ^ | ~ \` $ & , ; : /`; defaults to a UUID. */
  readonly name?: string;
}

export interface ListExecutionsOptions {
  readonly status?: ExecutionStatus;
}

const DEFAULT_REGION = 'us-east-1';
const DEFAULT_ACCOUNT_ID = '000000000000';
const EXECUTION_NAME = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

export async function createStateMachineRunner(options: StateMachineRunnerOptions): Promise<StateMachineRunner> {
  const { definition, source } = await loadDefinition(options.definition);
  const stateMachineName =
    options.stateMachineName ??
    (typeof options.definition === 'string' ? stateMachineNameFromFile(options.definition) : 'state-machine');
  const bindings = bindLambdaTasks(stateMachineName, definition, options.handlers);
  const store = options.dataDir === undefined ? undefined : new ExecutionStore(options.dataDir, stateMachineName);
  const history = store ? await store.loadAll() : [];
  return new StateMachineRunner({ ...options, stateMachineName, source, definition, bindings, store, history });
}

interface RunnerParts extends StateMachineRunnerOptions {
  readonly stateMachineName: string;
  readonly source: string;
  readonly definition: AslStateMachine;
  readonly bindings: LambdaTaskBinding[];
  readonly store: ExecutionStore | undefined;
  readonly history: ExecutionRecord[];
}

export class StateMachineRunner {
  readonly stateMachineName: string;
  readonly stateMachineArn: string;
  readonly source: string;
  readonly taskBindings: readonly LambdaTaskBinding[];
  readonly #parts: RunnerParts;
  readonly #engine: StateMachine;
  readonly #overrides: NonNullable<RunOptions['overrides']>;
  readonly #finished = new Map<string, ExecutionRecord>();
  readonly #running = new Map<string, LocalExecution>();
  readonly #runs = new Set<Promise<void>>();
  readonly #listeners = new Set<ExecutionEventListener>();

  constructor(parts: RunnerParts) {
    this.#parts = parts;
    this.stateMachineName = parts.stateMachineName;
    this.source = parts.source;
    this.taskBindings = parts.bindings;
    const region = parts.region ?? DEFAULT_REGION;
    const accountId = parts.accountId ?? DEFAULT_ACCOUNT_ID;
    this.stateMachineArn = `arn:aws:states:${region}:${accountId}:stateMachine:${parts.stateMachineName}`;
    // The definition was validated on load; the engine's own check would only repeat it.
    this.#engine = new StateMachine(parts.definition as unknown as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    });
    this.#overrides = {
      waitTimeOverrides: expandOverride(parts.definition, parts.waitOverridesMs, (state) => state.Type === 'Wait'),
      retryIntervalOverrides: expandOverride(parts.definition, parts.retryOverridesMs, (state) => Array.isArray(state.Retry)),
    };
    for (const record of parts.history) this.#finished.set(record.name, record);
  }

  /** Starts an execution and returns at once; await `execution.done` for its outcome. */
  async start(input: unknown = {}, options: StartExecutionOptions = {}): Promise<LocalExecution> {
    const name = options.name ?? randomUUID();
    if (!EXECUTION_NAME.test(name)) {
      throw new InvalidExecutionNameError(
        `execution name ${JSON.stringify(name)} is invalid: use 1–80 characters without whitespace or < > { } [ ] ? * " # % \\ ^ | ~ \` $ & , ; : /`,
      );
    }
    if (this.#finished.has(name) || this.#running.has(name)) throw new ExecutionAlreadyExistsError(name);
    const jsonInput = toJson(input);
    const executionArn = this.stateMachineArn.replace(':stateMachine:', ':execution:') + `:${name}`;
    const record: ExecutionRecord = {
      executionArn,
      name,
      stateMachineArn: this.stateMachineArn,
      stateMachineName: this.stateMachineName,
      status: 'RUNNING',
      startDate: new Date().toISOString(),
      input: jsonInput,
      events: [],
    };

    const handlers = engineTaskHandlers(this.taskBindings, this.#parts.handlers, (binding) => ({
      stateMachineName: this.stateMachineName,
      executionName: name,
      executionArn,
      stateName: binding.stateName,
      functionName: binding.functionName,
    }));
    const run = this.#engine.run(jsonInput as never, {
      overrides: { ...this.#overrides, taskResourceLocalHandlers: handlers as never },
      context: {
        Execution: { Id: executionArn, Name: name, StartTime: record.startDate },
        StateMachine: { Id: this.stateMachineArn, Name: this.stateMachineName },
      },
    });
    const execution = new LocalExecution(record, run.abort);
    this.#running.set(name, execution);
    execution.subscribe((event, current) => {
      this.#parts.store?.saveSoon(current);
      for (const listener of this.#listeners) listener(event, current);
    });
    // Driven before anything is awaited: an execution that fails at once must find its outcome handled.
    const finished = this.#drive(execution, run.eventLogs as AsyncGenerator<EngineEvent>, run.result);
    this.#runs.add(finished);
    void finished.finally(() => this.#runs.delete(finished));
    await this.#parts.store?.saveNow(record);
    return execution;
  }

  /** DescribeExecution: by name or ARN, running or finished. */
  describe(nameOrArn: string): ExecutionRecord {
    const name = nameOrArn.startsWith('arn:') ? (nameOrArn.split(':').at(-1) ?? nameOrArn) : nameOrArn;
    const running = this.#running.get(name);
    if (running) return running.snapshot();
    const finished = this.#finished.get(name);
    if (finished) return structuredClone(finished);
    throw new ExecutionNotFoundError(nameOrArn);
  }

  /** The live handle of a running execution (to abort or watch it), if any. */
  running(nameOrArn: string): LocalExecution | undefined {
    return this.#running.get(nameOrArn.startsWith('arn:') ? (nameOrArn.split(':').at(-1) ?? '') : nameOrArn);
  }

  /** ListExecutions: newest first, events left out (use `describe` for those). */
  list(options: ListExecutionsOptions = {}): Array<Omit<ExecutionRecord, 'events'>> {
    const all = [...[...this.#running.values()].map((execution) => execution.snapshot()), ...this.#finished.values()];
    return all
      .filter((record) => options.status === undefined || record.status === options.status)
      .sort((a, b) => b.startDate.localeCompare(a.startDate))
      .map(({ events: _events, ...summary }) => structuredClone(summary));
  }

  /** Every event of every execution of this state machine, as it happens (for the dashboard). */
  subscribe(listener: ExecutionEventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Waits for running executions (aborting them first when asked) and writes all history to disk. */
  async close(options: { abortRunning?: boolean } = {}): Promise<void> {
    if (options.abortRunning) for (const execution of this.#running.values()) execution.abort();
    await Promise.all(this.#runs);
    await this.#parts.store?.flush();
  }

  async #drive(execution: LocalExecution, events: AsyncGenerator<EngineEvent>, result: Promise<unknown>): Promise<void> {
    const pumped = (async () => {
      for await (const event of events) execution.recordEngineEvent(event);
    })();
    const outcome = await result.then(
      (output) => ({ status: 'SUCCEEDED' as const, output: output as JsonValue }),
      (error: unknown) => failureOutcome(error),
    );
    // Every terminal outcome closes the engine's event stream, so this ends right after the last event.
    await pumped;
    const record = execution.complete(outcome);
    this.#running.delete(execution.name);
    this.#finished.set(execution.name, record);
    await this.#parts.store?.saveNow(record).catch(() => undefined);
  }
}

function failureOutcome(error: unknown): { status: Exclude<ExecutionStatus, 'RUNNING' | 'SUCCEEDED'>; error: string; cause: string } {
  if (error instanceof ExecutionAbortedError) return { status: 'ABORTED', error: 'States.Aborted', cause: 'the execution was stopped' };
  if (error instanceof ExecutionTimeoutError) {
    return { status: 'TIMED_OUT', error: 'States.Timeout', cause: 'the execution ran longer than TimeoutSeconds' };
  }
  const underlying = error instanceof ExecutionError && error.cause instanceof Error ? error.cause : error;
  if (underlying instanceof Error) return { status: 'FAILED', error: underlying.name, cause: underlying.message };
  return { status: 'FAILED', error: 'States.Runtime', cause: String(underlying) };
}

function expandOverride<T>(
  definition: AslStateMachine,
  override: T | Readonly<Record<string, T>> | undefined,
  applies: (state: { Type: string; Retry?: unknown[] }) => boolean,
): Record<string, T> {
  if (override === undefined) return {};
  if (typeof override !== 'number') return { ...(override as Readonly<Record<string, T>>) };
  const expanded: Record<string, T> = {};
  visitStates(definition, ({ stateName, state }) => {
    if (applies(state)) expanded[stateName] = override as T;
  });
  return expanded;
}

function toJson(input: unknown): JsonValue {
  try {
    return JSON.parse(JSON.stringify(input ?? {})) as JsonValue;
  } catch (error) {
    throw new StepFunctionsRunnerError(`execution input must be JSON-serialisable: ${(error as Error).message}`, { cause: error });
  }
}
