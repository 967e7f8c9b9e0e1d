import { readFileSync } from 'node:fs';
import { topology, type Topology } from '#shared/topology/index.ts';
import { arnOf, physicalName, type StageContext } from './stage.ts';

/**
 * Turns a `workflows/*.asl.json` definition into the one Step Functions deploys. The files name each task's function
 * by its manifest name, and a payload's `invokeIn` names the region whose function runs the task (the twin strips it,
 * local/controller/twin-workflows.ts). On AWS the name becomes a function ARN, and `invokeIn` a `States.Format`
 * template for the ARN in the region the execution's input names, so one execution drives both regions.
 */

export class UnrenderableWorkflowError extends Error {
  override readonly name = 'UnrenderableWorkflowError';
}

/** How a task's region is chosen: the stage's own, a JSONPath read at run time, or a region fixed in the file. */
export type InvokedRegion = 'stage' | { path: string } | { region: string };

export interface InvokedFunction {
  readonly name: string;
  readonly region: InvokedRegion;
}

export interface RenderedDefinition {
  readonly definition: Record<string, unknown>;
  /** Each function and region choice once, in the order the states first use it. */
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
  /** Every function ARN the machine's role must be allowed to invoke. */
  readonly taskFunctionArns: string[];
}

type Manifest = Pick<Topology, 'functions' | 'regions'>;
type JsonObject = Record<string, unknown>;

const LAMBDA_INVOKE = /^arn:[a-z-]+:states:::lambda:invoke(?:\.waitForTaskToken)?$/;
/**
 * The path is spliced into an intrinsic call's argument list, so only plain dotted or indexed paths are accepted:
 * a comma, quote, parenthesis or space would change which arguments the call gets.
 */
const PLAIN_JSONPATH = /^\$\$?(?:\.[A-Za-z_][\w-]*|\[\d+\])*$/;

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
    const [key, value] =
      region === 'stage' ? ['FunctionName', arnOf.function(context, functionName)]
      : 'region' in region ? ['FunctionName', arnOf.function(context, functionName, region.region)]
      : ['FunctionName.$', functionArnTemplate(context, functionName, region.path)];
    // Rebuilt rather than patched so the function stays the first parameter, as in the file.
    state.Parameters = Object.fromEntries(Object.entries(parameters).map(([field, v]) => (field === 'FunctionName' ? [key, value] : [field, v])));
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
    const arns = invokedFunctions.flatMap(({ name, region }) =>
      region === 'stage' ? [arnOf.function(context, name)]
      : 'region' in region ? [arnOf.function(context, name, region.region)]
      // The path's value is known only at run time, so the role may invoke the function in any region.
      : manifest.regions.map((each) => arnOf.function(context, name, each)),
    );
    return {
      manifest: machine.name,
      name: physicalName(context, machine.name),
      definition: JSON.stringify(definition),
      invokedFunctions,
      taskFunctionArns: [...new Set(arns)],
    };
  });
}

/**
 * `States.Format('arn:…:lambda:{}:…:function:rotor-<env>-<name>', <path>)`. Built from `arnOf.function` so the
 * template and the stacks' ARNs cannot drift; the literal's reserved characters (`'{}\`) are escaped as ASL requires.
 */
export function functionArnTemplate(context: StageContext, functionName: string, regionPath: string): string {
  const REGION = '\0';
  const literal = arnOf.function(context, functionName, REGION).split(REGION).map(escapeIntrinsicLiteral).join('{}');
  return `States.Format('${literal}', ${regionPath})`;
}

function escapeIntrinsicLiteral(text: string): string {
  return text.replace(/['{}\\]/g, (reserved) => `\\${reserved}`);
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

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Definition files are named relative to the repository root; this file is stacks/plan/, two levels below it. */
function readRepositoryJson(definitionFile: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../${definitionFile}`, import.meta.url), 'utf8'));
}
