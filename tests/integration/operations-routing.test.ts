import { afterEach, describe, expect, test } from 'vitest';
import { RoutingControlNotFoundError, SafetyRuleViolationError } from '#shared/ports/routing-controls.ts';
import { routing, RoutingRequest } from '#shared/operations/routing.ts';
import { ArcTestBench, REGIONS } from '#tests/support/arc-cluster.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const bench = new ArcTestBench();
afterEach(() => bench.cleanUp());

const [EAST, WEST] = REGIONS;

describe('ops-routing against the ARC emulator', () => {
  test('describe: the regions of the app, every dns, queue and app control, and the region whose dns control is On', async () => {
    // Prepare
    const arc = await bench.start();
    const controls = bench.adapter(arc);

    // Act
    const described = await routing(RoutingRequest.parse({ action: 'describe', app: 'settlement' }), { controls });

    // Assess
    expect(described).toEqual({
      app: 'settlement',
      activeRegion: EAST,
      regions: [EAST, WEST],
      controls: {
        dns: { [EAST]: 'On', [WEST]: 'Off' },
        queue: { [EAST]: 'On', [WEST]: 'Off' },
        app: { [EAST]: 'On', [WEST]: 'Off' },
      },
    });
  });

  test('set: flips dns and app to the other region in one call, and answers the state afterwards', async () => {
    // Prepare
    const arc = await bench.start();
    const controls = bench.adapter(arc);
    const operator = bench.adapter(arc);
    const request = RoutingRequest.parse({
      action: 'set',
      app: 'trade-matching',
      changes: [
        { kind: 'dns', region: WEST, state: 'On' },
        { kind: 'dns', region: EAST, state: 'Off' },
        { kind: 'app', region: WEST, state: 'On' },
        { kind: 'app', region: EAST, state: 'Off' },
        { kind: 'queue', region: EAST, state: 'Off' },
      ],
    });

    // Act
    const result = await routing(request, { controls });

    // Assess
    expect(result).toMatchObject({
      app: 'trade-matching',
      activeRegion: WEST,
      controls: { dns: { [EAST]: 'Off', [WEST]: 'On' }, queue: { [EAST]: 'Off', [WEST]: 'Off' }, app: { [EAST]: 'Off', [WEST]: 'On' } },
    });
    expect(await operator.getState(`trade-matching-dns-${WEST}`)).toBe('On');
    // The other app is not touched.
    expect(await operator.getState(`settlement-dns-${EAST}`)).toBe('On');
  });

  test('a set that would leave no dns control On is refused by the safety rules and changes nothing', async () => {
    // Prepare
    const arc = await bench.start();
    const controls = bench.adapter(arc);
    const request = RoutingRequest.parse({
      action: 'set',
      app: 'trade-matching',
      changes: [
        { kind: 'dns', region: EAST, state: 'Off' },
        { kind: 'queue', region: EAST, state: 'Off' },
      ],
    });

    // Act
    const refusal = await routing(request, { controls }).catch((error: unknown) => error);

    // Assess
    expect(refusal).toBeInstanceOf(SafetyRuleViolationError);
    expect((refusal as Error).name).toBe('SafetyRuleViolationError');
    const after = await routing(RoutingRequest.parse({ action: 'describe', app: 'trade-matching' }), { controls });
    expect(after).toMatchObject({ activeRegion: EAST, controls: { dns: { [EAST]: 'On' }, queue: { [EAST]: 'On' } } });
  });

  test('describe answers no active region while two dns controls are On (safety rules overridden)', async () => {
    // Prepare
    const arc = await bench.start({ safetyRules: [] });
    const controls = bench.adapter(arc);
    await controls.update(`settlement-dns-${WEST}`, 'On');

    // Act
    const described = await routing(RoutingRequest.parse({ action: 'describe', app: 'settlement' }), { controls });

    // Assess
    expect(described.activeRegion).toBeNull();
    expect(described.controls.dns).toEqual({ [EAST]: 'On', [WEST]: 'On' });
  });

  test('a change naming a region the cluster has no control for fails as RoutingControlNotFoundError', async () => {
    // Prepare
    const arc = await bench.start();
    const controls = bench.adapter(arc);
    const request = RoutingRequest.parse({ action: 'set', app: 'settlement', changes: [{ kind: 'queue', region: 'eu-west-1', state: 'On' }] });

    // Act
    const failure = await routing(request, { controls }).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(RoutingControlNotFoundError);
  });

  test.each([
    ['no changes', { action: 'set', app: 'settlement', changes: [] }],
    ['the same control twice', { action: 'set', app: 'settlement', changes: [{ kind: 'dns', region: EAST, state: 'On' }, { kind: 'dns', region: EAST, state: 'Off' }] }],
    ['an unknown kind', { action: 'set', app: 'settlement', changes: [{ kind: 'generator', region: EAST, state: 'On' }] }],
    ['an unknown app', { action: 'describe', app: 'payments' }],
  ])('the input schema refuses %s', (_case, input) => {
    // Act / Assess
    expect(RoutingRequest.safeParse(input).success).toBe(false);
  });
});
