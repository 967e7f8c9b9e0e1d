import type { ExecutionView, StateMachineView } from '../../shared/dashboard/contract.ts';
import { parseAsl } from '../src/lib/asl.ts';

/** A pretend execution for the fixture API: it follows Next, else the first Choice, from StartAt, a state a second. */
export interface FixtureRun {
  readonly name: string;
  readonly stateMachine: string;
  readonly input: Record<string, unknown>;
  readonly startedAt: number;
  readonly path: readonly string[];
  /** The last state is a Fail state. */
  readonly fails: boolean;
}

const STEP_MS = 1000;

export function startFixtureExecution(body: Record<string, unknown>, machines: readonly StateMachineView[]): FixtureRun | null {
  const machine = machines.find((candidate) => candidate.name === body.stateMachine);
  const graph = machine && parseAsl(machine.definition);
  if (!machine || !graph) return null;
  const path: string[] = [];
  let at: string | undefined = graph.startAt;
  while (at && path.length < 60) {
    path.push(at);
    const from: string = at;
    const out = graph.edges.filter((edge) => edge.from === from && edge.kind !== 'catch');
    at = (out.find((edge) => edge.kind === 'next') ?? out.find((edge) => edge.kind === 'choice') ?? out[0])?.to;
  }
  const fails = graph.states.find((state) => state.name === path[path.length - 1])?.type === 'Fail';
  const input = typeof body.input === 'object' && body.input !== null ? (body.input as Record<string, unknown>) : {};
  return { name: `dev-${machine.name}-${Date.now()}`, stateMachine: machine.name, input, startedAt: Date.now(), path, fails };
}

export function fixtureExecution(run: FixtureRun, now: number): ExecutionView {
  const steps = Math.min(run.path.length, Math.floor((now - run.startedAt) / STEP_MS) + 1);
  const done = steps === run.path.length && now - run.startedAt >= run.path.length * STEP_MS;
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    name: run.name,
    stateMachine: run.stateMachine,
    status: done ? (run.fails ? 'FAILED' : 'SUCCEEDED') : 'RUNNING',
    region: typeof run.input.targetRegion === 'string' ? run.input.targetRegion : 'us-east-1',
    startDate: iso(run.startedAt),
    ...(done ? { stopDate: iso(run.startedAt + run.path.length * STEP_MS), ...(run.fails ? { error: 'Fixture.Failed', cause: 'the fixture walked into a Fail state' } : { output: { fixture: true } }) } : {}),
    input: run.input,
    states: run.path.slice(0, steps).map((name, index) => {
      const exited = index < steps - 1 || done;
      return {
        name,
        enteredAt: iso(run.startedAt + index * STEP_MS),
        ...(exited ? { exitedAt: iso(run.startedAt + (index + 1) * STEP_MS - 50), outcome: 'succeeded' as const } : {}),
      };
    }),
  };
}
