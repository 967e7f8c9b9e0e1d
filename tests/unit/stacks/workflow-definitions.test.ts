import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkDefinition, visitStates, type AslState, type AslStateMachine } from '#local/stepfunctions/definition.ts';
import { topology } from '#shared/topology/index.ts';
import { arnOf, stageContext } from '#stacks/plan/stage.ts';
import { functionArnTemplate, renderDefinition, stateMachinePlans, UnrenderableWorkflowError } from '#stacks/plan/workflows.ts';

const context = stageContext('prod-use1', topology.regions, { account: '123456789012' });
const plans = stateMachinePlans(topology, context);
const functionNames = topology.functions.map((fn) => fn.name);

const readSource = (file: string) => JSON.parse(readFileSync(new URL(`../../../${file}`, import.meta.url), 'utf8')) as AslStateMachine;
const machineOf = (name: string) => topology.stateMachines.find((machine) => machine.name === name)!;

/** Every Task by its path (`Outer/Inner` when nested), with its Parameters. */
function tasksOf(definition: AslStateMachine): Map<string, Record<string, unknown>> {
  const tasks = new Map<string, Record<string, unknown>>();
  visitStates(definition, ({ stateName, state, enclosingStates }) => {
    if (state.Type === 'Task') tasks.set([...enclosingStates, stateName].join('/'), (state.Parameters ?? {}) as Record<string, unknown>);
  });
  return tasks;
}

/** Evaluates `States.Format('<literal with one {}>', <path>)` as Step Functions would, given the path's value. */
function formatTemplate(template: string, pathValue: string): { path: string; arn: string } {
  const match = /^States\.Format\('((?:[^'\\]|\\.)*)', (\$[^\s,'()]*)\)$/.exec(template);
  if (!match) throw new Error(`not a one-argument States.Format: ${template}`);
  const pieces = match[1]!.split(/(?<!\\)\{\}/);
  expect(pieces, template).toHaveLength(2);
  const unescape = (text: string) => text.replace(/\\(.)/g, '$1');
  return { path: match[2]!, arn: pieces.map(unescape).join(pathValue) };
}

/** The manifest function a rendered task invokes, and its ARN in each region. */
function invokedBy(parameters: Record<string, unknown>): { name: string | undefined; arnIn: (region: string) => string } {
  const template = parameters['FunctionName.$'];
  const arnIn = (region: string) => (typeof template === 'string' ? formatTemplate(template, region).arn : String(parameters.FunctionName));
  const name = functionNames.find((candidate) => arnIn(context.region) === arnOf.function(context, candidate));
  return { name, arnIn };
}

