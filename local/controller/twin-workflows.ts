import { randomUUID } from 'node:crypto';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AppName, StateMachineSpec, Topology } from '#shared/topology/schema.ts';
import { createStateMachineRunner, type StateMachineRunner } from '#local/stepfunctions/runner.ts';
import type { ExecutionRecord } from '#local/stepfunctions/execution.ts';
import type { TaskHandlers } from '#local/stepfunctions/task-handlers.ts';
import { FunctionError } from '#local/controller/errors.ts';
import type { FunctionInvoker } from '#local/controller/function-invoker.ts';

/**
 * The twin's Step Functions: every state machine of the manifest whose definition exists in `workflows/`, run by
 * the local runner with its Lambda tasks invoked in the region the execution runs in — the app's active region
 * when it starts, unless the caller names one (disaster recovery runs in the region that survives). On AWS the
 * same ASL runs in each region's Step Functions; here one runner serves both regions and keeps every execution's
 * history under the twin's data directory.
 */

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface StateMachineSummary {
  readonly name: string;
  readonly app: AppName | undefined;
  readonly definition: string;
  /** False when the definition file is not there yet; `reason` says so. */
  readonly available: boolean;
  readonly reason?: string;
}

export interface StartedExecution {
  readonly stateMachine: string;
  readonly executionArn: string;
  readonly name: string;
  readonly region: string;
  readonly startDate: string;
}

export type TwinExecution = ExecutionRecord & { readonly region: string };

export class StateMachineNotFoundError extends Error {
  override readonly name = 'StateMachineNotFoundError';
}

export class TaskFunctionError extends Error {
  constructor(errorType: string, message: string) {
    super(message);
    this.name = errorType;
  }
}

export interface TwinWorkflowsOptions {
  readonly topology: Topology;
  readonly invoker: FunctionInvoker;
  /** Where execution history is kept. */
  readonly dataDir: string;
  /** Where `workflows/` is found; default the repository. */
  readonly codeRoot?: string;
}

export class TwinWorkflows {
  readonly #runners: ReadonlyMap<string, { spec: StateMachineSpec; runner: StateMachineRunner }>;
  readonly #summaries: readonly StateMachineSummary[];
  readonly #invoker: FunctionInvoker;
  readonly #regionOfExecution: Map<string, string>;

  private constructor(parts: {
    runners: Map<string, { spec: StateMachineSpec; runner: StateMachineRunner }>;
    summaries: StateMachineSummary[];
    invoker: FunctionInvoker;
    regionOfExecution: Map<string, string>;
  }) {
    this.#runners = parts.runners;
    this.#summaries = parts.summaries;
    this.#invoker = parts.invoker;
    this.#regionOfExecution = parts.regionOfExecution;
  }

  static async load(options: TwinWorkflowsOptions): Promise<TwinWorkflows> {
    const codeRoot = options.codeRoot ?? REPOSITORY_ROOT;
    const regionOfExecution = new Map<string, string>();
    const handlers = taskHandlers(options.topology, options.invoker, regionOfExecution);
    const runners = new Map<string, { spec: StateMachineSpec; runner: StateMachineRunner }>();
    const summaries: StateMachineSummary[] = [];
    for (const spec of options.topology.stateMachines) {
      const file = path.resolve(codeRoot, spec.definition);
      const summary = { name: spec.name, app: spec.app, definition: spec.definition };
      if (!(await exists(file))) {
        summaries.push({ ...summary, available: false, reason: `${spec.definition} is not written yet` });
        continue;
      }
      const runner = await createStateMachineRunner({
        definition: file,
        stateMachineName: spec.name,
        handlers,
        dataDir: path.join(options.dataDir, spec.name),
      });
      for (const record of runner.list()) regionOfExecution.set(record.name, regionFromInput(record.input) ?? '');
      runners.set(spec.name, { spec, runner });
      summaries.push({ ...summary, available: true });
    }
    return new TwinWorkflows({ runners, summaries, invoker: options.invoker, regionOfExecution });
  }

  stateMachines(): readonly StateMachineSummary[] {
    return this.#summaries;
  }

