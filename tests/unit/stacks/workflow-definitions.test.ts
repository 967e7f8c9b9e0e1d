import { existsSync, readFileSync } from 'node:fs';
import '#local/stepfunctions/promise-with-resolvers.ts';
import { StateMachine } from 'aws-local-stepfunctions';
import { describe, expect, it } from 'vitest';
import { checkDefinition, visitStates, type AslState, type AslStateMachine } from '#local/stepfunctions/definition.ts';
import { invokeIn, InvokeInRequest } from '#shared/operations/invoke-in.ts';
import { InvokedFunctionError, type RegionalFunctionInvoker } from '#shared/ports/function-invoker.ts';
import { topology } from '#shared/topology/index.ts';
import { arnOf, physicalName, regionCode, stageContext } from '#stacks/plan/stage.ts';
import { INVOKE_IN_RELAY, invokeInRelayPlan, renderDefinition, stateMachinePlans, UnrenderableWorkflowError } from '#stacks/plan/workflows.ts';

const context = stageContext('prod-use1', topology.regions, { account: '123456789012' });
const plans = stateMachinePlans(topology, context);
const relayArn = arnOf.function(context, INVOKE_IN_RELAY);
const functionNames = topology.functions.map((fn) => fn.name);

const readSource = (file: string) => JSON.parse(readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8')) as AslStateMachine;
const machineOf = (name: string) => topology.stateMachines.find((machine) => machine.name === name)!;
const regionOfArn = (arn: string) => arn.split(':')[3];
type Json = Record<string, unknown>;

/** Every Task by its path (`Outer/Inner` when nested), with its Parameters. */
function tasksOf(definition: AslStateMachine): Map<string, Json> {
  const tasks = new Map<string, Json>();
  visitStates(definition, ({ stateName, state, enclosingStates }) => {
    if (state.Type === 'Task') tasks.set([...enclosingStates, stateName].join('/'), (state.Parameters ?? {}) as Json);
  });
  return tasks;
}

/** The manifest function a rendered task runs, its region choice, and the payload the function gets. */
function invokedBy(parameters: Json): { name: string | undefined; region: unknown; payload: unknown } {
  if (parameters.FunctionName === relayArn) {
    const relayed = parameters.Payload as Json;
    const name = functionNames.find((candidate) => physicalName(context, candidate) === relayed.functionName);
    return { name, region: 'region.$' in relayed ? { path: relayed['region.$'] } : { region: relayed.region }, payload: relayed.payload };
  }
  const name = functionNames.find((candidate) => parameters.FunctionName === arnOf.function(context, candidate));
  return { name, region: 'stage', payload: parameters.Payload };
}

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
}

