import { z } from 'zod';
import { MissingConfigurationError } from '#shared/config/environment.ts';
import type { RegionalFunctionInvoker } from '#shared/ports/function-invoker.ts';

/**
 * The `invoke-in` relay (AWS only): runs a workflow task's function in the region the execution names. Step
 * Functions invokes Lambda only in the state machine's own region, and Lambda refuses another region's function ARN,
 * so stacks/plan/workflows.ts renders a task whose payload carries `invokeIn` as a call to this relay in the
 * execution's region, with `{region, functionName, payload}`. The twin needs no relay: it invokes the function of the
 * named region itself (local/controller/twin-workflows.ts).
 *
 * The relay answers the function's result unchanged and fails with the function's own error name and message, or a
 * `Lambda.*` name when the call itself failed (shared/ports/function-invoker.ts), so the state's Retry and Catch
 * behave as if Step Functions had called the function. It runs only the functions its allow-list names (the
 * deployment gives it those its workflows relay to, `INVOKABLE_FUNCTIONS`); any other fails with
 * `FunctionNotInvokableError`.
 */

/** `us-east-1`, `ap-southeast-2`, `us-gov-west-1`. */
export const AwsRegion = z.string().regex(/^[a-z]{2}(?:-[a-z]+){1,2}-\d{1,2}$/, 'must be an AWS region name such as us-east-1');
/** A deployed function's name, `rotor-<environment>-<manifest name>` (stacks/plan/stage.ts `physicalName`). */
export const RotorFunctionName = z
  .string()
  .max(64)
  .regex(/^rotor-[a-z][a-z0-9]{0,15}-[A-Za-z0-9][A-Za-z0-9-]*$/, 'must be a Rotor function name, rotor-<environment>-<name>');

export const InvokeInRequest = z.strictObject({
  region: AwsRegion,
  functionName: RotorFunctionName,
  payload: z.unknown(),
});
export type InvokeInRequest = z.infer<typeof InvokeInRequest>;

/** The request names a function the relay may not run: a deployment or definition error, not worth retrying. */
export class FunctionNotInvokableError extends Error {
  override readonly name = 'FunctionNotInvokableError';
  readonly transient = false;
  constructor(
    readonly functionName: string,
    invokable: ReadonlySet<string>,
  ) {
    super(`the invoke-in relay may not run ${functionName}; it may run ${[...invokable].join(', ') || 'nothing'}`);
  }
}

/** `INVOKABLE_FUNCTIONS`: a JSON array of function names. */
export function parseInvokableFunctions(text: string | undefined): ReadonlySet<string> {
  const parsed = z.array(RotorFunctionName).safeParse(parseJson(text));
  if (!parsed.success) throw new MissingConfigurationError('INVOKABLE_FUNCTIONS must be a JSON array of function names rotor-<environment>-<name>');
  return new Set(parsed.data);
}

export interface InvokeInDependencies {
  readonly invoker: RegionalFunctionInvoker;
  /** The functions the relay may run, by deployed name. */
  readonly invokable: ReadonlySet<string>;
  /** Gives up waiting for the function when aborted (the relay's own deadline). */
  readonly signal?: AbortSignal;
}

export async function invokeIn(request: InvokeInRequest, { invoker, invokable, signal }: InvokeInDependencies): Promise<unknown> {
  if (!invokable.has(request.functionName)) throw new FunctionNotInvokableError(request.functionName, invokable);
  return invoker.invoke(request.region, request.functionName, request.payload ?? null, signal ? { signal } : {});
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
