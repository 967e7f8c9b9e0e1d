import { randomUUID } from 'node:crypto';
import { DescribeExecutionCommand, DescribeStateMachineCommand, GetExecutionHistoryCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand, type HistoryEvent } from '@aws-sdk/client-sfn';
import type { AppName, ExecutionSummary, ExecutionView, StateMachineView } from '#shared/dashboard/contract.ts';
import type { WorkflowRuns } from '#shared/dashboard/aws-backend.ts';

/**
 * The manifest's state machines in Step Functions, as the dashboard shows them: each region runs its own copy
 * (one stage per region), so executions are listed in every region and an execution is found by its name.
 */

export interface StepFunctionsRunsOptions {
  /** Region → manifest state machine name (`tm-rotation`) → its ARN in that region. */
  readonly stateMachines: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly client?: (region: string) => SFNClient;
}

export class ExecutionNotFoundError extends Error {
  override readonly name = 'ExecutionNotFoundError';
}

export class StateMachineNotFoundError extends Error {
  override readonly name = 'StateMachineNotFoundError';
}

const appOf = (name: string): AppName | null => (name.startsWith('tm-') ? 'trade-matching' : name.startsWith('sm-') ? 'settlement' : null);

export class StepFunctionsRuns implements WorkflowRuns {
  readonly #clients = new Map<string, SFNClient>();

  constructor(private readonly options: StepFunctionsRunsOptions) {}

  async stateMachines(): Promise<StateMachineView[]> {
    const [region, machines] = Object.entries(this.options.stateMachines)[0] ?? [];
    if (!region || !machines) return [];
    return Promise.all(
      Object.entries(machines).map(async ([name, arn]): Promise<StateMachineView> => {
        try {
          const described = await this.#client(region).send(new DescribeStateMachineCommand({ stateMachineArn: arn }));
          return { name, app: appOf(name), definition: JSON.parse(described.definition ?? 'null') as unknown, available: true };
        } catch {
          return { name, app: appOf(name), definition: null, available: false };
        }
      }),
    );
  }

  async recent(limit: number): Promise<ExecutionSummary[]> {
    const lists = await Promise.all(
      this.#machines().map(async ({ region, name, arn }) => {
        const page = await this.#client(region).send(new ListExecutionsCommand({ stateMachineArn: arn, maxResults: limit }));
        return (page.executions ?? []).map(
          (execution): ExecutionSummary => ({
            name: execution.name ?? '',
            stateMachine: name,
            status: (execution.status ?? 'RUNNING') as ExecutionSummary['status'],
            region,
            startDate: (execution.startDate ?? new Date(0)).toISOString(),
            ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
          }),
        );
      }),
    );
    return lists.flat().sort((a, b) => b.startDate.localeCompare(a.startDate)).slice(0, limit);
  }

  async describe(name: string): Promise<ExecutionView> {
    const found = (await this.recent(200)).find((execution) => execution.name === name);
    if (!found) throw new ExecutionNotFoundError(`no execution named ${name} among the newest of any state machine`);
    const arn = this.#machines().find((machine) => machine.region === found.region && machine.name === found.stateMachine)!.arn;
    const executionArn = `${arn.replace(':stateMachine:', ':execution:')}:${name}`;
    const client = this.#client(found.region);
    const described = await client.send(new DescribeExecutionCommand({ executionArn }));
    const events: HistoryEvent[] = [];
    let nextToken: string | undefined;
    do {
      const page = await client.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
      events.push(...(page.events ?? []));
      nextToken = page.nextToken;
    } while (nextToken);
    return {
      ...found,
      input: parse(described.input),
      ...(described.output === undefined ? {} : { output: parse(described.output) }),
      ...(described.error ? { error: described.error } : {}),
      ...(described.cause ? { cause: described.cause } : {}),
      states: statesOf(events),
    };
  }

  async start(region: string, stateMachine: string, input: Record<string, unknown>): Promise<string> {
    const arn = this.options.stateMachines[region]?.[stateMachine];
    if (!arn) throw new StateMachineNotFoundError(`no state machine ${stateMachine} in ${region}`);
    const name = `dashboard-${randomUUID()}`;
    await this.#client(region).send(new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify(input) }));
    return name;
  }

  #machines(): { region: string; name: string; arn: string }[] {
    return Object.entries(this.options.stateMachines).flatMap(([region, machines]) => Object.entries(machines).map(([name, arn]) => ({ region, name, arn })));
  }

  #client(region: string): SFNClient {
    let client = this.#clients.get(region);
    if (!client) {
      client = this.options.client?.(region) ?? new SFNClient({ region });
      this.#clients.set(region, client);
    }
    return client;
  }
}

const parse = (text: string | undefined): unknown => {
  try {
    return text === undefined ? null : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
};

/** States in the order entered, from the execution's history: entered, exited, and whether a failure or retry hit them. */
export function statesOf(events: readonly HistoryEvent[]): ExecutionView['states'] {
  const states: { name: string; enteredAt: string; exitedAt?: string; outcome?: 'succeeded' | 'failed' | 'retried' }[] = [];
  for (const event of events) {
    const at = (event.timestamp ?? new Date(0)).toISOString();
    if (event.stateEnteredEventDetails?.name) states.push({ name: event.stateEnteredEventDetails.name, enteredAt: at });
    const current = states.at(-1);
    if (!current || current.exitedAt) continue;
    if (event.stateExitedEventDetails?.name === current.name) {
      current.exitedAt = at;
      current.outcome ??= 'succeeded';
    } else if (event.type?.endsWith('Failed') || event.type === 'ExecutionTimedOut' || event.type === 'ExecutionAborted') {
      current.outcome = event.type === 'TaskFailed' || event.type === 'LambdaFunctionFailed' ? 'retried' : 'failed';
      if (event.type.startsWith('Execution')) current.exitedAt = at;
    }
  }
  return states;
}
