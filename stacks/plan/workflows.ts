import { readFileSync } from 'node:fs';
import { topology, type Topology } from '#shared/topology/index.ts';
import type { FunctionPlan } from './functions.ts';
import { arnOf, physicalName, type StageContext } from './stage.ts';

/**
 * Turns a `workflows/*.asl.json` definition into the one Step Functions deploys. The files name each task's function
 * by its manifest name, and a payload's `invokeIn` names the region whose function runs the task (the twin strips it,
 * local/controller/twin-workflows.ts). On AWS the name becomes the stage's function ARN. Step Functions invokes
 * Lambda only in the state machine's own region (Lambda refuses another region's function ARN), so a task with
 * `invokeIn` calls the `invoke-in` relay of the stage's region instead (shared/operations/invoke-in.ts), with
 * `{region, functionName, payload}`: the relay runs the function in that region and answers its result, or fails
 * with its error's name, so the state's Retry and Catch match as without it. One execution drives both regions.
 */

/** The relay's manifest-style name; deployed as `rotor-<environment>-invoke-in` in every region. */
export const INVOKE_IN_RELAY = 'invoke-in';

export class UnrenderableWorkflowError extends Error {
  override readonly name = 'UnrenderableWorkflowError';
}

/** How a task's region is chosen: the stage's own, a JSONPath read at run time, or a region fixed in the file. */
export type InvokedRegion = 'stage' | { path: string } | { region: string };

export interface InvokedFunction {
  readonly name: string;
  /** 'stage': the task invokes the function itself; otherwise through the relay, in the region this names. */
  readonly region: InvokedRegion;
}

export interface RenderedDefinition {
  readonly definition: Record<string, unknown>;
  /** Each function and region choice once, in the order the states first use it; the relay is not listed. */
  readonly invokedFunctions: InvokedFunction[];
}

export interface StateMachinePlan {
  /** The manifest's name (`tm-rotation`). */
  readonly manifest: string;
  /** The deployed name (`rotor-prod-tm-rotation`). */
  readonly name: string;
  /** The rendered definition as JSON, ready for `aws.sfn.StateMachine`. */
  readonly definition: string;
  readonly invokedFunctions: InvokedFunction[];
  /**
   * Every function ARN the machine's role must be allowed to invoke, all in the stage's region: the functions its
   * tasks invoke themselves, and the `invoke-in` relay when a task names another region.
   */
  readonly taskFunctionArns: string[];
  /** The functions its tasks run through the relay, in every region each may run in: what the relay's role needs. */
  readonly relayedFunctionArns: string[];
}

type Manifest = Pick<Topology, 'functions' | 'regions'>;
type JsonObject = Record<string, unknown>;

const LAMBDA_INVOKE = /^arn:[a-z-]+:states:::lambda:invoke(?:\.waitForTaskToken)?$/;
/**
 * The region must be a value the execution's data holds, so only plain dotted or indexed paths are accepted, not
 * intrinsic calls, which could build any string.
 */
const PLAIN_JSONPATH = /^\$\$?(?:\.[A-Za-z_][\w-]*|\[\d+\])*$/;
/** A relayed task's Parameters apply to the relay's invocation; only these keep their meaning for the function. */
const RELAYABLE_PARAMETERS = new Set(['FunctionName', 'Payload']);

export function renderDefinition(definition: unknown, context: StageContext, manifest: Manifest = topology): RenderedDefinition {
  if (!isObject(definition) || !isObject(definition.States)) {
    throw new UnrenderableWorkflowError('a state machine definition must be an object with States');
  }
  const rendered = structuredClone(definition);
  const functionNames = new Set(manifest.functions.map((fn) => fn.name));
  const invoked = new Map<string, InvokedFunction>();

  visitTasks(rendered, (stateName, state) => {
    if (typeof state.Resource !== 'string' || !LAMBDA_INVOKE.test(state.Resource)) return;
    const fail = (why: string): never => {
      throw new UnrenderableWorkflowError(`state ${stateName}: ${why}`);
    };
    const parameters = isObject(state.Parameters) ? state.Parameters : fail('a lambda:invoke task needs Parameters');
    if ('FunctionName.$' in parameters) fail('FunctionName.$ is already dynamic; name a manifest function in FunctionName');
    const name = parameters.FunctionName;
    if (typeof name !== 'string' || !functionNames.has(name)) fail(`FunctionName ${JSON.stringify(name)} is not a function of the manifest`);
    const functionName = name as string;

    const region = takeInvokeIn(parameters.Payload, manifest.regions, fail);
    if (region === 'stage') {
      parameters.FunctionName = arnOf.function(context, functionName);
    } else {
      if (functionNames.has(INVOKE_IN_RELAY)) fail(`the manifest has a function named ${INVOKE_IN_RELAY}, the relay's name`);
      const extra = Object.keys(parameters).filter((field) => !RELAYABLE_PARAMETERS.has(field));
      if (extra.length) fail(`a task with invokeIn may have only FunctionName and Payload, not ${extra.join(', ')} (they would apply to the relay)`);
      parameters.FunctionName = arnOf.function(context, INVOKE_IN_RELAY);
      parameters.Payload = {
        ...('path' in region ? { 'region.$': region.path } : { region: region.region }),
        functionName: physicalName(context, functionName),
        payload: parameters.Payload,
      };
    }
    invoked.set(JSON.stringify([functionName, region]), { name: functionName, region });
  });

  return { definition: rendered, invokedFunctions: [...invoked.values()] };
}

