import { randomUUID } from 'node:crypto';
import { visitStates, type AslStateMachine, type JsonValue } from '#local/stepfunctions/definition.ts';
import {
  MissingTaskHandlerError,
  StepFunctionsRunnerError,
  UnsupportedTaskResourceError,
} from '#local/stepfunctions/errors.ts';

/**
 * Wires the Lambda Task states of a workflow to in-process handlers, shaped the way Step Functions calls Lambda:
 * a Task whose Resource is the function ARN gets the state input and returns the function result; the
 * `arn:aws:states:::lambda:invoke` integration passes `Parameters.Payload` and wraps the result in the Lambda
 * Invoke response (`{ Payload, StatusCode, ExecutedVersion, … }`). A thrown error surfaces as Error = the error's
 * name and Cause = `{"errorType","errorMessage","trace"}` JSON, as Lambda reports it.
 */

export interface TaskInvocationContext {
  readonly stateMachineName: string;
  readonly executionName: string;
  readonly executionArn: string;
  readonly stateName: string;
  readonly functionName: string;
}

export type LocalTaskHandler = (payload: JsonValue, context: TaskInvocationContext) => unknown;

/** Keyed by function name, function ARN, or the exact `FunctionName` the workflow uses. */
export type TaskHandlers = Readonly<Record<string, LocalTaskHandler>>;

export interface LambdaTaskBinding {
  readonly stateName: string;
  readonly functionName: string;
  readonly integration: 'function-arn' | 'lambda-invoke';
  readonly handlerKey: string;
}

type EngineTaskHandler = (input: JsonValue) => Promise<JsonValue>;

const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/;
const PARTIAL_LAMBDA_ARN = /^(?:[^:]*:)?function:([^:]+)(?::[^:]+)?$/;
const LAMBDA_INVOKE = /^arn:aws[a-z-]*:states:::lambda:invoke(\.[A-Za-z]+)?$/;

/** Lambda function name from any form Step Functions accepts: name, name:alias, full or partial ARN. */
export function lambdaFunctionName(reference: string): string {
  const match = LAMBDA_ARN.exec(reference) ?? PARTIAL_LAMBDA_ARN.exec(reference);
  if (match?.[1]) return match[1];
  return reference.split(':')[0] ?? reference;
}

/** Finds every Lambda Task (also inside Parallel and Map) and its handler; fails listing every gap at once. */
export function bindLambdaTasks(
  stateMachineName: string,
  definition: AslStateMachine,
  handlers: TaskHandlers,
): LambdaTaskBinding[] {
  const lookup = new HandlerLookup(handlers);
  const bindings: LambdaTaskBinding[] = [];
  const missing: Array<{ stateName: string; functionName: string }> = [];
  visitStates(definition, ({ stateName, state }) => {
    if (state.Type !== 'Task') return;
    const { reference, integration } = lambdaReferenceOf(stateName, state.Resource, state.Parameters);
    const handlerKey = lookup.find(reference);
    if (handlerKey === undefined) missing.push({ stateName, functionName: reference });
    else bindings.push({ stateName, functionName: lambdaFunctionName(reference), integration, handlerKey });
  });
  if (missing.length > 0) throw new MissingTaskHandlerError(stateMachineName, missing, Object.keys(handlers));
  return bindings;
}

/** Handlers in the shape the engine calls (by state name), for one execution. */
export function engineTaskHandlers(
  bindings: readonly LambdaTaskBinding[],
  handlers: TaskHandlers,
  contextFor: (binding: LambdaTaskBinding) => TaskInvocationContext,
): Record<string, EngineTaskHandler> {
  const engineHandlers: Record<string, EngineTaskHandler> = {};
  for (const binding of bindings) {
    const handler = handlers[binding.handlerKey];
    if (!handler) continue;
    engineHandlers[binding.stateName] = async (input) => {
      const payload = binding.integration === 'lambda-invoke' ? invokePayload(input) : input;
      const result = await invokeLikeLambda(handler, payload, contextFor(binding));
      return binding.integration === 'lambda-invoke' ? invokeResponse(result) : result;
    };
  }
  return engineHandlers;
}

