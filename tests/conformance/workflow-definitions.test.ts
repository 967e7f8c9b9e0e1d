import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkDefinition, listWorkflowFiles, loadDefinition, type AslStateMachine } from '#local/stepfunctions/definition.ts';
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
