import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkDefinition, listWorkflowFiles, loadDefinition, visitStates, type AslStateMachine } from '#local/stepfunctions/definition.ts';
import { rotorTopology } from '#shared/topology/rotor.ts';
import { InvalidDefinitionError, JsonataNotSupportedError } from '#local/stepfunctions/errors.ts';

const workflowsDirectory = fileURLToPath(new URL('../../workflows/', import.meta.url));
const fixturesDirectory = fileURLToPath(new URL('../fixtures/asl/', import.meta.url));
const workflowFiles = await listWorkflowFiles(workflowsDirectory);

async function readDefinition(path: string): Promise<AslStateMachine> {
  return JSON.parse(await readFile(path, 'utf8')) as AslStateMachine;
}

describe('workflows/*.asl.json', () => {
  if (workflowFiles.length === 0) it.skip('none in workflows/ yet; the fixture suite below exercises the same checks', () => {});

  for (const path of workflowFiles) {
    it(`${path.slice(workflowsDirectory.length)} passes asl-validator and uses JSONPath only`, async () => {
      // Act
      const check = checkDefinition(await readDefinition(path));

      // Assess
      expect(check.validatorProblems).toEqual([]);
      expect(check.jsonataLocations).toEqual([]);
    });

    it(`${path.slice(workflowsDirectory.length)}: every Task retries and catches, and names a function of the manifest its state machine declares`, async () => {
      // Prepare
      const definition = await readDefinition(path);
      const relative = `workflows/${path.slice(workflowsDirectory.length)}`;
      const machines = rotorTopology.stateMachines.filter((machine) => machine.definition === relative);
      const functionNames = new Set(rotorTopology.functions.map((fn) => fn.name));
      const tasks: Array<{ stateName: string; functionName: unknown; retries: boolean; catches: boolean }> = [];

      // Act
      visitStates(definition, ({ stateName, state }) => {
        if (state.Type !== 'Task') return;
        const parameters = (state.Parameters ?? {}) as { FunctionName?: unknown };
        tasks.push({ stateName, functionName: parameters.FunctionName, retries: (state.Retry ?? []).length > 0, catches: Array.isArray(state.Catch) && state.Catch.length > 0 });
      });

      // Assess
      expect(machines.length).toBeGreaterThan(0);
      expect(tasks.length).toBeGreaterThan(0);
      for (const task of tasks) {
        expect(task, task.stateName).toMatchObject({ retries: true, catches: true });
        expect(functionNames.has(String(task.functionName)), `${task.stateName} → ${String(task.functionName)}`).toBe(true);
        for (const machine of machines) expect(machine.tasks, machine.name).toContain(task.functionName);
      }
    });
  }
});

describe('definition checks on fixtures', () => {
  it('accepts a valid definition', async () => {
    // Act
    const check = checkDefinition(await readDefinition(`${fixturesDirectory}valid-rotation.asl.json`));

    // Assess
    expect(check).toEqual({ validatorProblems: [], jsonataLocations: [] });
  });

  it('reports a Next that names no state, and refuses to load it', async () => {
    // Prepare
    const path = `${fixturesDirectory}invalid-missing-next.asl.json`;

    // Act
    const check = checkDefinition(await readDefinition(path));
    const loading = loadDefinition(path);

    // Assess
    expect(check.validatorProblems.join('\n')).toMatch(/MISSING_TRANSITION_TARGET.*SwitchOverThatDoesNotExist/);
    await expect(loading).rejects.toBeInstanceOf(InvalidDefinitionError);
    await expect(loading).rejects.toThrow(path);
  });

  it('flags JSONata that asl-validator alone would accept', async () => {
    // Prepare
    const valid = await readDefinition(`${fixturesDirectory}valid-rotation.asl.json`);
    const jsonataState: AslStateMachine = structuredClone(valid);
    jsonataState.States.SwitchOver = {
      Type: 'Task',
      QueryLanguage: 'JSONata',
      Resource: 'arn:aws:states:::lambda:invoke',
      Arguments: { FunctionName: 'rotor-switchover', Payload: '{% $states.input %}' },
      End: true,
    };

    // Act
    const check = checkDefinition(jsonataState);

    // Assess
    expect(check.validatorProblems).toEqual([]);
    expect(check.jsonataLocations).toEqual(['state SwitchOver']);
    await expect(loadDefinition(jsonataState)).rejects.toBeInstanceOf(JsonataNotSupportedError);
  });
});
