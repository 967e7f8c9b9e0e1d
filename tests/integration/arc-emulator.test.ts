import {
  ConflictException,
  GetRoutingControlStateCommand,
  ListRoutingControlsCommand,
  ResourceNotFoundException,
  UpdateRoutingControlStateCommand,
  UpdateRoutingControlStatesCommand,
  ValidationException,
} from '@aws-sdk/client-route53-recovery-cluster';
import { afterEach, describe, expect, test } from 'vitest';
import { defaultSafetyRules } from '#local/global/arc/cluster-configuration.ts';
import { CachedRoutingControls } from '#shared/adapters/arc/cached-routing-controls.ts';
import { RoutingControlsUnreachableError, SafetyRuleViolationError } from '#shared/ports/routing-controls.ts';
import { ArcTestBench, REGIONS, arnsByName, listAllRoutingControls, safetyRuleArn } from '#tests/support/arc-cluster.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const bench = new ArcTestBench();
afterEach(() => bench.cleanUp());

const DNS_EAST = 'trade-matching-dns-us-east-1';
const DNS_WEST = 'trade-matching-dns-us-west-2';

describe('ARC emulator: the Route 53 Recovery Cluster API through the real SDK', () => {
  test('GetRoutingControlState and UpdateRoutingControlState round-trip, and every endpoint serves the same state', async () => {
    // Prepare
    const arc = await bench.start();
    const arnOf = arnsByName(arc);
    const viaFirst = bench.sdkClient(arc, 0);
    const viaLast = bench.sdkClient(arc, 4);

    // Act
    const before = await viaFirst.send(new GetRoutingControlStateCommand({ RoutingControlArn: arnOf('trade-matching-generator') }));
    await viaFirst.send(new UpdateRoutingControlStateCommand({ RoutingControlArn: arnOf('trade-matching-generator'), RoutingControlState: 'On' }));
    const after = await viaLast.send(new GetRoutingControlStateCommand({ RoutingControlArn: arnOf('trade-matching-generator') }));

    // Assess
    expect(arc.endpoints.map((endpoint) => endpoint.region)).toEqual(['us-east-1', 'us-west-2', 'eu-west-1', 'ap-northeast-1', 'ap-southeast-2']);
    expect(before).toMatchObject({ RoutingControlName: 'trade-matching-generator', RoutingControlState: 'Off' });
    expect(after).toMatchObject({ RoutingControlArn: arnOf('trade-matching-generator'), RoutingControlState: 'On' });
    expect(arnOf(DNS_EAST)).toMatch(/^arn:aws:route53-recovery-control::000000000000:controlpanel\/[0-9a-f]{32}\/routingcontrol\/[0-9a-f]{16}$/);
  });

  test('ListRoutingControls pages with MaxResults/NextToken, filters by ControlPanelArn, and starts with the first region active', async () => {
    // Prepare
    const arc = await bench.start();
    const client = bench.sdkClient(arc);
    const settlementPanel = arc.configuration.controlPanels.find((panel) => panel.name === 'settlement-control-panel')!;

    // Act
    const everything = await listAllRoutingControls(client, 2);
    const settlementOnly = await listAllRoutingControls(client, 4, settlementPanel.arn);

    // Assess
    expect(everything.pages).toBe(7);
    const names = everything.controls.map((control) => control.RoutingControlName);
    expect(new Set(names).size).toBe(13);
    const stateOf = (name: string) => everything.controls.find((control) => control.RoutingControlName === name)?.RoutingControlState;
    expect(REGIONS.flatMap((region) => ['dns', 'queue', 'app'].map((kind) => `${kind}-${region}:${stateOf(`settlement-${kind}-${region}`)}`))).toEqual([
      'dns-us-east-1:On', 'queue-us-east-1:On', 'app-us-east-1:On', 'dns-us-west-2:Off', 'queue-us-west-2:Off', 'app-us-west-2:Off',
    ]);
    expect(stateOf('trade-matching-generator')).toBe('Off');
    expect(everything.controls[0]).toMatchObject({ Owner: '000000000000', ControlPanelName: expect.stringMatching(/-control-panel$/) });
    expect(settlementOnly.controls).toHaveLength(6);
    expect(settlementOnly.controls.every((control) => control.ControlPanelName === 'settlement-control-panel')).toBe(true);
  });

  test('an unknown routing control ARN is a ResourceNotFoundException (404); a bad state or page size is a ValidationException (400)', async () => {
    // Prepare
    const arc = await bench.start();
    const client = bench.sdkClient(arc);
    const unknownArn = arnsByName(arc)(DNS_EAST).replace(/routingcontrol\/\w+$/, 'routingcontrol/0000000000000000');

    // Act
    const notFound = await client.send(new GetRoutingControlStateCommand({ RoutingControlArn: unknownArn })).catch((error: unknown) => error);
    const badState = await client
      .send(new UpdateRoutingControlStateCommand({ RoutingControlArn: arnsByName(arc)(DNS_EAST), RoutingControlState: 'Maybe' as 'On' }))
      .catch((error: unknown) => error);
    const badPageSize = await client.send(new ListRoutingControlsCommand({ MaxResults: 0 })).catch((error: unknown) => error);

    // Assess
    expect(notFound).toBeInstanceOf(ResourceNotFoundException);
    expect(notFound).toMatchObject({ resourceId: unknownArn, resourceType: 'RoutingControl', $metadata: { httpStatusCode: 404 } });
    expect(badState).toBeInstanceOf(ValidationException);
    expect(badState).toMatchObject({ reason: 'fieldValidationFailed', fields: [{ name: 'RoutingControlState' }], $metadata: { httpStatusCode: 400 } });
    expect(badPageSize).toBeInstanceOf(ValidationException);
  });
});

