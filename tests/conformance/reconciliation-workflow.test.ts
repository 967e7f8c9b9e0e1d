import { describe, expect, it } from 'vitest';
import { createStateMachineRunner } from '#local/stepfunctions/runner.ts';
import type { JsonValue } from '#local/stepfunctions/definition.ts';
import type { ExecutionRecord } from '#local/stepfunctions/execution.ts';

/**
 * The reconciliation workflow's control flow (workflows/reconciliation.asl.json) with its three tasks played by
 * scripted handlers: compare, replay, wait, compare again until nothing is missing or the passes run out, and a
 * report in every case. The task functions themselves are tested against the emulators elsewhere.
 */

const DEFINITION = 'workflows/reconciliation.asl.json';

interface Calls {
  reconcile: Array<Record<string, JsonValue>>;
  replay: Array<Record<string, JsonValue>>;
  report: Array<Record<string, JsonValue>>;
}

async function runWith(missingPerPass: number[], options: { maxPasses?: number; reconcileFails?: boolean } = {}): Promise<{ record: ExecutionRecord; calls: Calls }> {
  const calls: Calls = { reconcile: [], replay: [], report: [] };
  const runner = await createStateMachineRunner({
    definition: DEFINITION,
    waitOverridesMs: 1,
    retryOverridesMs: 1,
    handlers: {
      'ops-reconcile': (payload) => {
        const request = payload as Record<string, JsonValue>;
        calls.reconcile.push(request);
        if (options.reconcileFails) throw Object.assign(new Error('the ingestion store does not answer'), { name: 'SafeStoreUnavailableError' });
        const missing = missingPerPass[calls.reconcile.length - 1] ?? 0;
        const pairs = [{ pair: 'tm:inbound-gateway→ingestion', checked: 10, missing, missingIds: Array.from({ length: missing }, (_, index) => `msg:${index}`) }];
        return { ...request, checked: 10, missing, pairs };
      },
      'ops-replay': (payload) => {
        calls.replay.push(payload as Record<string, JsonValue>);
        return { replayed: 1, pairs: [] };
      },
      'ops-report': (payload) => {
        const request = payload as Record<string, JsonValue>;
        calls.report.push(request);
        return { ...request, passes: calls.reconcile.length };
      },
    },
  });
  const execution = await runner.start(
    { app: 'trade-matching', until: '2026-12-07T05:00:00.000Z', maxPasses: options.maxPasses ?? 5, propagationSeconds: 3 },
    { name: 'run-1' },
  );
  return { record: await execution.done, calls };
}

describe('reconciliation workflow', () => {
  it('replays and compares again until a pass finds nothing missing, then reports CONVERGED', async () => {
    // Act
    const { record, calls } = await runWith([3, 1, 0]);

    // Assess
    expect(record.status).toBe('SUCCEEDED');
    expect(calls.reconcile.map((call) => call.pass)).toEqual([1, 2, 3]);
    expect(calls.reconcile.every((call) => call.runId === 'run-1' && call.until === '2026-12-07T05:00:00.000Z')).toBe(true);
    expect(calls.replay.map((call) => call.pass)).toEqual([1, 2]);
    expect((calls.replay[0]!.pairs as Array<{ missingIds: string[] }>)[0]!.missingIds).toEqual(['msg:0', 'msg:1', 'msg:2']);
    expect(calls.report).toEqual([{ app: 'trade-matching', runId: 'run-1', outcome: 'CONVERGED' }]);
    expect(record.output).toMatchObject({ outcome: 'CONVERGED', passes: 3 });
  });

  it('stops after maxPasses, still reports, and fails the execution as incomplete', async () => {
    // Act
    const { record, calls } = await runWith([2, 2, 2, 2], { maxPasses: 3 });

    // Assess
    expect(calls.reconcile).toHaveLength(3);
    expect(calls.replay).toHaveLength(2);
    expect(calls.report).toEqual([{ app: 'trade-matching', runId: 'run-1', outcome: 'NOT_CONVERGED' }]);
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('Reconciliation.Incomplete');
  });

  it('retries a failing task, then reports the failure with its error', async () => {
    // Act
    const { record, calls } = await runWith([], { reconcileFails: true });

    // Assess
    expect(calls.reconcile).toHaveLength(4);
    expect(calls.replay).toHaveLength(0);
    expect(calls.report).toHaveLength(1);
    expect(calls.report[0]).toMatchObject({ outcome: 'FAILED', error: { Error: 'SafeStoreUnavailableError' } });
    expect(record.status).toBe('FAILED');
  });
});