const oneTask = (parameters: Record<string, unknown>, extra: Partial<AslState> = {}): AslStateMachine => ({
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

      it('invokes in every Task a manifest function its manifest entry lists, and invokes every function it lists', () => {
        // Act
        const invoked = [...tasksOf(rendered)].map(([stateName, parameters]) => ({ stateName, name: invokedBy(parameters).name }));

        // Assess
        expect(invoked.length).toBeGreaterThan(0);
        for (const { stateName, name } of invoked) expect(machine.tasks, stateName).toContain(name);
        expect(new Set(invoked.map(({ name }) => name))).toEqual(new Set(machine.tasks));
      });

      it('keeps each Task in the stage region, or in the region its invokeIn.$ path names at run time', () => {
        // Prepare
        const renderedTasks = tasksOf(rendered);

        // Act / Assess
        for (const [stateName, original] of tasksOf(source)) {
          const parameters = renderedTasks.get(stateName)!;
          const path = (original.Payload as Record<string, unknown> | undefined)?.['invokeIn.$'];
          const { name, arnIn } = invokedBy(parameters);
          expect(name, stateName).toBe(original.FunctionName);
          if (typeof path !== 'string') {
            expect(parameters.FunctionName, stateName).toBe(arnOf.function(context, name!));
            continue;
          }
          expect(formatTemplate(String(parameters['FunctionName.$']), 'x').path, stateName).toBe(path);
          for (const region of topology.regions) expect(arnIn(region), `${stateName} in ${region}`).toBe(arnOf.function(context, name!, region));
        }
      });

      it('takes invokeIn off every Payload and leaves the rest of the definition as it was', () => {
        // Prepare
        const withoutFunctions = (definition: AslStateMachine) => {
          const copy = structuredClone(definition);
          visitStates(copy, ({ state }) => {
            if (state.Type !== 'Task') return;
            const { FunctionName: _name, 'FunctionName.$': _template, ...parameters } = state.Parameters as Record<string, unknown>;
            const payload = parameters.Payload as Record<string, unknown> | undefined;
            if (payload) {
              const { invokeIn: _literal, 'invokeIn.$': _path, ...rest } = payload;
              parameters.Payload = rest;
            }
            state.Parameters = parameters as AslState['Parameters'];
          });
          return copy;
        };

        // Act
        const payloadFields = [...tasksOf(rendered).values()].flatMap((parameters) =>
          typeof parameters.Payload === 'object' && parameters.Payload !== null ? Object.keys(parameters.Payload) : [],
        );

        // Assess
        expect(payloadFields.filter((field) => field.startsWith('invokeIn'))).toEqual([]);
        expect(withoutFunctions(rendered)).toEqual(withoutFunctions(source));
      });

      it('still passes asl-validator and uses JSONPath only', () => {
        // Act
        const check = checkDefinition(rendered);

        // Assess
        expect(check.validatorProblems).toEqual([]);
        expect(check.jsonataLocations).toEqual([]);
      });

      it('lets its role invoke each stage-region function here and each invokeIn function in every region', () => {
        // Prepare
        const expected = plan.invokedFunctions.flatMap(({ name, region }) =>
          region === 'stage' ? [arnOf.function(context, name)] : topology.regions.map((each) => arnOf.function(context, name, each)),
        );

        // Assess
        expect(new Set(plan.taskFunctionArns)).toEqual(new Set(expected));
        expect(plan.taskFunctionArns).toHaveLength(new Set(plan.taskFunctionArns).size);
      });
    });
  }

  it('lets the rotation role invoke the drain check in both regions and ops-routing only in the stage region', () => {
    // Prepare
    const rotation = plans.find((plan) => plan.manifest === 'tm-rotation')!;

    // Assess
    expect(rotation.taskFunctionArns).toEqual(expect.arrayContaining([
      'arn:aws:lambda:us-east-1:123456789012:function:rotor-prod-ops-drain-check',
      'arn:aws:lambda:us-west-2:123456789012:function:rotor-prod-ops-drain-check',
      'arn:aws:lambda:us-east-1:123456789012:function:rotor-prod-ops-routing',
    ]));
    expect(rotation.taskFunctionArns).not.toContain('arn:aws:lambda:us-west-2:123456789012:function:rotor-prod-ops-routing');
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

describe('renderDefinition', () => {
  it('renders Tasks inside Parallel branches and Map processors, and a literal invokeIn as that region\'s ARN', () => {
    // Prepare
    const task = (payload: Record<string, unknown>) => oneTask({ FunctionName: 'ops-report', Payload: payload }).States.Call!;
    const definition: AslStateMachine = {
      StartAt: 'Both',
      States: {
        Both: {
          Type: 'Parallel',
          Branches: [
            { StartAt: 'West', States: { West: task({ app: 'tm', invokeIn: 'us-west-2' }) } },
            { StartAt: 'Each', States: { Each: { Type: 'Map', ItemProcessor: { StartAt: 'Item', States: { Item: task({ 'invokeIn.$': '$.region' }) } }, End: true } } },
          ],
          End: true,
        },
      },
    };

    // Act
    const { definition: rendered, invokedFunctions } = renderDefinition(definition, context);

    // Assess
    const tasks = tasksOf(rendered as AslStateMachine);
    expect(tasks.get('Both/West')).toEqual({ FunctionName: arnOf.function(context, 'ops-report', 'us-west-2'), Payload: { app: 'tm' } });
    expect(tasks.get('Both/Each/Item')).toEqual({ 'FunctionName.$': functionArnTemplate(context, 'ops-report', '$.region'), Payload: {} });
    expect(invokedFunctions).toEqual([{ name: 'ops-report', region: { region: 'us-west-2' } }, { name: 'ops-report', region: { path: '$.region' } }]);
    expect(checkDefinition(rendered as AslStateMachine).validatorProblems).toEqual([]);
    expect((definition.States.Both!.Branches![0]!.States.West!.Parameters as { Payload: object }).Payload).toHaveProperty('invokeIn');
  });

  it('escapes the characters ASL reserves in the template\'s literal', () => {
    // Act
    const template = functionArnTemplate({ ...context, account: "12'{}\\" }, 'ops-report', '$.region');

    // Assess
    expect(template).toBe("States.Format('arn:aws:lambda:{}:12\\'\\{\\}\\\\:function:rotor-prod-ops-report', $.region)");
    expect(formatTemplate(template, 'us-west-2').arn).toBe("arn:aws:lambda:us-west-2:12'{}\\:function:rotor-prod-ops-report");
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
  ])('refuses %s, naming the state', (_case, parameters, message) => {
    // Act
    const rendering = () => renderDefinition(oneTask(parameters), context);

    // Assess
    expect(rendering).toThrow(UnrenderableWorkflowError);
    expect(rendering).toThrow(message);
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