function lambdaReferenceOf(
  stateName: string,
  resource: string | undefined,
  parameters: JsonValue | undefined,
): { reference: string; integration: LambdaTaskBinding['integration'] } {
  if (typeof resource !== 'string') {
    throw new UnsupportedTaskResourceError(stateName, String(resource), 'the Task has no Resource');
  }
  if (LAMBDA_ARN.test(resource)) return { reference: resource, integration: 'function-arn' };
  const invoke = LAMBDA_INVOKE.exec(resource);
  if (!invoke) {
    throw new UnsupportedTaskResourceError(
      stateName,
      resource,
      'only Lambda tasks run locally (a function ARN, or arn:aws:states:::lambda:invoke with Parameters.FunctionName)',
    );
  }
  if (invoke[1]) {
    throw new UnsupportedTaskResourceError(
      stateName,
      resource,
      `the ${invoke[1]} integration pattern is not supported locally; use the plain lambda:invoke`,
    );
  }
  const params = typeof parameters === 'object' && parameters !== null && !Array.isArray(parameters) ? parameters : {};
  const functionName = params.FunctionName;
  if (typeof functionName !== 'string' || functionName === '') {
    const reason =
      'FunctionName.$' in params
        ? 'FunctionName is computed at run time (FunctionName.$), so no handler can be checked before the run'
        : 'Parameters.FunctionName is missing';
    throw new UnsupportedTaskResourceError(stateName, resource, reason);
  }
  return { reference: functionName, integration: 'lambda-invoke' };
}

class HandlerLookup {
  readonly #exact: ReadonlySet<string>;
  readonly #byFunctionName = new Map<string, string[]>();

  constructor(handlers: TaskHandlers) {
    this.#exact = new Set(Object.keys(handlers));
    for (const key of this.#exact) {
      const name = lambdaFunctionName(key);
      this.#byFunctionName.set(name, [...(this.#byFunctionName.get(name) ?? []), key]);
    }
  }

  find(reference: string): string | undefined {
    if (this.#exact.has(reference)) return reference;
    const candidates = this.#byFunctionName.get(lambdaFunctionName(reference)) ?? [];
    if (candidates.length > 1) {
      throw new StepFunctionsRunnerError(
        `handlers ${candidates.join(', ')} all name function ${lambdaFunctionName(reference)}; ` +
          `give one handler for ${reference} under that exact key`,
      );
    }
    return candidates[0];
  }
}

function invokePayload(input: JsonValue): JsonValue {
  if (typeof input === 'object' && input !== null && !Array.isArray(input) && 'Payload' in input) {
    return input.Payload ?? null;
  }
  return {};
}

function invokeResponse(result: JsonValue): JsonValue {
  return {
    ExecutedVersion: '$LATEST',
    Payload: result,
    SdkHttpMetadata: { HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: randomUUID() },
    StatusCode: 200,
  };
}

/** An error as Step Functions reports a failed Lambda invocation: name → Error, Lambda's error JSON → Cause. */
export class LambdaInvocationError extends Error {
  constructor(errorType: string, errorMessage: string, trace: string[]) {
    super(JSON.stringify({ errorType, errorMessage, trace }));
    this.name = errorType;
  }
}

async function invokeLikeLambda(
  handler: LocalTaskHandler,
  payload: JsonValue,
  context: TaskInvocationContext,
): Promise<JsonValue> {
  let result: unknown;
  try {
    // Handlers get their own copy, as a real invocation would deserialise one.
    result = await handler(structuredClone(payload), context);
  } catch (error) {
    if (error instanceof Error) {
      const trace = (error.stack ?? '').split('\n').map((line) => line.trim()).filter(Boolean);
      throw new LambdaInvocationError(error.name || 'Error', error.message, trace);
    }
    throw new LambdaInvocationError('Error', String(error), []);
  }
  // Lambda serialises the result as JSON: undefined becomes null, Dates become strings.
  return result === undefined ? null : (JSON.parse(JSON.stringify(result)) as JsonValue);
}
