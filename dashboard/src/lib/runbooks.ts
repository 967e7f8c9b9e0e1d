import type { AppName, StateMachineView } from '../../../shared/dashboard/contract.ts';
import { parseAsl } from './asl.ts';

/**
 * The runbooks an operator starts from the dashboard, and the input each state machine takes: read from the ASL
 * `Comment` ("Input: {app, sourceRegion, …}"), else from the parameters its first state copies from `$.…`.
 */

export const RUNBOOKS = [
  { id: 'rotation', label: 'Rotate', purpose: 'Planned move of the app to the other region.' },
  { id: 'disaster-recovery', label: 'Disaster recovery', purpose: 'Recover the app in the surviving region after losing the active one.' },
  { id: 'reconciliation', label: 'Reconcile', purpose: 'Compare adjacent stores, replay what is missing, write a report.' },
] as const;
export type RunbookId = (typeof RUNBOOKS)[number]['id'];

export function findStateMachine(machines: readonly StateMachineView[], app: AppName, runbook: RunbookId): StateMachineView | undefined {
  return machines.find((machine) => machine.app === app && machine.name.endsWith(`-${runbook}`));
}

export interface InputField {
  readonly name: string;
  /** What the comment says about the field, e.g. `ISO` for `until (ISO)`. */
  readonly hint: string | undefined;
  readonly kind: 'app' | 'region' | 'number' | 'text';
}

function fieldKind(name: string): InputField['kind'] {
  if (name === 'app') return 'app';
  if (/region$/i.test(name)) return 'region';
  if (/(passes|seconds|count|ms|minutes|rate)$/i.test(name)) return 'number';
  return 'text';
}

/** `Input: {app, until (ISO), maxPasses}` → its fields; null when the comment lists none. */
export function fieldsFromComment(comment: string | undefined): InputField[] | null {
  const listed = comment && /Input:\s*\{([^}]*)\}/.exec(comment)?.[1];
  if (!listed) return null;
  const fields = listed.split(',').flatMap((part) => {
    const match = /^\s*([A-Za-z_][\w]*)\s*(?:\(([^)]*)\))?\s*$/.exec(part);
    return match ? [{ name: match[1]!, hint: match[2], kind: fieldKind(match[1]!) }] : [];
  });
  return fields.length ? fields : null;
}

/** The first state's `"x.$": "$.x"` parameters, for a definition whose comment names no input. */
function fieldsFromFirstState(definition: unknown): InputField[] | null {
  const graph = parseAsl(definition);
  const first = graph?.states.find((state) => state.name === graph.startAt);
  const parameters = first?.raw.Parameters;
  if (!parameters || typeof parameters !== 'object') return null;
  const fields = Object.entries(parameters).flatMap(([key, value]) => {
    const match = typeof value === 'string' ? /^\$\.([A-Za-z_]\w*)$/.exec(value) : null;
    return key.endsWith('.$') && match ? [{ name: match[1]!, hint: undefined, kind: fieldKind(match[1]!) }] : [];
  });
  return fields.length ? fields : null;
}

export function inputFields(machine: StateMachineView): InputField[] | null {
  return fieldsFromComment(parseAsl(machine.definition)?.comment) ?? fieldsFromFirstState(machine.definition);
}

export interface DefaultsContext {
  readonly app: AppName;
  readonly activeRegion: string | null;
  readonly regions: readonly string[];
  readonly now: Date;
}

/** Sensible starting values: move from the active region to the other; the CLI's 5 passes and 3 s propagation. */
export function defaultValue(field: InputField, context: DefaultsContext): string {
  const source = context.activeRegion ?? context.regions[0] ?? '';
  switch (field.name) {
    case 'app':
      return context.app;
    case 'sourceRegion':
      return source;
    case 'targetRegion':
      return context.regions.find((region) => region !== source) ?? '';
    case 'maxPasses':
      return '5';
    case 'propagationSeconds':
      return '3';
    case 'until':
      return context.now.toISOString();
    default:
      return '';
  }
}

/** The form's strings as the execution input: numbers for number fields; an error names the first bad one. */
export function buildInput(fields: readonly InputField[], values: Readonly<Record<string, string>>): { input: Record<string, unknown> } | { error: string } {
  const input: Record<string, unknown> = {};
  for (const field of fields) {
    const raw = (values[field.name] ?? '').trim();
    if (raw === '') return { error: `${field.name} is required` };
    if (field.kind === 'number') {
      const number = Number(raw);
      if (!Number.isFinite(number) || number < 0) return { error: `${field.name} must be a number ≥ 0` };
      input[field.name] = number;
    } else {
      input[field.name] = raw;
    }
  }
  if (typeof input.sourceRegion === 'string' && input.sourceRegion === input.targetRegion) return { error: 'sourceRegion and targetRegion must differ' };
  return { input };
}
