import { afterEach, describe, expect, test, vi } from 'vitest';
import type { RunningArcEmulator } from '#local/global/arc/emulator.ts';
import { RoutingGate } from '#shared/adapters/arc/routing-gate.ts';
import {
  RoutingControlNotFoundError,
  RoutingControlRequestError,
  RoutingControlsUnreachableError,
  type RoutingControls,
} from '#shared/ports/routing-controls.ts';
import { ArcTestBench, TEST_CREDENTIALS } from '#tests/support/arc-cluster.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const bench = new ArcTestBench();
afterEach(async () => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
  await bench.cleanUp();
});

const GENERATOR = 'trade-matching-generator';
const DNS_EAST = 'trade-matching-dns-us-east-1';
const DNS_WEST = 'trade-matching-dns-us-west-2';

/** The adapter with every state read counted, to tell cached answers from reads of the cluster. */
function counted(controls: RoutingControls): { controls: RoutingControls; reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    controls: {
      getState: (name) => {
        reads.push(name);
        return controls.getState(name);
      },
      list: () => controls.list(),
      update: (name, state, options) => controls.update(name, state, options),
      updateMany: (changes, options) => controls.updateMany(changes, options),
    },
  };
}

function fakeClock(start = 1_000_000) {
  const clock = { now: start, read: () => clock.now };
  return clock;
}

async function stopAllEndpoints(arc: RunningArcEmulator) {
  for (const index of arc.endpoints.keys()) await arc.stopEndpoint(index);
}

describe('RoutingGate: reading controls', () => {
  test('answers from the cluster, and sees a flip once its cached answer is ttlMs old', async () => {
    // Prepare
    const arc = await bench.start();
    const operator = bench.adapter(arc);
    const clock = fakeClock();
    const gate = new RoutingGate(bench.adapter(arc), { ttlMs: 1_000, now: clock.read });

    // Act
    const before = await gate.isOn(GENERATOR);
    await operator.update(GENERATOR, 'On');
    clock.now += 999;
    const justBeforeTtl = await gate.isOn(GENERATOR);
    clock.now += 1;
    const atTtl = await gate.isOn(GENERATOR);
    await operator.update(GENERATOR, 'Off');
    clock.now += 1_000;
    const afterSecondFlip = await gate.isOn(GENERATOR);

    // Assess
    expect([before, justBeforeTtl, atTtl, afterSecondFlip]).toEqual([false, false, true, false]);
  });

  test('answers within ttlMs come from the cache, concurrent callers share one read, and each control has its own entry', async () => {
    // Prepare
    const arc = await bench.start();
    const { controls, reads } = counted(bench.adapter(arc));
    const gate = new RoutingGate(controls, { ttlMs: 60_000 });

    // Act
    const concurrent = await Promise.all(Array.from({ length: 25 }, () => gate.isOn(DNS_EAST)));
    const sequential: boolean[] = [];
    for (let call = 0; call < 10; call++) sequential.push(await gate.isOn(DNS_EAST));
    const west = await gate.isOn(DNS_WEST);

    // Assess
    expect(new Set([...concurrent, ...sequential])).toEqual(new Set([true]));
    expect(west).toBe(false);
    expect(reads).toEqual([DNS_EAST, DNS_WEST]);
    expect([0, 1, 2, 3, 4].reduce((sum, index) => sum + arc.endpointRequestCount(index), 0)).toBeLessThanOrEqual(3);
  });

  test('a control the cluster does not have rejects with RoutingControlNotFoundError instead of reading Off', async () => {
    // Prepare
    const arc = await bench.start();
    const gate = new RoutingGate(bench.adapter(arc));

    // Act
    const error = await gate.isOn('trade-matching-dns-eu-central-1').catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(RoutingControlNotFoundError);
    expect(gate.lastError).toBeUndefined();
  });
});