const oneTask = (parameters: Json, extra: Partial<AslState> = {}): AslStateMachine => ({
  StartAt: 'Call',
  States: { Call: { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', Parameters: parameters as AslState['Parameters'], End: true, ...extra } },
});

describe('stateMachinePlans on the manifest (prod-use1)', () => {
  it('plans every state machine of the manifest under its physical name', () => {
    // Assess
    expect(plans.map((plan) => plan.manifest)).toEqual(topology.stateMachines.map((machine) => machine.name));
    expect(plans.map((plan) => plan.name)).toContain('rotor-prod-tm-rotation');
  });

  for (const plan of plans) {
    describe(plan.manifest, () => {
      const machine = machineOf(plan.manifest);
      const source = readSource(machine.definition);
      const rendered = JSON.parse(plan.definition) as AslStateMachine;

      it('runs in every Task a manifest function its manifest entry lists, and runs every function it lists', () => {
        // Act
        const invoked = [...tasksOf(rendered)].map(([stateName, parameters]) => ({ stateName, name: invokedBy(parameters).name }));

        // Assess
        expect(invoked.length).toBeGreaterThan(0);
        for (const { stateName, name } of invoked) expect(machine.tasks, stateName).toContain(name);
        expect(new Set(invoked.map(({ name }) => name))).toEqual(new Set(machine.tasks));
      });

      it('calls the relay of the stage region for each invokeIn.$ Task, naming the function and the original path, and the function itself otherwise', () => {
        // Prepare
        const renderedTasks = tasksOf(rendered);

        // Act / Assess
        for (const [stateName, original] of tasksOf(source)) {
          const parameters = renderedTasks.get(stateName)!;
          const { 'invokeIn.$': path, ...payload } = (original.Payload ?? {}) as Json;
          if (typeof path !== 'string') {
            expect(parameters, stateName).toEqual({ ...original, FunctionName: arnOf.function(context, String(original.FunctionName)) });
            continue;
          }
          expect(parameters, stateName).toEqual({
            FunctionName: relayArn,
            Payload: { 'region.$': path, functionName: physicalName(context, String(original.FunctionName)), payload },
          });
          expect(plan.invokedFunctions, stateName).toContainEqual({ name: original.FunctionName, region: { path } });
        }
      });

      it('takes invokeIn off every Payload and leaves the rest of the definition as it was', () => {
        // Prepare
        const withoutFunctions = (definition: AslStateMachine, unwrap: boolean) => {
          const copy = structuredClone(definition);
          visitStates(copy, ({ state }) => {
            if (state.Type !== 'Task') return;
            const { FunctionName: _name, ...parameters } = state.Parameters as Json;
            const inner = unwrap ? invokedBy(state.Parameters as Json).payload : parameters.Payload;
            if (typeof inner === 'object' && inner !== null) {
              const { invokeIn: _literal, 'invokeIn.$': _path, ...rest } = inner as Json;
              parameters.Payload = rest;
            }
            state.Parameters = parameters as AslState['Parameters'];
          });
          return copy;
        };

        // Act
        const payloadKeys = [...tasksOf(rendered).values()].flatMap((parameters) => keysOf(parameters.Payload));

        // Assess
        expect(payloadKeys.filter((key) => key.startsWith('invokeIn'))).toEqual([]);
        expect(withoutFunctions(rendered, true)).toEqual(withoutFunctions(source, false));
      });

      it('still passes asl-validator and uses JSONPath only', () => {
        // Act
        const check = checkDefinition(rendered);

        // Assess
        expect(check.validatorProblems).toEqual([]);
        expect(check.jsonataLocations).toEqual([]);
      });

      it('lets its role invoke, in the stage region only, the functions it runs itself and the relay', () => {
        // Prepare
        const direct = plan.invokedFunctions.filter(({ region }) => region === 'stage').map(({ name }) => arnOf.function(context, name));
        const relays = plan.invokedFunctions.some(({ region }) => region !== 'stage');

        // Assess
        expect(new Set(plan.taskFunctionArns)).toEqual(new Set([...direct, ...(relays ? [relayArn] : [])]));
        expect(plan.taskFunctionArns).toHaveLength(new Set(plan.taskFunctionArns).size);
        for (const arn of plan.taskFunctionArns) expect(regionOfArn(arn), arn).toBe(context.region);
      });

      it('names as relayed each function a Task runs through the relay, in every region of the manifest', () => {
        // Prepare
        const expected = plan.invokedFunctions
          .filter(({ region }) => region !== 'stage')
          .flatMap(({ name }) => topology.regions.map((region) => arnOf.function(context, name, region)));

        // Assess
        expect(new Set(plan.relayedFunctionArns)).toEqual(new Set(expected));
        expect(plan.relayedFunctionArns).toHaveLength(new Set(plan.relayedFunctionArns).size);
      });
    });
  }

  it('lets the rotation role invoke ops-routing and the relay in the stage region, and the relay the drain check in both regions', () => {
    // Prepare
    const rotation = plans.find((plan) => plan.manifest === 'tm-rotation')!;

    // Assess
    expect(rotation.taskFunctionArns).toEqual(expect.arrayContaining([
      'arn:aws:lambda:us-east-1:123456789012:function:rotor-prod-ops-routing',
      'arn:aws:lambda:us-east-1:123456789012:function:rotor-prod-invoke-in',
    ]));
    expect(rotation.taskFunctionArns.filter((arn) => arn.includes('us-west-2'))).toEqual([]);
    expect(rotation.taskFunctionArns).not.toContain('arn:aws:lambda:us-east-1:123456789012:function:rotor-prod-ops-drain-check');
    expect(rotation.relayedFunctionArns).toEqual(expect.arrayContaining([
      'arn:aws:lambda:us-east-1:123456789012:function:rotor-prod-ops-drain-check',
      'arn:aws:lambda:us-west-2:123456789012:function:rotor-prod-ops-drain-check',
    ]));
    expect(rotation.relayedFunctionArns.filter((arn) => arn.endsWith('ops-routing'))).toEqual([]);
    expect(rotation.invokedFunctions).toContainEqual({ name: 'ops-drain-check', region: { path: '$.sourceRegion' } });
    expect(rotation.invokedFunctions).toContainEqual({ name: 'ops-drain-check', region: { path: '$.targetRegion' } });
  });

  it('reads each definition file through the reader it is given', () => {
    // Prepare
    const asked: string[] = [];

    // Act
    stateMachinePlans(topology, context, (file) => (asked.push(file), readSource(file)));

    // Assess
    expect(asked).toEqual(topology.stateMachines.map((machine) => machine.definition));
  });
});

describe('invokeInRelayPlan', () => {
  for (const region of topology.regions) {
    const stage = stageContext(`prod-${regionCode(region)}`, topology.regions, { account: '123456789012' });
    const stagePlans = stateMachinePlans(topology, stage);
    const relay = invokeInRelayPlan(topology, stage, stagePlans);
    const relayedNames = [...new Set(stagePlans.flatMap((plan) => plan.invokedFunctions.filter((fn) => fn.region !== 'stage').map((fn) => fn.name)))];

    it(`deploys the relay as rotor-<env>-invoke-in in the stage region (${stage.stage})`, () => {
      // Assess
      expect(relay).toMatchObject({
        manifest: 'invoke-in',
        name: 'rotor-prod-invoke-in',
        arn: `arn:aws:lambda:${region}:123456789012:function:rotor-prod-invoke-in`,
        handler: 'functions/operations/invoke-in.handler',
        memorySizeMB: 256,
        inVpc: false,
      });
      for (const plan of stagePlans) for (const arn of plan.taskFunctionArns) expect(regionOfArn(arn), `${plan.manifest} ${arn}`).toBe(region);
      expect(existsSync(new URL('../../../functions/operations/invoke-in.ts', import.meta.url))).toBe(true);
    });

    it(`allows the relay exactly the relayed functions, in every manifest region (${stage.stage})`, () => {
      // Prepare
      const expectedArns = relayedNames.flatMap((name) => topology.regions.map((each) => arnOf.function(stage, name, each)));

      // Act
      const allowList = JSON.parse((relay.environment.INVOKABLE_FUNCTIONS as { literal: string }).literal) as string[];

      // Assess
      expect(relayedNames).toContain('ops-drain-check');
      expect(relayedNames).not.toContain('ops-routing');
      expect(new Set(allowList)).toEqual(new Set(relayedNames.map((name) => physicalName(stage, name))));
      expect(relay.permissions).toEqual([{ actions: ['lambda:InvokeFunction'], resources: expect.any(Array) }]);
      expect(new Set(relay.permissions[0]!.resources)).toEqual(new Set(expectedArns.flatMap((arn) => [arn, `${arn}:*`])));
    });

    it(`outlasts the longest function it relays (${stage.stage})`, () => {
      // Prepare
      const longest = Math.max(...topology.functions.filter((fn) => relayedNames.includes(fn.name)).map((fn) => fn.timeoutSeconds));

      // Assess
      expect(relay.timeoutSeconds).toBeGreaterThan(longest);
      expect(relay.timeoutSeconds).toBeLessThanOrEqual(900);
    });
  }

  it('allows nothing when no state machine relays', () => {
    // Act
    const relay = invokeInRelayPlan(topology, context, [{ invokedFunctions: [{ name: 'ops-routing', region: 'stage' }], relayedFunctionArns: [] }]);

    // Assess
    expect(relay.environment.INVOKABLE_FUNCTIONS).toEqual({ literal: '[]' });
    expect(relay.permissions).toEqual([]);
    expect(relay.timeoutSeconds).toBe(300);
  });
});

describe('renderDefinition', () => {
  it('renders Tasks inside Parallel branches and Map processors, and a literal invokeIn as a relay call naming that region', () => {
    // Prepare
    const task = (payload: Json) => oneTask({ FunctionName: 'ops-report', Payload: payload }).States.Call!;
    const definition: AslStateMachine = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'West', States: { West: task({ app: 'tm', invokeIn: 'us-west-2' }) } },
            { StartAt: 'Each', States: { Each: { Type: 'Map', ItemProcessor: { StartAt: 'Item', States: { Item: task({ 'invokeIn.$': '$.region' }) } }, End: true } } },
            { StartAt: 'Here', States: { Here: task({ 'app.$': '$.app' }) } },
          ],
          End: true,
        },
      },
    };

    // Act
    const { definition: rendered, invokedFunctions } = renderDefinition(definition, context);

    // Assess
    const tasks = tasksOf(rendered as AslStateMachine);
    expect(tasks.get('Both/West')).toEqual({ FunctionName: relayArn, Payload: { region: 'us-west-2', functionName: 'rotor-prod-ops-report', payload: { app: 'tm' } } });
    expect(tasks.get('Both/Each/Item')).toEqual({ FunctionName: relayArn, Payload: { 'region.$': '$.region', functionName: 'rotor-prod-ops-report', payload: {} } });
    expect(tasks.get('Both/Here')).toEqual({ FunctionName: arnOf.function(context, 'ops-report'), Payload: { 'app.$': '$.app' } });
    expect(invokedFunctions).toEqual([
      { name: 'ops-report', region: { region: 'us-west-2' } },
      { name: 'ops-report', region: { path: '$.region' } },
      { name: 'ops-report', region: 'stage' },
    ]);
    expect(checkDefinition(rendered as AslStateMachine).validatorProblems).toEqual([]);
    expect((definition.States.Both!.Branches![0]!.States.West!.Parameters as { Payload: object }).Payload).toHaveProperty('invokeIn');
  });

  it('hands the relay the region the input names and the payload resolved, and retries on the function\'s own error name', async () => {
    // Prepare
    const definition = oneTask(
      { FunctionName: 'ops-drain-check', Payload: { check: 'queues', 'app.$': '$.app', 'invokeIn.$': '$.sourceRegion' } },
      {
        ResultSelector: { 'result.$': '$.Payload' },
        Retry: [{ ErrorEquals: ['DrainNotCompleteError'], IntervalSeconds: 1, MaxAttempts: 3 }],
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }],
      },
    );
    definition.States.Failed = { Type: 'Fail' };
    const { definition: rendered } = renderDefinition(definition, context);
    const calls: { region: string; functionName: string; payload: unknown }[] = [];
    const invoker: RegionalFunctionInvoker = {
      async invoke(region, functionName, payload) {
        calls.push({ region, functionName, payload });
        if (calls.length === 1) throw new InvokedFunctionError('DrainNotCompleteError', 'tm.trades still holds 3', functionName, region);
        return { drained: true };
      },
    };
    // What Step Functions' lambda:invoke does with the rendered Parameters: the relay runs and its answer is the Payload.
    const lambdaInvoke = async (parameters: Json) => {
      expect(parameters.FunctionName).toBe(relayArn);
      const request = InvokeInRequest.parse(parameters.Payload);
      return { Payload: await invokeIn(request, { invoker, invokable: new Set(['rotor-prod-ops-drain-check']) }) };
    };

    // Act
    const run = new StateMachine(rendered as never, { validationOptions: { noValidate: true } }).run({ app: 'trade-matching', sourceRegion: 'us-west-2' } as never, {
      overrides: { retryIntervalOverrides: { Call: 0 }, taskResourceLocalHandlers: { Call: lambdaInvoke } as never },
    });

    // Assess
    expect(await run.result).toEqual({ result: { drained: true } });
    expect(calls).toEqual([
      { region: 'us-west-2', functionName: 'rotor-prod-ops-drain-check', payload: { check: 'queues', app: 'trade-matching' } },
      { region: 'us-west-2', functionName: 'rotor-prod-ops-drain-check', payload: { check: 'queues', app: 'trade-matching' } },
    ]);
  });

  it.each([
    ['a function the manifest lacks', { FunctionName: 'ops-unknown', Payload: {} }, /Call.*ops-unknown/],
    ['a function ARN', { FunctionName: 'arn:aws:lambda:us-east-1:123456789012:function:x', Payload: {} }, /Call.*not a function of the manifest/],
    ['a dynamic FunctionName', { 'FunctionName.$': '$.fn', Payload: {} }, /Call.*already dynamic/],
    ['an invokeIn region outside the manifest', { FunctionName: 'ops-report', Payload: { invokeIn: 'eu-west-1' } }, /Call.*eu-west-1/],
    ['an invokeIn that is not a string', { FunctionName: 'ops-report', Payload: { invokeIn: 2 } }, /Call.*invokeIn 2/],
    ['an invokeIn.$ that is no JSONPath', { FunctionName: 'ops-report', Payload: { 'invokeIn.$': 'us-west-2' } }, /Call.*not a plain JSONPath/],
    ['an invokeIn.$ that would add arguments', { FunctionName: 'ops-report', Payload: { 'invokeIn.$': "$.a, 'b'" } }, /Call.*not a plain JSONPath/],
    ['an invokeIn.$ that is an intrinsic call', { FunctionName: 'ops-report', Payload: { 'invokeIn.$': 'States.Format($.r)' } }, /Call/],
    ['both invokeIn and invokeIn.$', { FunctionName: 'ops-report', Payload: { invokeIn: 'us-west-2', 'invokeIn.$': '$.r' } }, /Call.*both/],
    ['an invokeIn Task with parameters that would apply to the relay', { FunctionName: 'ops-report', Qualifier: 'live', Payload: { invokeIn: 'us-west-2' } }, /Call.*Qualifier/],
  ])('refuses %s, naming the state', (_case, parameters, message) => {
    // Act
    const rendering = () => renderDefinition(oneTask(parameters), context);

    // Assess
    expect(rendering).toThrow(UnrenderableWorkflowError);
    expect(rendering).toThrow(message);
  });

  it('refuses to relay when a manifest function already has the relay\'s name', () => {
    // Prepare
    const manifest = { regions: topology.regions, functions: [...topology.functions, { ...topology.functions[0]!, name: INVOKE_IN_RELAY }] };

    // Act
    const rendering = () => renderDefinition(oneTask({ FunctionName: 'ops-report', Payload: { invokeIn: 'us-west-2' } }), context, manifest);

    // Assess
    expect(rendering).toThrow(/Call.*invoke-in/);
  });

  it('leaves Tasks that do not invoke Lambda as they are', () => {
    // Prepare
    const definition = oneTask({ TableName: 'x', Item: {} }, { Resource: 'arn:aws:states:::dynamodb:putItem' });

    // Act
    const { definition: rendered, invokedFunctions } = renderDefinition(definition, context);

    // Assess
    expect(rendered).toEqual(definition);
    expect(invokedFunctions).toEqual([]);
  });
});
