import { describe, expect, it } from 'vitest';
import { createStateMachineRunner } from '#local/stepfunctions/runner.ts';
import type { JsonValue } from '#local/stepfunctions/definition.ts';
import type { ExecutionRecord } from '#local/stepfunctions/execution.ts';

/**
 * The rotation and disaster-recovery workflows' control flow (workflows/rotation.asl.json,
 * workflows/disaster-recovery.asl.json) with their tasks played by a scripted two-region world: routing controls
 * held in memory under the cluster's rule (exactly one dns and one app control On), a source that drains after a
 * few checks, a switchover that takes a few polls, a canary that settles late. The task functions themselves are
 * tested against the emulators elsewhere.
 */

type Payload = Record<string, JsonValue>;
type Call = { fn: string; region: string; payload: Payload };
const SOURCE = 'us-east-1';
const TARGET = 'us-west-2';

interface World {
  calls: Call[];
  controls: Record<string, 'On' | 'Off'>;
  writer: string;
}

function scriptedWorld(options: { queuesDrainAfter?: number; executionRegion: string }): { world: World; handlers: Record<string, (payload: JsonValue) => unknown> } {
  const world: World = { calls: [], writer: SOURCE, controls: {} };
  for (const kind of ['dns', 'queue', 'app']) {
    world.controls[`trade-matching-${kind}-${SOURCE}`] = 'On';
    world.controls[`trade-matching-${kind}-${TARGET}`] = 'Off';
  }
  let queueChecks = 0;
  let switchoverPolls = 0;
  let canaryChecks = 0;
  const record = (fn: string, payload: JsonValue) => {
    const { invokeIn, ...rest } = payload as Payload;
    world.calls.push({ fn, region: typeof invokeIn === 'string' ? invokeIn : options.executionRegion, payload: rest });
    return rest;
  };
  const describeRouting = () => ({
    app: 'trade-matching',
    activeRegion: [SOURCE, TARGET].find((region) => world.controls[`trade-matching-dns-${region}`] === 'On') ?? null,
    regions: [SOURCE, TARGET],
    controls: Object.fromEntries(['dns', 'queue', 'app'].map((kind) => [kind, Object.fromEntries([SOURCE, TARGET].map((region) => [region, world.controls[`trade-matching-${kind}-${region}`]]))])),
  });
  const handlers: Record<string, (payload: JsonValue) => unknown> = {
    'ops-routing': (payload) => {
      const request = record('ops-routing', payload) as { action: string; changes?: Array<{ kind: string; region: string; state: 'On' | 'Off' }> };
      if (request.action === 'set') {
        const next = { ...world.controls };
        for (const change of request.changes ?? []) next[`trade-matching-${change.kind}-${change.region}`] = change.state;
        for (const kind of ['dns', 'app']) {
          const on = [SOURCE, TARGET].filter((region) => next[`trade-matching-${kind}-${region}`] === 'On').length;
          if (on !== 1) throw Object.assign(new Error(`${kind}: ${on} On`), { name: 'SafetyRuleViolationError' });
        }
        world.controls = next;
      }
      return describeRouting();
    },
    'ops-drain-check': (payload) => {
      const request = record('ops-drain-check', payload) as { check: string };
      if (request.check === 'queues' && ++queueChecks <= (options.queuesDrainAfter ?? 0)) throw Object.assign(new Error('tm.trades: 3'), { name: 'DrainNotCompleteError' });
      if (request.check === 'forward-queues') return { check: request.check, forwarded: { 'tm.trades': 2 } };
      return { check: request.check, drained: true };
    },
    'ops-reconcile': (payload) => {
      const request = record('ops-reconcile', payload);
      return { ...request, checked: 100, missing: 0, pairs: [] };
    },
    'ops-replay': (payload) => ({ ...record('ops-replay', payload), replayed: 0, pairs: [] }),
    'ops-report': (payload) => ({ ...record('ops-report', payload), passes: 1, replayed: 0, missingAtEnd: 0, pairs: [], replayedIds: [] }),
    'ops-digest': (payload) => {
      record('ops-digest', payload);
      return { digest: 'same-content', tables: {}, databases: {} };
    },
    'ops-switchover': (payload) => {
      const request = record('ops-switchover', payload) as { toRegion: string; mode: string; check?: boolean };
      if (request.check && ++switchoverPolls >= 2) world.writer = request.toRegion;
      return { app: 'trade-matching', database: 'tm-db', mode: request.mode, fromRegion: SOURCE, toRegion: request.toRegion, status: world.writer === request.toRegion ? 'DONE' : 'IN_PROGRESS' };
    },
    'ops-canary': (payload) => {
      const request = record('ops-canary', payload) as { action: string };
      if (request.action === 'submit') return { runId: 'r', tradeIds: ['a', 'b'], submittedAt: '2026-12-07T05:00:00.000Z' };
      if (++canaryChecks < 3) throw Object.assign(new Error('MATCHED, MATCHED'), { name: 'CanaryNotSettledError' });
      return { settled: true, elapsedMs: 1234, tradeIds: ['a', 'b'] };
    },
  };
  return { world, handlers };
}

async function run(definition: string, world: ReturnType<typeof scriptedWorld>): Promise<ExecutionRecord> {
  const runner = await createStateMachineRunner({ definition, handlers: world.handlers as never, waitOverridesMs: 1, retryOverridesMs: 1 });
  const execution = await runner.start({ app: 'trade-matching', sourceRegion: SOURCE, targetRegion: TARGET, maxPasses: 3, propagationSeconds: 1 }, { name: 'rotation-1' });
  return execution.done;
}