  /** StartExecution: in `region`, or where the state machine's app is active now. */
  async start(stateMachine: string, input: Record<string, unknown>, options: { name?: string; region?: string } = {}): Promise<StartedExecution> {
    const { spec, runner } = this.#runner(stateMachine);
    if (!options.region && !spec.app) throw new StateMachineNotFoundError(`state machine ${stateMachine} belongs to no app; name the region to run it in`);
    const region = this.#invoker.regionOf(options.region ? { region: options.region } : { app: spec.app! });
    // Known before the engine runs its first task, which may come before start() returns.
    const name = options.name ?? randomUUID();
    this.#regionOfExecution.set(name, region);
    const execution = await runner.start({ ...input, region }, { name });
    const record = execution.snapshot();
    return { stateMachine, executionArn: record.executionArn, name: record.name, region, startDate: record.startDate };
  }

  /** DescribeExecution with its history, by name or ARN, in whichever state machine has it. */
  describe(nameOrArn: string): TwinExecution {
    for (const { runner } of this.#runners.values()) {
      try {
        const record = runner.describe(nameOrArn);
        return { ...record, region: this.#regionOfExecution.get(record.name) ?? regionFromInput(record.input) ?? '' };
      } catch (error) {
        if ((error as Error).name !== 'ExecutionNotFoundError') throw error;
      }
    }
    throw new StateMachineNotFoundError(`no execution named ${nameOrArn}`);
  }

  list(stateMachine: string): Array<Omit<ExecutionRecord, 'events'>> {
    return this.#runner(stateMachine).runner.list();
  }

  stop(nameOrArn: string): boolean {
    for (const { runner } of this.#runners.values()) {
      const running = runner.running(nameOrArn);
      if (running) {
        running.abort();
        return true;
      }
    }
    return false;
  }

  async close(): Promise<void> {
    await Promise.all([...this.#runners.values()].map(({ runner }) => runner.close({ abortRunning: true })));
  }

  #runner(stateMachine: string): { spec: StateMachineSpec; runner: StateMachineRunner } {
    const found = this.#runners.get(stateMachine);
    if (found) return found;
    const summary = this.#summaries.find((candidate) => candidate.name === stateMachine);
    if (summary) throw new StateMachineNotFoundError(`state machine ${stateMachine} is not available: ${summary.reason}`);
    throw new StateMachineNotFoundError(`no state machine named ${stateMachine}; the manifest has ${this.#summaries.map((candidate) => candidate.name).join(', ')}`);
  }
}

/** Every manifest function, invoked where its execution runs; a function's error keeps its own name, as Lambda reports it. */
function taskHandlers(topology: Topology, invoker: FunctionInvoker, regionOfExecution: ReadonlyMap<string, string>): TaskHandlers {
  return Object.fromEntries(
    topology.functions.map((fn) => [
      fn.name,
      async (payload: unknown, context: { executionName: string }) => {
        const { invokeIn, request } = splitInvokeIn(payload);
        const region = invokeIn ?? regionOfExecution.get(context.executionName);
        if (!region) throw new TaskFunctionError('States.Runtime', `execution ${context.executionName} has no region`);
        try {
          return (await invoker.invoke({ region }, fn.name, request)).result;
        } catch (error) {
          if (error instanceof FunctionError) throw new TaskFunctionError(error.errorType, error.errorMessage);
          throw error;
        }
      },
    ]),
  );
}

/**
 * A task's payload may name the region whose function runs it (`invokeIn`): a rotation drains the source and
 * reconciles the target from one execution. On AWS such a task goes through the `invoke-in` relay, which invokes the
 * function in that region (stacks/plan/workflows.ts); here the field is taken off the payload, so the function sees
 * what it would on AWS.
 */
export function splitInvokeIn(payload: unknown): { invokeIn: string | undefined; request: unknown } {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload) || !('invokeIn' in payload)) return { invokeIn: undefined, request: payload };
  const { invokeIn, ...request } = payload as { invokeIn?: unknown };
  if (typeof invokeIn !== 'string' || invokeIn === '') throw new TaskFunctionError('States.Runtime', `invokeIn must name a region, not ${JSON.stringify(invokeIn)}`);
  return { invokeIn, request };
}

function regionFromInput(input: unknown): string | undefined {
  const region = (input as { region?: unknown } | null)?.region;
  return typeof region === 'string' ? region : undefined;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