describe('RoutingGate: an unreachable cluster', () => {
  test('keeps the last known state of every control it has seen, On or Off, until the cluster answers again', async () => {
    // Prepare
    const arc = await bench.start();
    const clock = fakeClock();
    const gate = new RoutingGate(bench.adapter(arc), { ttlMs: 1_000, now: clock.read });
    const seen = [await gate.isOn(DNS_EAST), await gate.isOn(GENERATOR)];
    await stopAllEndpoints(arc);
    clock.now += 30_000;

    // Act
    const duringOutage = [await gate.isOn(DNS_EAST), await gate.isOn(GENERATOR)];
    const outageError = gate.lastError;
    for (const index of arc.endpoints.keys()) await arc.startEndpoint(index);
    await bench.adapter(arc).update(GENERATOR, 'On');
    clock.now += 1_000;
    const afterOutage = [await gate.isOn(DNS_EAST), await gate.isOn(GENERATOR)];

    // Assess
    expect(seen).toEqual([true, false]);
    expect(duringOutage).toEqual([true, false]);
    expect(outageError).toBeInstanceOf(RoutingControlsUnreachableError);
    expect(outageError!.endpointFailures).toHaveLength(5);
    expect(afterOutage).toEqual([true, true]);
    expect(gate.lastError).toBeUndefined();
  });

  test('a control never seen reads Off, logs nothing, exposes why in lastError, and is not asked again within ttlMs', async () => {
    // Prepare
    const arc = await bench.start();
    const { controls, reads } = counted(bench.adapter(arc));
    const gate = new RoutingGate(controls, { ttlMs: 60_000 });
    await stopAllEndpoints(arc);
    const output = [
      ...(['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => vi.spyOn(console, method)),
      vi.spyOn(process.stdout, 'write'),
      vi.spyOn(process.stderr, 'write'),
    ];

    // Act
    const first = await gate.isOn(DNS_EAST);
    const second = await gate.isOn(DNS_EAST);

    // Assess
    for (const spy of output) spy.mockRestore();
    expect([first, second]).toEqual([false, false]);
    for (const spy of output) expect(spy).not.toHaveBeenCalled();
    expect(gate.lastError).toBeInstanceOf(RoutingControlsUnreachableError);
    expect(reads).toEqual([DNS_EAST]);
  });
});

describe('RoutingGate: waitUntilOn', () => {
  test('resolves true once the control is flipped On while waiting', async () => {
    // Prepare
    const arc = await bench.start();
    const gate = new RoutingGate(bench.adapter(arc), { ttlMs: 10 });
    const flip = new Promise<void>((resolve, reject) => {
      setTimeout(() => bench.adapter(arc).update(GENERATOR, 'On').then(resolve, reject), 150);
    });

    // Act
    const on = await gate.waitUntilOn(GENERATOR, { maxWaitMs: 20_000, pollMs: 20 });

    // Assess
    await flip;
    expect(on).toBe(true);
    expect(arc.states()[GENERATOR]).toBe('On');
  });

  test('resolves false when the control stays Off for maxWaitMs', async () => {
    // Prepare
    const arc = await bench.start();
    const { controls, reads } = counted(bench.adapter(arc));
    const gate = new RoutingGate(controls, { ttlMs: 10 });

    // Act
    const on = await gate.waitUntilOn(DNS_WEST, { maxWaitMs: 200, pollMs: 40 });

    // Assess
    expect(on).toBe(false);
    expect(reads.length).toBeGreaterThan(1);
  });

  test('resolves false when its signal is aborted, long before maxWaitMs', async () => {
    // Prepare
    const arc = await bench.start();
    const gate = new RoutingGate(bench.adapter(arc), { ttlMs: 10 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);

    // Act: a wait the test timeout would cut short, were the abort not honoured.
    const on = await gate.waitUntilOn(DNS_WEST, { maxWaitMs: 120_000, pollMs: 50, signal: abort.signal });

    // Assess
    expect(on).toBe(false);
  });
});

describe('RoutingGate.fromEnvironment', () => {
  test('is undefined without ROUTING_CONTROL_ENDPOINTS', () => {
    // Prepare
    const env = { AWS_REGION: 'us-east-1' };

    // Act
    const gate = RoutingGate.fromEnvironment(env);

    // Assess
    expect(gate).toBeUndefined();
  });

  test('reads the cluster named by ROUTING_CONTROL_ENDPOINTS, with the credentials of the environment', async () => {
    // Prepare
    const arc = await bench.start();
    await bench.adapter(arc).update(GENERATOR, 'On');
    vi.stubEnv('AWS_ACCESS_KEY_ID', TEST_CREDENTIALS.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', TEST_CREDENTIALS.secretAccessKey);

    // Act
    const gate = RoutingGate.fromEnvironment({ ROUTING_CONTROL_ENDPOINTS: arc.clusterEndpointsJson });
    const states = [await gate!.isOn(GENERATOR), await gate!.isOn(DNS_WEST)];

    // Assess
    expect(states).toEqual([true, false]);
    expect(gate!.lastError).toBeUndefined();
  });

  test('a ROUTING_CONTROL_ENDPOINTS that lists no endpoint is a RoutingControlRequestError', () => {
    // Prepare
    const env = { ROUTING_CONTROL_ENDPOINTS: '[]' };

    // Act
    const error = (() => {
      try {
        return RoutingGate.fromEnvironment(env);
      } catch (caught) {
        return caught;
      }
    })();

    // Assess
    expect(error).toBeInstanceOf(RoutingControlRequestError);
  });
});
