import path from 'node:path';
import type { Context } from 'aws-lambda';
import { createInvocationContext, newLogStreamName, newRequestId } from '#local/lambda/context.ts';
import {
  FunctionConfigurationError,
  FunctionInvocationError,
  FunctionTimeoutError,
} from '#local/lambda/errors.ts';
import { runWithFunctionEnvironment } from '#local/lambda/function-environment.ts';
import { loadHandler } from '#local/lambda/handler-loader.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers choose their own event and result types
export type LambdaHandler<TEvent = any, TResult = any> = (event: TEvent, context: Context) => Promise<TResult> | TResult;

/** The account id every twin ARN carries. */
export const TWIN_ACCOUNT_ID = '000000000000';

// Numbers each function object's handler-module instance: two regions in one process (or a region restarted in
// the same process) run functions of the same name whose module-level clients must see their own environment.
let executionEnvironments = 0;

export interface LambdaFunctionDefinition {
  functionName: string;
  /** The handler itself, or an AWS handler string such as `functions/trade-matching/ingestion.handler`. */
  handler: LambdaHandler | string;
  region: string;
  /** Root that handler strings are relative to (the repository root). Default: `process.cwd()`. */
  codeRoot?: string;
  /** AWS default 3, maximum 900. */
  timeoutSeconds?: number;
  /** AWS default 128, range 128..10240. */
  memorySizeMB?: number;
  environment?: Readonly<Record<string, string>>;
  /** Execution role; AWS puts it in stream events as `invokeIdentityArn`. */
  roleArn?: string;
  /** Chaos experiments' faults, asked before every invocation (local/chaos/invocation-faults.ts); none by default. */
  faults?: InvocationFaults;
}

/**
 * A fault injected into one invocation: run the handler on `event` instead of the delivered one, then fail with
 * `crashAfter` (its effects happened, the caller sees a failure and delivers again); or `skip` the handler and
 * report success (a deliberately broken build).
 */
export interface InvocationFault {
  readonly event?: unknown;
  readonly crashAfter?: string;
  readonly skip?: boolean;
}

export type InvocationFaults = (functionName: string, event: unknown) => InvocationFault | undefined;

/** The failure a crash fault reports once the handler's effects have happened. */
export class InjectedCrashError extends Error {
  override readonly name = 'InjectedCrashError';
}

export type InvocationOutcome<TResult = unknown> =
  | { ok: true; requestId: string; result: TResult; durationMs: number }
  | { ok: false; requestId: string; error: FunctionInvocationError | FunctionTimeoutError; durationMs: number };

const RESERVED_ENVIRONMENT_KEYS = new Set([
  '_HANDLER', 'AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR',
]);

function validate(definition: LambdaFunctionDefinition): void {
  const { functionName, timeoutSeconds = 3, memorySizeMB = 128, environment = {} } = definition;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(functionName)) {
    throw new FunctionConfigurationError(`function name '${functionName}' must match [A-Za-z0-9_-]{1,64}`);
  }
  if (!(timeoutSeconds > 0 && timeoutSeconds <= 900)) {
    throw new FunctionConfigurationError(`${functionName}: timeout ${timeoutSeconds}s is outside 0..900`);
  }
  if (!(Number.isInteger(memorySizeMB) && memorySizeMB >= 128 && memorySizeMB <= 10_240)) {
    throw new FunctionConfigurationError(`${functionName}: memory ${memorySizeMB} MB is outside 128..10240`);
  }
  const reserved = Object.keys(environment).filter((key) => RESERVED_ENVIRONMENT_KEYS.has(key));
  if (reserved.length > 0) {
    throw new FunctionConfigurationError(`${functionName}: reserved environment variables ${reserved.join(', ')}`);
  }
}

/**
 * One Lambda function of the twin: a single warm execution environment that runs its handler with an
 * AWS-shaped context, its own environment variables (see function-environment.ts) and an enforced timeout.
 * Sub-second timeouts are accepted so drills and tests can exercise timeouts quickly.
 */
export class LocalLambdaFunction<TEvent = unknown, TResult = unknown> {
  readonly functionName: string;
  readonly region: string;
  readonly functionArn: string;
  readonly roleArn: string;
  readonly timeoutSeconds: number;
  readonly memorySizeMB: number;
  readonly logGroupName: string;
  readonly logStreamName: string;
  private readonly environment: Record<string, string | undefined>;
  private readonly handlerSource: LambdaHandler<TEvent, TResult> | string;
  private readonly codeRoot: string;
  private loadingHandler: Promise<LambdaHandler<TEvent, TResult>> | undefined;
  private readonly moduleInstanceKey: string;
  private readonly faults: InvocationFaults | undefined;

