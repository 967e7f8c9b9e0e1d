import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionEvent, ExecutionRecord } from '#local/stepfunctions/execution.ts';
import type { StateMachineSummary, TwinExecution } from '#local/controller/twin-workflows.ts';
import type { ExecutionSummary, ExecutionView, StateMachineView } from '#shared/dashboard/contract.ts';

/** The twin's workflow executions and state machines as the dashboard shows them (contract.ts). */

export const RECENT_EXECUTIONS = 20;

const REPOSITORY_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What the dashboard reads of TwinWorkflows. */
export interface WorkflowsReader {
  stateMachines(): readonly StateMachineSummary[];
  list(stateMachine: string): Array<Omit<ExecutionRecord, 'events'>>;
}

/** ListExecutions' fields; the region is the one the execution was started in (TwinWorkflows puts it in the input). */
export function executionSummary(record: Omit<ExecutionRecord, 'events'>, region?: string): ExecutionSummary {
  return {
    name: record.name,
    stateMachine: record.stateMachineName,
    status: record.status,
    region: region ?? regionOfInput(record.input) ?? '',
    startDate: record.startDate,
    ...(record.stopDate === undefined ? {} : { stopDate: record.stopDate }),
  };
}

/** The newest `limit` executions over every available state machine, newest first. */
export function recentExecutions(workflows: WorkflowsReader, limit = RECENT_EXECUTIONS): ExecutionSummary[] {
  return workflows
    .stateMachines()
    .filter((machine) => machine.available)
    .flatMap((machine) => workflows.list(machine.name).slice(0, limit))
    .sort((a, b) => b.startDate.localeCompare(a.startDate))
    .slice(0, limit)
    .map((record) => executionSummary(record));
}

/**
 * DescribeExecution plus the states in the order entered. A state's `outcome`: `succeeded` when it exited normally;
 * `failed` when it failed for good (its error caught, or the execution failed with it); `retried` when it failed and
 * was retried — with `exitedAt` it then exited normally, without it the retry is still running.
 */
export function executionView(execution: TwinExecution): ExecutionView {
  return {
    ...executionSummary(execution, execution.region || undefined),
    input: execution.input,
    ...(execution.output === undefined ? {} : { output: execution.output }),
    ...(execution.error === undefined ? {} : { error: execution.error }),
    ...(execution.cause === undefined ? {} : { cause: execution.cause }),
    states: statesOf(execution.events, executionSummary(execution).status === 'RUNNING'),
  };
}

type StateEntry = { name: string; enteredAt: string; exitedAt?: string; outcome?: 'succeeded' | 'failed' | 'retried' };

function statesOf(events: readonly ExecutionEvent[], running: boolean): ExecutionView['states'] {
  const entries: StateEntry[] = [];
  // The open entry of each state (per Map iteration): retries and exits belong to the latest entry of that name.
  const open = new Map<string, StateEntry>();
  for (const event of events) {
    if (event.stateName === undefined) continue;
    const key = `${event.stateName}#${event.mapIterationIndex ?? ''}`;
    if (event.type === 'StateEntered') {
      const entry: StateEntry = { name: event.stateName, enteredAt: event.timestamp };
      entries.push(entry);
      open.set(key, entry);
      continue;
    }
    const entry = open.get(key);
    if (!entry) continue;
    switch (event.type) {
      case 'StateFailed':
        entry.exitedAt = event.timestamp;
        entry.outcome = 'failed';
        break;
      case 'StateRetried':
        delete entry.exitedAt;
        entry.outcome = 'retried';
        break;
      case 'StateCaught':
        entry.outcome = 'failed';
        break;
      case 'StateExited':
        entry.exitedAt = event.timestamp;
        entry.outcome ??= 'succeeded';
        open.delete(key);
        break;
      default:
        break;
    }
  }
  // A running execution whose latest event is a state's failure is waiting out that state's retry backoff (the
  // runner records the retry when it starts it): the state has not failed for good.
  const last = events.at(-1);
  if (running && last?.type === 'StateFailed' && last.stateName !== undefined) {
    const waiting = open.get(`${last.stateName}#${last.mapIterationIndex ?? ''}`);
    if (waiting) {
      delete waiting.exitedAt;
      waiting.outcome = 'retried';
    }
  }
  return entries.map((entry) => ({ ...entry }));
}

/** The manifest's state machines with their ASL (null when the definition file is not there or not JSON). */
export async function stateMachineViews(machines: readonly StateMachineSummary[], codeRoot = REPOSITORY_ROOT): Promise<StateMachineView[]> {
  return Promise.all(
    machines.map(async (machine) => ({
      name: machine.name,
      app: machine.app ?? null,
      definition: machine.available ? await readDefinition(path.resolve(codeRoot, machine.definition)) : null,
      available: machine.available,
    })),
  );
}

async function readDefinition(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as unknown;
  } catch {
    return null;
  }
}

function regionOfInput(input: unknown): string | undefined {
  const region = (input as { region?: unknown } | null)?.region;
  return typeof region === 'string' ? region : undefined;
}
