import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface InvocationContextInput {
  requestId: string;
  functionName: string;
  functionArn: string;
  memorySizeMB: number;
  logGroupName: string;
  logStreamName: string;
  /** Epoch milliseconds at which the invocation times out. */
  deadlineMs: number;
  /** Settles the invocation from the legacy `done`/`succeed`/`fail` methods. */
  settle: (error: unknown, result?: unknown) => void;
}

export function newRequestId(): string {
  return randomUUID();
}

/** AWS names a log stream `YYYY/MM/DD/[$LATEST]<32 hex>`, one per execution environment. */
export function newLogStreamName(now: Date = new Date()): string {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '/');
  return `${day}/[$LATEST]${randomUUID().replaceAll('-', '')}`;
}

export function createInvocationContext(input: InvocationContextInput): Context {
  return {
    awsRequestId: input.requestId,
    functionName: input.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: input.functionArn,
    memoryLimitInMB: String(input.memorySizeMB),
    logGroupName: input.logGroupName,
    logStreamName: input.logStreamName,
    // The twin never freezes a sandbox, so the flag is informational, as handlers may still set it.
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, input.deadlineMs - Date.now()),
    done: (error?: Error, result?: unknown) => input.settle(error ?? undefined, result),
    fail: (error: Error | string) => input.settle(typeof error === 'string' ? new Error(error) : error),
    succeed: (result: unknown) => input.settle(undefined, result),
  };
}