const routingChanges = (calls: Call[]) =>
  calls.filter((call) => call.fn === 'ops-routing' && call.payload.action === 'set').map((call) => (call.payload.changes as Array<Payload>).map((change) => `${String(change.kind)}-${String(change.region)}=${String(change.state)}`).join(' '));

describe('planned rotation workflow', () => {
  it('moves the edge, drains the source with evidence, switches the writer over, then moves matching, reconciles and follows the canary', async () => {
    // Prepare
    const scripted = scriptedWorld({ queuesDrainAfter: 2, executionRegion: TARGET });

    // Act
    const record = await run('workflows/rotation.asl.json', scripted);

    // Assess
    expect(record.status).toBe('SUCCEEDED');
    const { calls, controls, writer } = scripted.world;
    expect(routingChanges(calls)).toEqual([
      `dns-${SOURCE}=Off dns-${TARGET}=On queue-${TARGET}=Off`,
      `queue-${SOURCE}=Off`,
      `app-${SOURCE}=Off app-${TARGET}=On`,
      `queue-${TARGET}=On`,
    ]);
    const steps = calls.filter((call) => call.fn !== 'ops-routing').map((call) => `${call.fn}:${String(call.payload.check ?? call.payload.action ?? call.payload.mode ?? '')}@${call.region}`);
    expect(steps).toEqual([
      `ops-drain-check:queues@${SOURCE}`,
      `ops-drain-check:queues@${SOURCE}`,
      `ops-drain-check:queues@${SOURCE}`,
      `ops-reconcile:@${SOURCE}`,
      `ops-drain-check:watermark-write@${SOURCE}`,
      `ops-drain-check:watermark-read@${TARGET}`,
      `ops-digest:@${SOURCE}`,
      `ops-switchover:switchover@${TARGET}`,
      `ops-switchover:true@${TARGET}`,
      `ops-switchover:true@${TARGET}`,
      `ops-reconcile:@${TARGET}`,
      `ops-report:@${TARGET}`,
      `ops-digest:@${TARGET}`,
      // Stragglers clients sent to the source after its queue closed go to the target once its queue is open.
      `ops-drain-check:forward-queues@${SOURCE}`,
      `ops-canary:submit@${TARGET}`,
      `ops-canary:check@${TARGET}`,
      `ops-canary:check@${TARGET}`,
      `ops-canary:check@${TARGET}`,
      `ops-reconcile:@${TARGET}`,
      `ops-report:@${TARGET}`,
    ]);
    const reconciles = calls.filter((call) => call.fn === 'ops-reconcile');
    expect(reconciles.map((call) => call.payload.ownStagesOnly ?? false)).toEqual([true, true, false]);
    expect(reconciles.map((call) => call.payload.runId)).toEqual(['rotation-1-drain', 'rotation-1', 'rotation-1-final']);
    expect(writer).toBe(TARGET);
    expect(controls).toMatchObject({ [`trade-matching-dns-${TARGET}`]: 'On', [`trade-matching-queue-${TARGET}`]: 'On', [`trade-matching-app-${TARGET}`]: 'On', [`trade-matching-queue-${SOURCE}`]: 'Off' });
    expect(record.output).toMatchObject({ sourceRegion: SOURCE, targetRegion: TARGET, digestsEqual: true, digestBefore: 'same-content', canary: { settled: true }, reconciliation: { outcome: 'CONVERGED' } });
  });

  it('puts routing back on the source, hands it what clients sent the target meanwhile, and never moves the writer when the source does not drain', async () => {
    // Prepare
    const scripted = scriptedWorld({ queuesDrainAfter: 1_000, executionRegion: TARGET });

    // Act
    const record = await run('workflows/rotation.asl.json', scripted);

    // Assess
    expect(record.status).toBe('FAILED');
    expect(record.error).toBe('Rotation.RolledBack');
    expect(scripted.world.calls.some((call) => call.fn === 'ops-switchover')).toBe(false);
    const forwarding = scripted.world.calls.filter((call) => call.payload.check === 'forward-queues');
    expect(forwarding).toEqual([{ fn: 'ops-drain-check', region: TARGET, payload: { check: 'forward-queues', app: 'trade-matching', runId: 'rotation-1', toRegion: SOURCE } }]);
    expect(scripted.world.controls).toMatchObject({ [`trade-matching-dns-${SOURCE}`]: 'On', [`trade-matching-queue-${SOURCE}`]: 'On', [`trade-matching-app-${SOURCE}`]: 'On', [`trade-matching-dns-${TARGET}`]: 'Off' });
  });
});

describe('disaster recovery workflow', () => {
  it('touches only the surviving region and the routing controls, and promotes the secondary with a failover', async () => {
    // Prepare
    const scripted = scriptedWorld({ executionRegion: TARGET });

    // Act
    const record = await run('workflows/disaster-recovery.asl.json', scripted);

    // Assess
    expect(record.status).toBe('SUCCEEDED');
    const { calls } = scripted.world;
    expect(calls.every((call) => call.region === TARGET)).toBe(true);
    expect(calls.filter((call) => call.fn === 'ops-switchover').every((call) => call.payload.mode === 'failover')).toBe(true);
    expect(routingChanges(calls)[0]).toBe(`dns-${SOURCE}=Off dns-${TARGET}=On queue-${SOURCE}=Off queue-${TARGET}=Off`);
    expect(scripted.world.writer).toBe(TARGET);
    expect(record.output).toMatchObject({ unplanned: true, canary: { settled: true } });
  });
});
