import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import aslValidator from 'asl-validator';
import { DefinitionLoadError, InvalidDefinitionError, JsonataNotSupportedError } from '#local/stepfunctions/errors.ts';

/**
 * Loading and static checks of Amazon States Language definitions, shared by the runner and the tests that
 * guard `workflows/*.asl.json`.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A state machine (or a Parallel branch / Map processor) as ASL JSON; the fields Rotor inspects are typed. */
export interface AslStateMachine {
  StartAt: string;
  States: Record<string, AslState>;
  QueryLanguage?: string;
  Comment?: string;
  TimeoutSeconds?: number;
  [field: string]: unknown;
}

export interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: JsonValue;
  Branches?: AslStateMachine[];
  ItemProcessor?: AslStateMachine;
  Iterator?: AslStateMachine;
  Retry?: unknown[];
  QueryLanguage?: string;
  [field: string]: unknown;
}

export interface LoadedDefinition {
  /** A file path, or "inline definition" for objects; used in every error message. */
  readonly source: string;
  readonly definition: AslStateMachine;
}

export interface DefinitionCheck {
  readonly validatorProblems: readonly string[];
  /** Where JSONata is switched on: "top level" or "state <name>". */
  readonly jsonataLocations: readonly string[];
}

export interface VisitedState {
  readonly stateName: string;
  readonly state: AslState;
  /** Names of the enclosing Parallel/Map states, outermost first. */
  readonly enclosingStates: readonly string[];
}

export const WORKFLOW_FILE_SUFFIX = '.asl.json';

export async function loadDefinition(source: AslStateMachine | string): Promise<LoadedDefinition> {
  if (typeof source !== 'string') {
    const loaded = { source: 'inline definition', definition: structuredClone(source) };
    assertRunnable(loaded);
    return loaded;
  }
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (error) {
    throw new DefinitionLoadError(`cannot read state machine definition ${source}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new DefinitionLoadError(`state machine definition ${source} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new DefinitionLoadError(`state machine definition ${source} must be a JSON object`);
  }
  const loaded = { source, definition: parsed as AslStateMachine };
  assertRunnable(loaded);
  return loaded;
}

/** Paths of the `*.asl.json` files in a directory, sorted; an absent directory has none. */
export async function listWorkflowFiles(directory: string): Promise<string[]> {
  const entries = await readdir(directory).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return entries.filter((entry) => entry.endsWith(WORKFLOW_FILE_SUFFIX)).sort().map((entry) => join(directory, entry));
}

/** Name a state machine gets from its file: `workflows/rotation.asl.json` → `rotation`. */
export function stateMachineNameFromFile(path: string): string {
  return basename(path, WORKFLOW_FILE_SUFFIX);
}

export function checkDefinition(definition: AslStateMachine): DefinitionCheck {
  const jsonataLocations = findJsonataLocations(definition);
  // The validator writes a default QueryLanguage into every state it visits, so it gets a copy.
  const result = aslValidator(structuredClone(definition), { checkArn: true, checkPaths: true });
  const validatorProblems = result.isValid ? [] : result.errorsText('\n').split('\n').filter(Boolean);
  return { validatorProblems, jsonataLocations };
}

export function assertRunnable({ source, definition }: LoadedDefinition): void {
  const { validatorProblems, jsonataLocations } = checkDefinition(definition);
  if (jsonataLocations.length > 0) throw new JsonataNotSupportedError(source, jsonataLocations);
  if (validatorProblems.length > 0) throw new InvalidDefinitionError(source, validatorProblems);
}

export function visitStates(definition: AslStateMachine, visit: (visited: VisitedState) => void): void {
  const walk = (machine: AslStateMachine | undefined, enclosingStates: readonly string[]): void => {
    if (!machine || typeof machine.States !== 'object' || machine.States === null) return;
    for (const [stateName, state] of Object.entries(machine.States)) {
      visit({ stateName, state, enclosingStates });
      const inner = [...enclosingStates, stateName];
      for (const branch of Array.isArray(state.Branches) ? state.Branches : []) walk(branch, inner);
      walk(state.ItemProcessor, inner);
      walk(state.Iterator, inner);
    }
  };
  walk(definition, []);
}

function findJsonataLocations(definition: AslStateMachine): string[] {
  const locations: string[] = [];
  const isJsonata = (value: unknown): boolean => typeof value === 'string' && value.toLowerCase() === 'jsonata';
  if (isJsonata(definition.QueryLanguage)) locations.push('top level');
  visitStates(definition, ({ stateName, state }) => {
    if (isJsonata(state.QueryLanguage)) locations.push(`state ${stateName}`);
    for (const nested of [...(Array.isArray(state.Branches) ? state.Branches : []), state.ItemProcessor, state.Iterator]) {
      if (nested && isJsonata(nested.QueryLanguage)) locations.push(`inside state ${stateName}`);
    }
  });
  return locations;
}
