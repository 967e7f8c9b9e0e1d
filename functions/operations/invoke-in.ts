import { Logger } from '@aws-lambda-powertools/logger';
import { LambdaRegionInvoker } from '#shared/adapters/lambda/lambda-region-invoker.ts';
import { requiredEnv } from '#shared/config/environment.ts';
import { invokeIn, InvokeInRequest, parseInvokableFunctions } from '#shared/operations/invoke-in.ts';

/**
 * `invoke-in` (AWS only): the relay through which a workflow task runs its function in another region, since Step
 * Functions invokes Lambda only in its own region. `{region, functionName, payload}` → the function's result,
 * unchanged; the function's failure is rethrown under its own name and message, a failed call as `Lambda.*`, so the
 * state's Retry and Catch match as without the relay. Runs only the functions `INVOKABLE_FUNCTIONS` lists
 * (`FunctionNotInvokableError` otherwise). See shared/operations/invoke-in.ts.
 */

const logger = new Logger({ serviceName: 'invoke-in', logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
const invokable = parseInvokableFunctions(requiredEnv('INVOKABLE_FUNCTIONS'));
const invoker = new LambdaRegionInvoker();
/** Gives up this long before the relay's own timeout, so a slow function fails with a name the Retry knows. */
const DEADLINE_MARGIN_MS = 2_000;

export const handler = async (event: unknown, context?: { getRemainingTimeInMillis?: () => number }): Promise<unknown> => {
  const request = InvokeInRequest.parse(event);
  const remaining = context?.getRemainingTimeInMillis?.();
  const signal = remaining === undefined ? undefined : AbortSignal.timeout(Math.max(1_000, remaining - DEADLINE_MARGIN_MS));
  try {
    return await invokeIn(request, { invoker, invokable, ...(signal ? { signal } : {}) });
  } catch (error) {
    logger.warn('relayed invocation failed', { region: request.region, functionName: request.functionName, error: (error as Error).name });
    throw error;
  }
};