describe('ARC emulator: safety rules', () => {
  test('an assertion rule (ATLEAST 1) refuses turning both dns controls Off, with a ConflictException naming the rule', async () => {
    // Prepare
    const arc = await bench.start();
    const arnOf = arnsByName(arc);
    const client = bench.sdkClient(arc);

    // Act
    const single = await client.send(new UpdateRoutingControlStateCommand({ RoutingControlArn: arnOf(DNS_EAST), RoutingControlState: 'Off' })).catch((error: unknown) => error);

    // Assess
    expect(single).toBeInstanceOf(ConflictException);
    expect((single as ConflictException).message).toContain('trade-matching-dns-at-least-one-on');
    expect(single).toMatchObject({ resourceId: safetyRuleArn(arc, 'trade-matching-dns-at-least-one-on'), $metadata: { httpStatusCode: 409 } });
    expect(arc.states()[DNS_EAST]).toBe('On');
  });

  test('an inverted ATLEAST 2 assertion rule refuses turning both dns controls On ("at most one")', async () => {
    // Prepare
    const arc = await bench.start();
    const client = bench.sdkClient(arc);

    // Act
    const error = await client
      .send(new UpdateRoutingControlStateCommand({ RoutingControlArn: arnsByName(arc)(DNS_WEST), RoutingControlState: 'On' }))
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(ConflictException);
    expect((error as ConflictException).message).toContain('trade-matching-dns-at-most-one-on');
    expect(arc.states()[DNS_WEST]).toBe('Off');
  });

  test('UpdateRoutingControlStates is atomic: a rotation in one call succeeds; a batch with a violation changes nothing', async () => {
    // Prepare
    const arc = await bench.start();
    const arnOf = arnsByName(arc);
    const client = bench.sdkClient(arc);
    const entries = (changes: Record<string, 'On' | 'Off'>) =>
      Object.entries(changes).map(([name, state]) => ({ RoutingControlArn: arnOf(name), RoutingControlState: state }));

    // Act
    await client.send(new UpdateRoutingControlStatesCommand({ UpdateRoutingControlStateEntries: entries({ [DNS_EAST]: 'Off', [DNS_WEST]: 'On' }) }));
    const afterRotation = arc.states();
    const rejected = await client
      .send(
        new UpdateRoutingControlStatesCommand({
          UpdateRoutingControlStateEntries: entries({ 'trade-matching-queue-us-west-2': 'On', 'trade-matching-generator': 'On', [DNS_WEST]: 'Off' }),
        }),
      )
      .catch((error: unknown) => error);

    // Assess
    expect(afterRotation).toMatchObject({ [DNS_EAST]: 'Off', [DNS_WEST]: 'On' });
    expect(rejected).toBeInstanceOf(ConflictException);
    expect(arc.states()).toEqual(afterRotation);
  });

  test('a gating rule lets target controls change only while the gating controls already satisfy it', async () => {
    // Prepare: the generator may only be flipped while the trade-matching queue in us-west-2 is On.
    const arc = await bench.start({
      safetyRules: [
        ...defaultSafetyRules(REGIONS),
        {
          kind: 'gating',
          name: 'generator-needs-west-queue',
          gatingControls: ['trade-matching-queue-us-west-2'],
          targetControls: ['trade-matching-generator'],
          ruleConfig: { type: 'AND', threshold: 1, inverted: false },
        },
      ],
    });
    const adapter = bench.adapter(arc);

    // Act
    const whileClosed = await adapter.update('trade-matching-generator', 'On').catch((error: unknown) => error);
    const openingInSameBatch = await adapter
      .updateMany([{ name: 'trade-matching-queue-us-west-2', state: 'On' }, { name: 'trade-matching-generator', state: 'On' }])
      .catch((error: unknown) => error);
    await adapter.update('trade-matching-queue-us-west-2', 'On');
    await adapter.update('trade-matching-generator', 'On');

    // Assess
    expect(whileClosed).toBeInstanceOf(SafetyRuleViolationError);
    expect((whileClosed as Error).message).toContain('generator-needs-west-queue');
    expect(openingInSameBatch).toBeInstanceOf(SafetyRuleViolationError);
    expect(await adapter.getState('trade-matching-generator')).toBe('On');
  });

  test('SafetyRulesToOverride bypasses the named rule only (break glass)', async () => {
    // Prepare
    const arc = await bench.start();
    const adapter = bench.adapter(arc);
    const atLeastOne = safetyRuleArn(arc, 'trade-matching-dns-at-least-one-on');
    const atMostOne = safetyRuleArn(arc, 'trade-matching-dns-at-most-one-on');

    // Act
    await adapter.update(DNS_EAST, 'Off', { safetyRulesToOverride: [atLeastOne] });
    const bothOnWithWrongOverride = await adapter
      .updateMany([{ name: DNS_EAST, state: 'On' }, { name: DNS_WEST, state: 'On' }], { safetyRulesToOverride: [atLeastOne] })
      .catch((error: unknown) => error);
    await adapter.updateMany([{ name: DNS_EAST, state: 'On' }, { name: DNS_WEST, state: 'On' }], { safetyRulesToOverride: [atMostOne] });

    // Assess
    expect(bothOnWithWrongOverride).toBeInstanceOf(SafetyRuleViolationError);
    expect(arc.states()).toMatchObject({ [DNS_EAST]: 'On', [DNS_WEST]: 'On' });
  });
});

