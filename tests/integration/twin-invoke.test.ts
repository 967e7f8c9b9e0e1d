import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '#cli/main.ts';
import { startTwin, type RunningTwin } from '#local/controller/controller.ts';
import { ControllerRequestError, FunctionError } from '#local/controller/errors.ts';
import { TwinClient } from '#local/controller/twin-client.ts';
import type { TwinStatus } from '#local/controller/twin-status.ts';
import { startStompBroker, type RunningStompBroker } from '#local/mq/stomp-broker.ts';
import { ArcRoutingControls } from '#shared/adapters/arc/arc-routing-controls.ts';
import { capturedIO } from '#tests/helpers/captured-io.ts';
import { TWIN_CREDENTIALS } from '#tests/support/twin-probes.ts';
import { waitFor } from '#tests/support/wait.ts';

// The twin's controller as the way in to its functions: invoke routes by region and by app, the generator loop
// of `rotor up --rate`, one broker shared by both regions (queues prefixed per region), and per-stage counts in
// `rotor status`. The twin runs the real manifest with stand-in handler modules (tests/fixtures/twin-code), so
// only the generator and ops-report run. One twin for the file; the tests run in order.

const EAST = 'us-east-1';
const WEST = 'us-west-2';
const CODE_ROOT = path.join(import.meta.dirname, '../fixtures/twin-code');
const RATE = 20;

let scratch: string;
let dataDir: string;
let sharedBroker: RunningStompBroker;
let twin: RunningTwin;
let client: TwinClient;
let controls: ArcRoutingControls;
const events: string[] = [];

async function statusJson(): Promise<TwinStatus> {
  const io = capturedIO();
  const code = await main(['status', '--json', '--data-dir', dataDir], io);
  expect(code, io.stderr()).toBe(0);
  return JSON.parse(io.stdout()) as TwinStatus;
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'rotor-twin-invoke-'));
  dataDir = path.join(scratch, 'twin');
  // Stands in for an ActiveMQ both regions share.
  sharedBroker = await startStompBroker({ dataDir: path.join(scratch, 'broker') });
  twin = await startTwin({ dataDir, codeRoot: CODE_ROOT, brokerUrls: [sharedBroker.url], generatorRate: RATE, generatorInitially: 'Off', onEvent: (message) => events.push(message) });
  client = await TwinClient.connect(dataDir);
  controls = new ArcRoutingControls({ endpoints: twin.arc.endpoints, credentials: TWIN_CREDENTIALS });
}, 180_000);

afterAll(async () => {
  controls?.destroy();
  await twin?.stop();
  await sharedBroker?.close();
  await rm(scratch, { recursive: true, force: true });
}, 60_000);

describe('invoking functions through the controller', () => {
  it('runs a function in a named region, or in the region whose dns control is On for the app', async () => {
    // Act
    const inWest = await client.invoke<{ region: string; functionName: string }>('ops-report', { ping: 1 }, { region: WEST });
    const inActive = await client.invoke<{ region: string }>('ops-report', {}, { app: 'trade-matching' });
    const inProcess = await twin.invoke<{ region: string }>('ops-report', {}, { app: 'settlement' });

    // Assess
    expect(inWest).toMatchObject({ region: WEST, functionName: 'ops-report', event: { ping: 1 } });
    expect(inActive.region).toBe(EAST);
    expect(inProcess.region).toBe(EAST);
    expect(await client.activeRegion('trade-matching')).toBe(EAST);
    expect(twin.activeRegion('settlement')).toBe(EAST);
  });

  it('throws FunctionError with the handler’s own error, and ControllerRequestError for an unknown function', async () => {
    // Act: settled together, so no rejection is ever left without a handler while another is awaited
    const [failed, unknown, unbuilt] = (
      await Promise.allSettled([
        client.invoke('ops-report', { action: 'fail', message: 'ledger is closed' }, { region: EAST }),
        client.invoke('no-such-function', {}, { region: EAST }),
        client.invoke('tm-matching', {}, { app: 'trade-matching' }),
      ])
    ).map((outcome) => (outcome.status === 'rejected' ? (outcome.reason as unknown) : outcome));

    // Assess
    expect(failed).toBeInstanceOf(FunctionError);
    expect(failed).toMatchObject({ functionName: 'ops-report', errorType: 'ProbeRefusedError', errorMessage: 'ledger is closed', region: EAST });
    expect(unknown).toBeInstanceOf(ControllerRequestError);
    expect(unknown).toMatchObject({ status: 404, message: expect.stringContaining('ResourceNotFoundException') });
    expect(unbuilt).toBeInstanceOf(ControllerRequestError);
    expect(unbuilt).toMatchObject({ status: 404, message: expect.stringContaining('no handler module') });
  });

  it('passes the Invoke API answer through over HTTP: status, X-Amz-Function-Error, body, and the region that ran it', async () => {
    // Act
    const response = await fetch(`${twin.controlUrl}/regions/${WEST}/functions/ops-report/invocations`, {
      method: 'POST',
      body: JSON.stringify({ action: 'fail', message: 'over http' }),
    });
    const unknownApp = await fetch(`${twin.controlUrl}/apps/billing/functions/ops-report/invocations`, { method: 'POST', body: '{}' });

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('x-amz-function-error')).toBe('Unhandled');
    expect(response.headers.get('x-rotor-region')).toBe(WEST);
    expect(await response.json()).toMatchObject({ errorType: 'ProbeRefusedError', errorMessage: 'over http' });
    expect(unknownApp.status).toBe(404);
  });
});

