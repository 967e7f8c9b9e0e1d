import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Context } from 'aws-lambda';
import { describe, expect, test } from 'vitest';
import { FunctionInvocationError, FunctionTimeoutError, HandlerLoadError } from '#local/lambda/errors.ts';
import { LocalLambdaFunction } from '#local/lambda/runtime.ts';

const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Lambda runtime', () => {
  test('a handler gets an AWS-shaped context: request id, ARN, $LATEST, memory, log names, remaining time', async () => {
    // Prepare
    let seen: Context | undefined;
    let remainingAtStart = 0;
    const fn = new LocalLambdaFunction({
      functionName: 'tm-ingestion', region: 'us-west-2', timeoutSeconds: 2, memorySizeMB: 256,
      handler: async (_event: unknown, context: Context) => {
        seen = context;
        remainingAtStart = context.getRemainingTimeInMillis();
        return 'done';
      },
    });

    // Act
    const outcome = await fn.invoke({});

    // Assess
    expect(outcome).toMatchObject({ ok: true, result: 'done', requestId: seen!.awsRequestId });
    expect(seen).toMatchObject({
      functionName: 'tm-ingestion',
      functionVersion: '$LATEST',
      invokedFunctionArn: 'arn:aws:lambda:us-west-2:000000000000:function:tm-ingestion',
      memoryLimitInMB: '256',
      logGroupName: '/aws/lambda/tm-ingestion',
      callbackWaitsForEmptyEventLoop: true,
    });
    expect(seen!.awsRequestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(seen!.logStreamName).toMatch(/^\d{4}\/\d\d\/\d\d\/\[\$LATEST\][0-9a-f]{32}$/);
    expect(remainingAtStart).toBeGreaterThan(1_800);
    expect(remainingAtStart).toBeLessThanOrEqual(2_000);
  });

  test('an invocation that outlives its timeout fails with FunctionTimeoutError and its late result is ignored', async () => {
    // Prepare
    let finishedLate = false;
    const fn = new LocalLambdaFunction({
      functionName: 'slow', region: 'us-east-1', timeoutSeconds: 0.1,
      handler: async () => {
        await pause(300);
        finishedLate = true;
        return 'too late';
      },
    });

    // Act
    const outcome = await fn.invoke({});

    // Assess
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error).toBeInstanceOf(FunctionTimeoutError);
    expect(!outcome.ok && outcome.error.message).toMatch(/Task timed out after 0\.10 seconds/);
    expect(outcome.durationMs).toBeLessThan(300);
    expect(finishedLate).toBe(false);
  });

  test('a handler that throws fails the invocation with its error type, and the runtime keeps serving', async () => {
    // Prepare
    let calls = 0;
    const fn = new LocalLambdaFunction({
      functionName: 'flaky', region: 'us-east-1',
      handler: () => {
        calls += 1;
        if (calls === 1) throw new RangeError('quantity out of range');
        return 'recovered';
      },
    });

    // Act
    const failed = await fn.invoke({});
    const recovered = await fn.invoke({});

    // Assess
    expect(!failed.ok && failed.error).toBeInstanceOf(FunctionInvocationError);
    expect(!failed.ok && (failed.error as FunctionInvocationError).errorType).toBe('RangeError');
    expect(recovered).toMatchObject({ ok: true, result: 'recovered' });
  });

  test('functions sharing the process each see their own environment, at module load and when interleaved', async () => {
    // Prepare
    const definition = { region: 'us-east-1', codeRoot: REPOSITORY_ROOT, handler: 'tests/fixtures/lambda/env-echo.handler' };
    const english = new LocalLambdaFunction({ ...definition, functionName: 'english', environment: { GREETING: 'hello' } });
    const french = new LocalLambdaFunction({ ...definition, functionName: 'french', environment: { GREETING: 'bonjour' } });
    const outsideBefore = process.env.GREETING;

    // Act
    const [slowEnglish, fastFrench] = await Promise.all([english.invoke({ pauseMs: 50 }), french.invoke({ pauseMs: 0 })]);

    // Assess
    expect(slowEnglish).toMatchObject({
      ok: true, result: { greetingAtInit: 'hello', greeting: 'hello', functionName: 'english', region: 'us-east-1' },
    });
    expect(fastFrench).toMatchObject({ ok: true, result: { greetingAtInit: 'bonjour', greeting: 'bonjour', functionName: 'french' } });
    expect(process.env.GREETING).toBe(outsideBefore);
    expect(english.runInEnvironment(() => process.env.AWS_LAMBDA_FUNCTION_NAME)).toBe('english');
  });

  test('a handler string names a module under the code root and an export; a wrong export is a HandlerLoadError', async () => {
    // Prepare
    const fn = new LocalLambdaFunction({
      functionName: 'broken', region: 'us-east-1', codeRoot: REPOSITORY_ROOT, handler: 'tests/fixtures/lambda/env-echo.notAFunction',
    });
    const missing = new LocalLambdaFunction({
      functionName: 'missing', region: 'us-east-1', codeRoot: path.join(REPOSITORY_ROOT, 'tests'), handler: 'no/such/module.handler',
    });

    // Act
    const wrongExport = await fn.invoke({});
    const noModule = await missing.invoke({});

    // Assess
    expect(!wrongExport.ok && wrongExport.error.cause).toBeInstanceOf(HandlerLoadError);
    expect(!noModule.ok && noModule.error.cause).toBeInstanceOf(HandlerLoadError);
  });
});
