import { describe, expect, it } from 'vitest';
import { FaultPlan, parseRegionFault, type RegionFaultKind } from '#local/chaos/fault-plan.ts';
import { invocationFaultsOf } from '#local/chaos/invocation-faults.ts';
import { LocalLambdaFunction } from '#local/lambda/runtime.ts';
import type { FunctionInvocationError } from '#local/lambda/errors.ts';

/**
 * The Lambda runtime with the chaos hooks: a crash after effects runs the handler to the end and then fails the
 * invocation; a crash mid-batch runs half the batch; the broken build's skip never runs the handler.
 */

const batch = (count: number) => ({ Records: Array.from({ length: count }, (_, index) => ({ kinesis: { sequenceNumber: `seq-${index}`, data: '' } })) });

function functionWith(kind: RegionFaultKind) {
  const plan = new FaultPlan(() => 0);
  plan.add(parseRegionFault({ id: 'fault', kind, targets: ['tm-egress'], expiresAt: Date.now() + 60_000 }));
  const effects: number[] = [];
  const fn = new LocalLambdaFunction<{ Records: unknown[] }, null>({
    functionName: 'tm-egress',
    region: 'us-east-1',
    handler: async (event) => {
      effects.push(event.Records.length);
      return null;
    },
    faults: invocationFaultsOf(plan),
  });
  return { fn, effects };
}

describe('invocation faults in the Lambda runtime', () => {
  it('crash-after-effects: the handler ran, the invocation failed, the redelivery succeeds', async () => {
    // Prepare
    const { fn, effects } = functionWith('crash-after-effects');

    // Act
    const first = await fn.invoke(batch(4));
    const again = await fn.invoke(batch(4));

    // Assess
    expect(first.ok).toBe(false);
    expect(!first.ok && (first.error as FunctionInvocationError).errorType).toBe('InjectedCrashError');
    expect(again.ok).toBe(true);
    expect(effects).toEqual([4, 4]);
  });

  it('crash-mid-batch: the first half is processed, then the invocation fails', async () => {
    // Prepare
    const { fn, effects } = functionWith('crash-mid-batch');

    // Act
    const first = await fn.invoke(batch(5));

    // Assess
    expect(first.ok).toBe(false);
    expect(effects).toEqual([3]);
  });

  it('crash-mid-batch leaves a single record alone (there is no middle)', async () => {
    // Prepare
    const { fn, effects } = functionWith('crash-mid-batch');

    // Act
    const outcome = await fn.invoke(batch(1));

    // Assess
    expect(outcome.ok).toBe(true);
    expect(effects).toEqual([1]);
  });

  it('skip-batch (broken build) reports success without running the handler', async () => {
    // Prepare
    const { fn, effects } = functionWith('skip-batch');

    // Act
    const outcome = await fn.invoke(batch(3));

    // Assess
    expect(outcome).toMatchObject({ ok: true, result: null });
    expect(effects).toEqual([]);
  });

  it('leaves other functions alone', async () => {
    // Prepare
    const plan = new FaultPlan(() => 0);
    plan.add(parseRegionFault({ id: 'fault', kind: 'crash-after-effects', targets: ['tm-matching'], expiresAt: Date.now() + 60_000 }));
    const fn = new LocalLambdaFunction({ functionName: 'tm-egress', region: 'us-east-1', handler: async () => 'done', faults: invocationFaultsOf(plan) });

    // Act
    const outcome = await fn.invoke(batch(2));

    // Assess
    expect(outcome).toMatchObject({ ok: true, result: 'done' });
  });
});