export function stateMachinePlans(
  manifest: Pick<Topology, 'stateMachines' | 'functions' | 'regions'>,
  context: StageContext,
  readDefinition: (definitionFile: string) => unknown = readRepositoryJson,
): StateMachinePlan[] {
  return manifest.stateMachines.map((machine) => {
    const { definition, invokedFunctions } = renderDefinition(readDefinition(machine.definition), context, manifest);
    const direct = invokedFunctions.filter(({ region }) => region === 'stage').map(({ name }) => arnOf.function(context, name));
    const relayed = invokedFunctions.flatMap(({ name, region }) =>
      region === 'stage' ? []
      : 'region' in region ? [arnOf.function(context, name, region.region)]
      // The path's value is known only at run time, so the relay may invoke the function in any region.
      : manifest.regions.map((each) => arnOf.function(context, name, each)),
    );
    return {
      manifest: machine.name,
      name: physicalName(context, machine.name),
      definition: JSON.stringify(definition),
      invokedFunctions,
      taskFunctionArns: unique([...direct, ...(relayed.length ? [arnOf.function(context, INVOKE_IN_RELAY)] : [])]),
      relayedFunctionArns: unique(relayed),
    };
  });
}

/** The relay may wait for its longest target to time out and still answer with the target's own error. */
const RELAY_TIMEOUT_MARGIN_SECONDS = 30;
const RELAY_MIN_TIMEOUT_SECONDS = 300;
const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/**
 * The stage's `invoke-in` relay (shared/operations/invoke-in.ts), in the shape of a manifest function's plan. Its
 * allow-list (`INVOKABLE_FUNCTIONS`) and its role name exactly the functions the stage's state machines relay to, in
 * every region each may be invoked in. Out of the VPC: it calls only Lambda's regional APIs.
 */
export function invokeInRelayPlan(
  manifest: Pick<Topology, 'functions'>,
  context: StageContext,
  machines: readonly Pick<StateMachinePlan, 'invokedFunctions' | 'relayedFunctionArns'>[],
): FunctionPlan {
  const targets = unique(machines.flatMap((machine) => machine.invokedFunctions.filter(({ region }) => region !== 'stage').map(({ name }) => name)));
  const arns = unique(machines.flatMap((machine) => machine.relayedFunctionArns));
  const longestTarget = Math.max(0, ...manifest.functions.filter((fn) => targets.includes(fn.name)).map((fn) => fn.timeoutSeconds));
  return {
    manifest: INVOKE_IN_RELAY,
    name: physicalName(context, INVOKE_IN_RELAY),
    arn: arnOf.function(context, INVOKE_IN_RELAY),
    handler: 'functions/operations/invoke-in.handler',
    timeoutSeconds: Math.min(LAMBDA_MAX_TIMEOUT_SECONDS, Math.max(RELAY_MIN_TIMEOUT_SECONDS, longestTarget + RELAY_TIMEOUT_MARGIN_SECONDS)),
    memorySizeMB: 256,
    environment: { INVOKABLE_FUNCTIONS: { literal: JSON.stringify(targets.map((name) => physicalName(context, name))) } },
    // Qualified ARNs too (`:*`), as the state machines' roles are granted, should a task name a version or alias.
    permissions: arns.length ? [{ actions: ['lambda:InvokeFunction'], resources: arns.flatMap((arn) => [arn, `${arn}:*`]) }] : [],
    inVpc: false,
  };
}

/** Reads and removes the payload's `invokeIn`: the functions' request schemas do not know the field. */
function takeInvokeIn(payload: unknown, regions: readonly string[], fail: (why: string) => never): InvokedRegion {
  if (!isObject(payload)) return 'stage';
  const hasLiteral = 'invokeIn' in payload;
  const hasPath = 'invokeIn.$' in payload;
  if (!hasLiteral && !hasPath) return 'stage';
  if (hasLiteral && hasPath) fail('the payload has both invokeIn and invokeIn.$');
  const value = payload[hasPath ? 'invokeIn.$' : 'invokeIn'];
  delete payload.invokeIn;
  delete payload['invokeIn.$'];
  if (hasPath) {
    if (typeof value !== 'string' || !PLAIN_JSONPATH.test(value)) fail(`invokeIn.$ ${JSON.stringify(value)} is not a plain JSONPath`);
    return { path: value as string };
  }
  if (typeof value !== 'string' || !regions.includes(value)) fail(`invokeIn ${JSON.stringify(value)} is not a region of the manifest (${regions.join(', ')})`);
  return { region: value as string };
}

/** Every Task, including those in Parallel branches and Map processors; nested ones are named `Outer/Inner`. */
function visitTasks(machine: JsonObject, visit: (stateName: string, state: JsonObject) => void, enclosing = ''): void {
  if (!isObject(machine.States)) return;
  for (const [name, state] of Object.entries(machine.States)) {
    if (!isObject(state)) continue;
    const stateName = `${enclosing}${name}`;
    if (state.Type === 'Task') visit(stateName, state);
    const nested = [...(Array.isArray(state.Branches) ? state.Branches : []), state.Iterator, state.ItemProcessor];
    for (const inner of nested) if (isObject(inner)) visitTasks(inner, visit, `${stateName}/`);
  }
}

const unique = <T>(values: readonly T[]): T[] => [...new Set(values)];

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Definition files are named relative to the repository root; this file is stacks/plan/, two levels below it. */
function readRepositoryJson(definitionFile: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../${definitionFile}`, import.meta.url), 'utf8'));
}