describe('ARC adapter: several cluster endpoints', () => {
  test('losing one endpoint, then all but one, is survived; throttling and "temporarily unavailable" fail over too', async () => {
    // Prepare
    const arc = await bench.start();
    const adapter = bench.adapter(arc);
    await arc.stopEndpoint(0);

    // Act
    const withOneLost = await adapter.getState(DNS_EAST);
    arc.setEndpointFault(1, 'throttling');
    arc.setEndpointFault(2, 'unavailable');
    await arc.stopEndpoint(3);
    await adapter.updateMany([{ name: DNS_EAST, state: 'Off' }, { name: DNS_WEST, state: 'On' }]);
    const withOneLeft = await adapter.getState(DNS_WEST);

    // Assess
    expect(withOneLost).toBe('On');
    expect(withOneLeft).toBe('On');
    expect(arc.endpointRequestCount(1)).toBeGreaterThan(0);
    expect(arc.endpointRequestCount(2)).toBeGreaterThan(0);
    expect(arc.endpointRequestCount(4)).toBeGreaterThan(0);
  });

  test('an endpoint that never answers is timed out and skipped', async () => {
    // Prepare
    const arc = await bench.start();
    const adapter = bench.adapter(arc, { requestTimeoutMs: 200 });
    await adapter.list();
    arc.setEndpointFault(0, 'unresponsive');

    // Act
    const state = await adapter.getState(DNS_EAST);

    // Assess
    expect(state).toBe('On');
    expect(arc.endpointRequestCount(1)).toBe(1);
  });

  test('a ConflictException is final: the adapter does not try the other endpoints', async () => {
    // Prepare
    const arc = await bench.start();
    const adapter = bench.adapter(arc);
    await adapter.list();

    // Act
    const error = await adapter.update(DNS_WEST, 'On').catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(SafetyRuleViolationError);
    expect([1, 2, 3, 4].map((index) => arc.endpointRequestCount(index))).toEqual([0, 0, 0, 0]);
  });

  test('losing every endpoint raises RoutingControlsUnreachableError, and CachedRoutingControls serves the last known state with its age', async () => {
    // Prepare
    const arc = await bench.start();
    let now = 1_000_000;
    const cached = new CachedRoutingControls(bench.adapter(arc), () => now);
    const live = await cached.getState(DNS_EAST);
    for (const index of [0, 1, 2, 3, 4]) await arc.stopEndpoint(index);
    now += 7_500;

    // Act
    const direct = await bench.adapter(arc).getState(DNS_EAST).catch((error: unknown) => error);
    const lastKnown = await cached.getState(DNS_EAST);
    const neverSeen = await cached.getState(DNS_WEST).catch((error: unknown) => error);

    // Assess
    expect(live).toMatchObject({ state: 'On', stale: false, ageMs: 0 });
    expect(direct).toBeInstanceOf(RoutingControlsUnreachableError);
    expect((direct as RoutingControlsUnreachableError).endpointFailures).toHaveLength(5);
    expect(lastKnown).toMatchObject({ state: 'On', stale: true, ageMs: 7_500, observedAt: 1_000_000 });
    expect(neverSeen).toBeInstanceOf(RoutingControlsUnreachableError);
  });
});

describe('ARC emulator: durability', () => {
  test('state and ARNs survive an emulator restart on the same data directory and ports', async () => {
    // Prepare
    const dataDir = await bench.dataDir();
    const first = await bench.start({ dataDir });
    const ports = first.endpoints.map((endpoint) => Number(new URL(endpoint.url).port));
    await bench.adapter(first).updateMany([{ name: DNS_EAST, state: 'Off' }, { name: DNS_WEST, state: 'On' }, { name: 'trade-matching-generator', state: 'On' }]);
    const arnsBefore = first.configuration.routingControls.map((control) => control.arn);
    await first.close();

    // Act
    const second = await bench.start({ dataDir, ports });
    const after = await bench.adapter(second).list();

    // Assess
    expect(second.endpoints).toEqual(first.endpoints);
    expect(Object.fromEntries(after.map((control) => [control.name, control.state]))).toMatchObject({
      [DNS_EAST]: 'Off',
      [DNS_WEST]: 'On',
      'trade-matching-generator': 'On',
      'settlement-dns-us-east-1': 'On',
    });
    expect(after.map((control) => control.arn).sort()).toEqual([...arnsBefore].sort());
  });
});
