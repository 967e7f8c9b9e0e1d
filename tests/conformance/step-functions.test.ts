import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AslStateMachine, JsonValue } from '#local/stepfunctions/definition.ts';
import {
  ExecutionAlreadyExistsError,
  JsonataNotSupportedError,
  MissingTaskHandlerError,
} from '#local/stepfunctions/errors.ts';
import type { ExecutionEvent } from '#local/stepfunctions/execution.ts';
import { createStateMachineRunner, type StateMachineRunnerOptions } from '#local/stepfunctions/runner.ts';

const fn = (name: string): string => `arn:aws:lambda:us-east-1:123456789012:function:${name}`;

class DrainNotCompleteError extends Error {
  override readonly name = 'DrainNotCompleteError';
}

class ReconcileFailedError extends Error {
  override readonly name = 'ReconcileFailedError';
}

async function runToEnd(options: StateMachineRunnerOptions, input: unknown = {}) {
  const runner = await createStateMachineRunner(options);
  const execution = await runner.start(input);
  return { runner, record: await execution.done };
}

const stateTrail = (events: readonly ExecutionEvent[]): string[] =>
  events.map((event) => [event.type, event.stateName ?? event.parentStateName, event.mapIterationIndex].filter((part) => part !== undefined).join(':'));

describe('local Step Functions runner', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rotor-sfn-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  // AWS: Retry matches the error name in ErrorEquals and waits IntervalSeconds × BackoffRate^(attempt-1) between attempts.
  it('retries a named error with exponential backoff, then succeeds', async () => {
    // Prepare
    const callTimes: number[] = [];
    const definition: AslStateMachine = {
      StartAt: 'CheckDrained',
      States: {
        CheckDrained: {
          Type: 'Task',
          Resource: fn('rotor-drain-check'),
          Retry: [{ ErrorEquals: ['DrainNotCompleteError'], IntervalSeconds: 1, BackoffRate: 2, MaxAttempts: 3 }],
          End: true,
        },
      },
    };
    const handlers = {
      'rotor-drain-check': () => {
        callTimes.push(Date.now());
        if (callTimes.length < 3) throw new DrainNotCompleteError('42 records still in flight');
        return { drained: true };
      },
    };

    // Act
    const { record } = await runToEnd({ definition, handlers });

    // Assess
    expect(record.status).toBe('SUCCEEDED');
    expect(record.output).toEqual({ drained: true });
    const [first, second, third] = callTimes as [number, number, number];
    expect(second - first).toBeGreaterThanOrEqual(950);
    expect(third - second).toBeGreaterThanOrEqual(1950);
    expect(record.events.filter((event) => event.type === 'StateRetried').map((event) => event.retryAttempt)).toEqual([1, 2]);
  });

  // AWS: an error not listed in any retrier's ErrorEquals is not retried; the execution fails with the Lambda error.
  it('does not retry an error the retrier does not name, and fails with Lambda-shaped Error and Cause', async () => {
    // Prepare
    let calls = 0;
    const definition: AslStateMachine = {
      StartAt: 'CheckDrained',
      States: {
        CheckDrained: { Type: 'Task', Resource: fn('rotor-drain-check'), Retry: [{ ErrorEquals: ['DrainNotCompleteError'], MaxAttempts: 5 }], End: true },
      },
    };
    const handlers = {
      [fn('rotor-drain-check')]: () => {
        calls += 1;
        throw new ReconcileFailedError('ledger does not balance');
      },
    };

    // Act
    const { record } = await runToEnd({ definition, handlers, retryOverridesMs: 0 });

    // Assess
    expect(calls).toBe(1);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('ReconcileFailedError');
    expect(JSON.parse(record.cause ?? '{}')).toMatchObject({ errorType: 'ReconcileFailedError', errorMessage: 'ledger does not balance' });
    expect(record.stopDate).toBeDefined();
  });

  // AWS: Catch sends a failed state to its Next with {Error, Cause} placed at ResultPath on the original input.
  it('catches a failure and continues at the fallback state with the error at ResultPath', async () => {
    // Prepare
    const definition: AslStateMachine = {
      StartAt: 'Reconcile',
      States: {
        Reconcile: {
          Type: 'Task',
          Resource: fn('rotor-reconcile'),
          Catch: [{ ErrorEquals: ['ReconcileFailedError'], ResultPath: '$.failure', Next: 'ReportMissing' }],
          Next: 'Done',
        },
        ReportMissing: { Type: 'Pass', End: true },
        Done: { Type: 'Succeed' },
      },
    };
    const handlers = { 'rotor-reconcile': () => { throw new ReconcileFailedError('3 trades missing'); } };

    // Act
    const { record } = await runToEnd({ definition, handlers }, { app: 'trade-matching' });

    // Assess
    expect(record.status).toBe('SUCCEEDED');
    const output = record.output as { app: string; failure: { Error: string; Cause: string } };
    expect(output.app).toBe('trade-matching');
    expect(output.failure.Error).toBe('ReconcileFailedError');
    expect(JSON.parse(output.failure.Cause)).toMatchObject({ errorMessage: '3 trades missing' });
    expect(record.events.find((event) => event.type === 'StateCaught')).toMatchObject({ stateName: 'Reconcile', catchNext: 'ReportMissing' });
  });

  // AWS: Choice takes the first rule whose Variable comparison holds, else Default.
  it('routes by Choice rules and falls back to Default', async () => {
    // Prepare
    const definition: AslStateMachine = {
      StartAt: 'WhichApp',
      States: {
        WhichApp: {
          Type: 'Choice',
          Choices: [{ Variable: '$.app', StringEquals: 'trade-matching', Next: 'RotateTradeMatching' }],
          Default: 'RotateSettlement',
        },
        RotateTradeMatching: { Type: 'Pass', Result: 'tm', End: true },
        RotateSettlement: { Type: 'Pass', Result: 'sm', End: true },
      },
    };
    const runner = await createStateMachineRunner({ definition, handlers: {} });

    // Act
    const tradeMatching = await (await runner.start({ app: 'trade-matching' })).done;
    const settlement = await (await runner.start({ app: 'settlement' })).done;

    // Assess
    expect(tradeMatching.output).toBe('tm');
    expect(settlement.output).toBe('sm');
  });

  // AWS: Map runs at most MaxConcurrency iterations at once and returns results in item order.
  it('runs Map iterations at most MaxConcurrency at a time, results in item order', async () => {
    // Prepare
    let inFlight = 0;
    let maxInFlight = 0;
    const definition: AslStateMachine = {
      StartAt: 'ReplayEach',
      States: {
        ReplayEach: {
          Type: 'Map',
          ItemsPath: '$.tradeIds',
          MaxConcurrency: 2,
          ItemProcessor: { StartAt: 'Replay', States: { Replay: { Type: 'Task', Resource: fn('rotor-replay'), End: true } } },
          End: true,
        },
      },
    };
    const handlers = {
      'rotor-replay': async (tradeId: JsonValue) => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 20));
        inFlight -= 1;
        return { replayed: tradeId };
      },
    };

    // Act
    const { record } = await runToEnd({ definition, handlers }, { tradeIds: ['t1', 't2', 't3', 't4', 't5'] });

    // Assess
    expect(record.output).toEqual(['t1', 't2', 't3', 't4', 't5'].map((id) => ({ replayed: id })));
    expect(maxInFlight).toBe(2);
    const iterations = record.events.filter((event) => event.type === 'MapIterationSucceeded');
    expect(iterations.map((event) => event.mapIterationIndex).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(record.events.filter((event) => event.type === 'StateExited' && event.stateName === 'Replay').every((event) => event.mapIterationIndex !== undefined)).toBe(true);
  });

  // AWS: Parallel outputs one element per branch in branch order; lambda:invoke wraps the result in {Payload, StatusCode}.
  it('runs Parallel branches and passes lambda:invoke Payload in and out', async () => {
    // Prepare
    const received: JsonValue[] = [];
    const definition: AslStateMachine = {
      StartAt: 'CheckBothRegions',
      States: {
        CheckBothRegions: {
          Type: 'Parallel',
          Branches: ['us-east-1', 'us-west-2'].map((region) => ({
            StartAt: `Check ${region}`,
            States: {
              [`Check ${region}`]: {
                Type: 'Task',
                Resource: 'arn:aws:states:::lambda:invoke',
                Parameters: { FunctionName: fn('rotor-region-health'), Payload: { region, 'trades.$': '$.trades' } },
                ResultSelector: { 'health.$': '$.Payload', 'status.$': '$.StatusCode' },
                End: true,
              },
            },
          })),
          End: true,
        },
      },
    };
    const handlers = {
      'rotor-region-health': async (payload: JsonValue) => {
        received.push(payload);
        const { region } = payload as { region: string };
        return { region, healthy: region === 'us-west-2' };
      },
    };

    // Act
    const { record } = await runToEnd({ definition, handlers }, { trades: 7 });

    // Assess
    expect(record.output).toEqual([
      { health: { region: 'us-east-1', healthy: false }, status: 200 },
      { health: { region: 'us-west-2', healthy: true }, status: 200 },
    ]);
    expect(received).toContainEqual({ region: 'us-east-1', trades: 7 });
    expect(record.events.filter((event) => event.type === 'ParallelBranchSucceeded')).toHaveLength(2);
  });

  // AWS: a Wait state pauses for Seconds; the twin lets tests shorten it without changing the definition.
  it('shortens a one-hour Wait when overridden', async () => {
    // Prepare
    const definition: AslStateMachine = {
      StartAt: 'LetReplicationCatchUp',
      States: { LetReplicationCatchUp: { Type: 'Wait', Seconds: 3600, End: true } },
    };

    // Act
    const { record } = await runToEnd({ definition, handlers: {}, waitOverridesMs: 1 }, { ok: true });

    // Assess
    expect(record.status).toBe('SUCCEEDED');
    expect(record.output).toEqual({ ok: true });
  });

  // AWS: StopExecution ends a running execution as ABORTED; the state it was in never exits.
  it('aborts an execution while it waits', async () => {
    // Prepare
    const definition: AslStateMachine = {
      StartAt: 'LetReplicationCatchUp',
      States: {
        LetReplicationCatchUp: { Type: 'Wait', Seconds: 3600, Next: 'SwitchOver' },
        SwitchOver: { Type: 'Task', Resource: fn('rotor-switchover'), End: true },
      },
    };
    let switchedOver = false;
    const runner = await createStateMachineRunner({ definition, handlers: { 'rotor-switchover': () => { switchedOver = true; } }, dataDir });
    const execution = await runner.start({}, { name: 'rotation-aborted' });

    // Act
    for await (const event of execution.watch()) {
      if (event.type === 'StateEntered' && event.stateName === 'LetReplicationCatchUp') break;
    }
    execution.abort();
    const record = await execution.done;

    // Assess
    expect(record.status).toBe('ABORTED');
    expect(switchedOver).toBe(false);
    expect(stateTrail(record.events)).toEqual(['ExecutionStarted', 'StateEntered:LetReplicationCatchUp', 'ExecutionAborted']);
    expect(runner.describe(record.executionArn).status).toBe('ABORTED');
  });

  // AWS runs JSONata; the local engine would silently ignore it, so the twin refuses such definitions up front.
  it.each([
    ['at the top level', { QueryLanguage: 'JSONata', StartAt: 'A', States: { A: { Type: 'Pass', End: true } } }, /top level/],
    ['on one state', { StartAt: 'A', States: { A: { Type: 'Pass', QueryLanguage: 'JSONata', Output: '{% 1 %}', End: true } } }, /state A/],
  ])('rejects a JSONata definition %s', async (_where, definition, location) => {
    // Act
    const creating = createStateMachineRunner({ definition: definition as AslStateMachine, handlers: {} });

    // Assess
    await expect(creating).rejects.toBeInstanceOf(JsonataNotSupportedError);
    await expect(creating).rejects.toThrow(location);
    await expect(creating).rejects.toThrow(/JSONPath only/);
  });

  // AWS would fail such a Task only when reached; the twin names every unwired function before anything runs.
  it('refuses to start when a Task function has no handler, naming each state, Map ones included', async () => {
    // Prepare
    const definition: AslStateMachine = {
      StartAt: 'CheckDrained',
      States: {
        CheckDrained: { Type: 'Task', Resource: fn('rotor-drain-check'), Next: 'ReplayEach' },
        ReplayEach: {
          Type: 'Map',
          ItemProcessor: {
            StartAt: 'Replay',
            States: { Replay: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: { FunctionName: 'rotor-replay:live', 'Payload.$': '$' }, End: true } },
          },
          End: true,
        },
      },
    };

    // Act
    const creating = createStateMachineRunner({ definition, handlers: { 'rotor-drain-check': () => ({}) } });

    // Assess
    await expect(creating).rejects.toBeInstanceOf(MissingTaskHandlerError);
    await expect(creating).rejects.toThrow(/state "Replay" → rotor-replay:live/);
    await expect(creating).rejects.not.toThrow(/CheckDrained/);
  });

  // AWS execution history: events in emission order, each naming its state, exits timed from their entry.
  it('records events in order with state names and durations, and streams them live', async () => {
    // Prepare
    const definition: AslStateMachine = {
      StartAt: 'Prepare',
      States: {
        Prepare: { Type: 'Pass', Next: 'SwitchOver' },
        SwitchOver: { Type: 'Task', Resource: fn('rotor-switchover'), End: true },
      },
    };
    const runner = await createStateMachineRunner({
      definition,
      handlers: { 'rotor-switchover': async () => { await new Promise((resolve) => setTimeout(resolve, 30)); return { active: 'us-west-2' }; } },
    });
    const seenLive: string[] = [];
    runner.subscribe((event) => seenLive.push(event.type));

    // Act
    const execution = await runner.start({}, { name: 'rotation-1' });
    const watched: ExecutionEvent[] = [];
    for await (const event of execution.watch()) watched.push(event);
    const record = await execution.done;

    // Assess
    expect(stateTrail(record.events)).toEqual([
      'ExecutionStarted', 'StateEntered:Prepare', 'StateExited:Prepare', 'StateEntered:SwitchOver', 'StateExited:SwitchOver', 'ExecutionSucceeded',
    ]);
    expect(record.events.map((event) => event.id)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(record.events[4]?.durationMs).toBeGreaterThanOrEqual(25);
    expect(watched).toEqual(record.events);
    expect(seenLive).toEqual(record.events.map((event) => event.type));
    expect(record.executionArn).toBe('arn:aws:states:us-east-1:000000000000:execution:state-machine:rotation-1');
    await expect(runner.start({}, { name: 'rotation-1' })).rejects.toBeInstanceOf(ExecutionAlreadyExistsError);
  });

  // AWS keeps execution history; the twin keeps it on disk so it survives a region restart.
  it('keeps execution history across a restart and marks an interrupted execution as failed', async () => {
    // Prepare
    const workflowFile = join(dataDir, 'rotation.asl.json');
    await writeFile(workflowFile, JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }));
    const before = await createStateMachineRunner({ definition: workflowFile, handlers: {}, dataDir });
    await (await before.start({ n: 1 }, { name: 'finished-run' })).done;
    await before.close();
    const executionsDir = join(dataDir, 'stepfunctions', 'rotation', 'executions');
    const finished = JSON.parse(await readFile(join(executionsDir, 'finished-run.json'), 'utf8'));
    await writeFile(join(executionsDir, 'killed-run.json'), JSON.stringify({ ...finished, name: 'killed-run', status: 'RUNNING', output: undefined, stopDate: undefined }));

    // Act
    const after = await createStateMachineRunner({ definition: workflowFile, handlers: {}, dataDir });

    // Assess
    expect(after.stateMachineName).toBe('rotation');
    expect(after.describe('finished-run')).toMatchObject({ status: 'SUCCEEDED', output: { n: 1 } });
    expect(after.describe('finished-run').events.map((event) => event.type)).toContain('ExecutionSucceeded');
    expect(after.describe('killed-run')).toMatchObject({ status: 'FAILED', error: 'Rotor.ExecutionInterrupted' });
    expect(after.list().map((summary) => summary.name).sort()).toEqual(['finished-run', 'killed-run']);
    expect(after.list({ status: 'FAILED' }).map((summary) => summary.name)).toEqual(['killed-run']);
  });
});