describe('one broker for both regions', () => {
  it('prefixes each region’s queues with its name, and says so in the twin and in `rotor status --json`', async () => {
    // Act
    const status = await statusJson();

    // Assess
    expect(twin.brokers).toEqual({ [EAST]: sharedBroker.url, [WEST]: sharedBroker.url });
    expect(twin.queueName(WEST, 'tm.trades')).toBe(`${WEST}.tm.trades`);
    expect(status.regions.map((region) => [region.region, region.queuePrefix, region.endpoints.broker, region.brokerKind])).toEqual([
      [EAST, `${EAST}.`, sharedBroker.url, 'activemq'],
      [WEST, `${WEST}.`, sharedBroker.url, 'activemq'],
    ]);
  });
});

describe('rotor status', () => {
  it('counts items per pipeline stage’s safe store, per region, in JSON and in a table', async () => {
    // Prepare
    const human = capturedIO();

    // Act
    const status = await statusJson();
    const code = await main(['status', '--data-dir', dataDir], human);

    // Assess
    expect(code).toBe(0);
    expect(Object.keys(status.regions[0]!.stages!)).toEqual([
      'tm-inbound-gateway-store', 'tm-ingestion-store', 'tm-matching-store', 'tm-egress-store', 'tm-outbound-gateway-store',
      'sm-inbound-gateway-store', 'sm-ingestion-store', 'sm-matching-store', 'sm-egress-store', 'sm-outbound-gateway-store',
      'tm-fix-gateway-store',
    ]);
    expect(Object.values(status.regions[1]!.stages!).every((count) => count === 0)).toBe(true);
    expect(status.regions[0]!.tableItems).toHaveProperty('tm-idempotency', 0);
    expect(human.stdout()).toMatch(/STAGE \(safe-store items\)\s+us-east-1\s+us-west-2/);
    expect(human.stdout()).toMatch(/trade-matching ingestion\s+0\s+0/);
    expect(human.stdout()).toMatch(/Shared broker: queues are prefixed per region/);
  });
});

describe('the generator loop of `rotor up --rate`', () => {
  it('waits while the generator control is Off, sends into the active region’s queue once it is On, and stops with it', async () => {
    // Prepare
    const activeQueue = twin.queueName(EAST, 'tm.trades');
    await waitFor(() => events.some((event) => event.includes('trade-matching-generator is Off')), { timeoutMs: 10_000, what: 'the loop to see the control Off' });
    expect(await sharedBroker.queueDepth(activeQueue)).toBe(0);

    // Act
    await controls.update('trade-matching-generator', 'On');
    await waitFor(async () => (await sharedBroker.queueDepth(activeQueue)) >= 5, { timeoutMs: 15_000, intervalMs: 100, what: 'generated legs' });
    await controls.update('trade-matching-generator', 'Off');
    await waitFor(() => (twin.generatorStatus()?.legsSent ?? 0) > 0, { timeoutMs: 10_000, intervalMs: 100, what: 'the run to end' });
    const sent = await sharedBroker.queueDepth(activeQueue);
    const status = twin.generatorStatus()!;

    // Assess
    expect(status).toMatchObject({ rate: RATE, region: EAST });
    expect(status.legsSent).toBe(sent);
    expect(await sharedBroker.queueDepth(twin.queueName(WEST, 'tm.trades'))).toBe(0);
    expect(await sharedBroker.queueDepth('tm.trades')).toBe(0);
    expect(events.some((event) => event.includes(`legs into ${EAST}`))).toBe(true);
    expect((await statusJson()).generator).toMatchObject({ rate: RATE, legsSent: sent });
  }, 60_000);

  it('answers 409 for a region that is down, then stops the twin without waiting out a generator run', async () => {
    // Prepare
    await controls.update('trade-matching-generator', 'On');
    const activeQueue = twin.queueName(EAST, 'tm.trades');
    const before = await sharedBroker.queueDepth(activeQueue);
    await waitFor(async () => (await sharedBroker.queueDepth(activeQueue)) > before, { timeoutMs: 15_000, intervalMs: 100, what: 'a run in flight' });
    await twin.stopRegion(WEST);

    // Act
    const regionDown = client.invoke('ops-report', {}, { region: WEST });
    await expect(regionDown).rejects.toMatchObject({ status: 409, message: expect.stringContaining(`region ${WEST} is down`) });
    const began = Date.now();
    await twin.stop();
    const stopMs = Date.now() - began;

    // Assess: well inside the run's 60 s
    expect(stopMs).toBeLessThan(30_000);
    expect(events.some((event) => event.includes('invocation failed'))).toBe(false);
  }, 60_000);
});