  constructor(definition: LambdaFunctionDefinition) {
    validate(definition);
    this.functionName = definition.functionName;
    this.region = definition.region;
    this.functionArn = `arn:aws:lambda:${definition.region}:${TWIN_ACCOUNT_ID}:function:${definition.functionName}`;
    this.roleArn = definition.roleArn ?? `arn:aws:iam::${TWIN_ACCOUNT_ID}:role/${definition.functionName}-role`;
    this.timeoutSeconds = definition.timeoutSeconds ?? 3;
    this.memorySizeMB = definition.memorySizeMB ?? 128;
    this.logGroupName = `/aws/lambda/${definition.functionName}`;
    this.logStreamName = newLogStreamName();
    this.handlerSource = definition.handler;
    this.codeRoot = definition.codeRoot ?? process.cwd();
    this.faults = definition.faults;
    executionEnvironments += 1;
    this.moduleInstanceKey = `${definition.region}/${definition.functionName}/${executionEnvironments}`;
    this.environment = {
      ...definition.environment,
      AWS_REGION: definition.region,
      AWS_DEFAULT_REGION: definition.region,
      AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs20.x',
      AWS_LAMBDA_FUNCTION_NAME: definition.functionName,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.memorySizeMB),
      AWS_LAMBDA_LOG_GROUP_NAME: this.logGroupName,
      AWS_LAMBDA_LOG_STREAM_NAME: this.logStreamName,
      LAMBDA_TASK_ROOT: path.resolve(this.codeRoot),
      ...(typeof definition.handler === 'string' ? { _HANDLER: definition.handler } : {}),
    };
  }

  /** Runs `body` as this function's code: `process.env` shows the function's variables. */
  runInEnvironment<T>(body: () => T): T {
    return runWithFunctionEnvironment(this.environment, body);
  }

  /** Loads the handler module once (the cold start); a failed load is retried on the next invocation. */
  private handler(): Promise<LambdaHandler<TEvent, TResult>> {
    const source = this.handlerSource;
    if (typeof source === 'function') return Promise.resolve(source);
    this.loadingHandler ??= this.runInEnvironment(() => loadHandler(source, this.codeRoot, this.moduleInstanceKey)).catch((error: unknown) => {
      this.loadingHandler = undefined;
      throw error;
    });
    return this.loadingHandler;
  }

  /**
   * Invokes the handler synchronously (RequestResponse). Never rejects for function failures: the outcome
   * says whether the handler returned, threw, or timed out. A result that arrives after the timeout is ignored.
   */
  async invoke(event: TEvent): Promise<InvocationOutcome<TResult>> {
    const fault = this.faults?.(this.functionName, event);
    if (fault === undefined) return this.run(event);
    if (fault.skip) return { ok: true, requestId: newRequestId(), result: null as TResult, durationMs: 0 };
    const outcome = await this.run((fault.event ?? event) as TEvent);
    if (!outcome.ok || fault.crashAfter === undefined) return outcome;
    const crash = new InjectedCrashError(`${this.functionName}: ${fault.crashAfter} (chaos) after the handler returned`);
    return { ok: false, requestId: outcome.requestId, durationMs: outcome.durationMs, error: new FunctionInvocationError(this.functionName, outcome.requestId, crash) };
  }

  private async run(event: TEvent): Promise<InvocationOutcome<TResult>> {
    const requestId = newRequestId();
    const startedAt = Date.now();
    const finish = (settled: { ok: true; result: TResult } | { ok: false; error: FunctionInvocationError | FunctionTimeoutError }) =>
      ({ ...settled, requestId, durationMs: Date.now() - startedAt }) as InvocationOutcome<TResult>;

    let handler: LambdaHandler<TEvent, TResult>;
    try {
      handler = await this.handler();
    } catch (error) {
      return finish({ ok: false, error: new FunctionInvocationError(this.functionName, requestId, error) });
    }

    let timer: NodeJS.Timeout | undefined;
    try {
      const result = await new Promise<TResult>((resolve, reject) => {
        let settled = false;
        const settle = (error: unknown, value?: unknown) => {
          if (settled) return;
          settled = true;
          if (error === undefined || error === null) resolve(value as TResult);
          else reject(error instanceof FunctionTimeoutError ? error : new FunctionInvocationError(this.functionName, requestId, error));
        };
        const timeoutMs = this.timeoutSeconds * 1000;
        timer = setTimeout(
          () => settle(new FunctionTimeoutError(this.functionName, requestId, this.timeoutSeconds)),
          timeoutMs,
        );
        const context = createInvocationContext({
          requestId,
          functionName: this.functionName,
          functionArn: this.functionArn,
          memorySizeMB: this.memorySizeMB,
          logGroupName: this.logGroupName,
          logStreamName: this.logStreamName,
          deadlineMs: startedAt + timeoutMs,
          settle,
        });
        this.runInEnvironment(() => Promise.resolve().then(() => handler(event, context))).then(
          (value) => settle(undefined, value),
          // A handler that rejects with nothing is still a failure.
          (error: unknown) => settle(error ?? new Error('handler rejected without a reason')),
        );
      });
      return finish({ ok: true, result });
    } catch (error) {
      return finish({ ok: false, error: error as FunctionInvocationError | FunctionTimeoutError });
    } finally {
      clearTimeout(timer);
    }
  }
}
