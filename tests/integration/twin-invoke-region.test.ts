import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startArcEmulator, type RunningArcEmulator } from '#local/global/arc/emulator.ts';
import { startRegion, type RunningRegion } from '#local/region/region.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import type { Topology } from '#shared/topology/schema.ts';
import { waitFor } from '#tests/support/wait.ts';

// A region's Lambda Invoke API and what its functions are handed: the ARC cluster's endpoints, and queue names
// with the region's prefix (a broker shared by several regions). One region, in this process, on a tiny manifest.

const PROBE = 'tests/fixtures/lambda/twin-probe';
const PREFIX = 'us-east-1.';
const probe = (name: string, handler: string, extra: Partial<Topology['functions'][number]> = {}): Topology['functions'][number] => ({
  name, handler: `${PROBE}.${handler}`, timeoutSeconds: 5, memorySizeMB: 128, triggers: [], env: { OUT_QUEUE: { queue: 'probe.out' } }, ...extra,
});
const topology: Topology = {
  regions: ['us-east-1', 'us-west-2'],
  streams: [],
  tables: [],
  queues: [
    { name: 'probe.in', service: 'mq', purpose: 'messages the forwarder takes' },
    { name: 'probe.out', service: 'mq', purpose: 'messages the forwarder sends on' },
  ],
  databases: [],
  functions: [
    probe('probe', 'handler'),
    probe('probe-short', 'handler', { timeoutSeconds: 1 }),
    probe('probe-forwarder', 'forward', { triggers: [{ kind: 'mq', queue: 'probe.in', batchSize: 10, maximumBatchingWindowInSeconds: 0 }] }),
    { name: 'probe-unbuilt', handler: 'tests/fixtures/lambda/not-written-yet.handler', timeoutSeconds: 5, memorySizeMB: 128, triggers: [], env: {} },
  ],
  stateMachines: [],
  routingControls: [],
};

let scratch: string;
let arc: RunningArcEmulator;
let region: RunningRegion;

const invokeUrl = (name: string) => `${region.report.endpoints.lambda}/2015-03-31/functions/${name}/invocations`;
async function invoke(name: string, body: string, headers: Record<string, string> = {}) {
  const response = await fetch(invokeUrl(name), { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: response.status, functionError: response.headers.get('x-amz-function-error'), text: await response.text() };
}

beforeAll(async () => {
  scratch = await mkdtemp(path.join(tmpdir(), 'rotor-invoke-region-'));
  arc = await startArcEmulator({ dataDir: path.join(scratch, 'arc'), regions: ['us-east-1', 'us-west-2'], endpoints: 2 });
  region = await startRegion({ region: 'us-east-1', dataDir: path.join(scratch, 'region'), topology, queuePrefix: PREFIX, arcEndpoints: arc.clusterEndpointsJson });
}, 60_000);

afterAll(async () => {
  await region?.stop();
  await arc?.close();
  await rm(scratch, { recursive: true, force: true });
});

describe("a region's Lambda Invoke API", () => {
  it('answers a RequestResponse invocation with the JSON result, and null for a handler that returns nothing', async () => {
    // Act
    const described = await invoke('probe', JSON.stringify({ hello: 'world' }));
    const nothing = await invoke('probe', JSON.stringify({ action: 'nothing' }));

    // Assess
    expect(described.status).toBe(200);
    expect(described.functionError).toBeNull();
    expect(JSON.parse(described.text)).toMatchObject({ functionName: 'probe', region: 'us-east-1', event: { hello: 'world' } });
    expect(nothing).toEqual({ status: 200, functionError: null, text: 'null' });
  });

  it("reports a handler's own error and a timeout as AWS does: 200 with X-Amz-Function-Error: Unhandled", async () => {
    // Act
    const failed = await invoke('probe', JSON.stringify({ action: 'fail', message: 'no such account' }));
    const timedOut = await invoke('probe-short', JSON.stringify({ action: 'sleep', ms: 3_000 }));

    // Assess
    expect(failed.status).toBe(200);
    expect(failed.functionError).toBe('Unhandled');
    expect(JSON.parse(failed.text)).toMatchObject({ errorType: 'ProbeRefusedError', errorMessage: 'no such account' });
    expect(timedOut.functionError).toBe('Unhandled');
    expect(JSON.parse(timedOut.text)).toMatchObject({ errorType: 'FunctionTimeoutError', errorMessage: expect.stringMatching(/Task timed out after 1\.00 seconds/) });
  });

  it('refuses unknown and unbuilt functions, bodies that are not JSON, and payloads over 6 MB', async () => {
    // Act
    const unknown = await invoke('no-such-function', '{}');
    const unbuilt = await invoke('probe-unbuilt', '{}');
    const notJson = await invoke('probe', '{"unterminated');
    const tooLarge = await invoke('probe', JSON.stringify({ blob: 'x'.repeat(6 * 1024 * 1024) }));
    const stillServing = await invoke('probe', '{}');

    // Assess
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ errorType: 'ResourceNotFoundException', errorMessage: expect.stringContaining(':function:no-such-function') });
    expect(JSON.parse(unbuilt.text).errorMessage).toContain('no handler module');
    expect(notJson.status).toBe(400);
    expect(JSON.parse(notJson.text).errorType).toBe('InvalidRequestContentException');
    expect(tooLarge.status).toBe(413);
    expect(JSON.parse(tooLarge.text).errorType).toBe('RequestTooLargeException');
    expect(stillServing.status).toBe(200);
  });

  it('accepts an Event invocation at once and a DryRun without running anything', async () => {
    // Act
    const event = await invoke('probe', JSON.stringify({ action: 'sleep', ms: 2_000 }), { 'X-Amz-Invocation-Type': 'Event' });
    const dryRun = await invoke('probe', '{}', { 'X-Amz-Invocation-Type': 'DryRun' });

    // Assess
    expect(event.status).toBe(202);
    expect(dryRun.status).toBe(204);
  });
});

describe('what the region hands its functions', () => {
  it('gives every function the ARC cluster endpoints, through which it reads a routing control', async () => {
    // Act
    const described = JSON.parse((await invoke('probe', '{}')).text) as { routingControlEndpoints: string };
    const read = await invoke('probe', JSON.stringify({ action: 'read-control', control: 'trade-matching-queue-us-east-1' }));
    const standby = await invoke('probe', JSON.stringify({ action: 'read-control', control: 'trade-matching-queue-us-west-2' }));

    // Assess
    expect(JSON.parse(described.routingControlEndpoints)).toEqual(arc.endpoints.map((endpoint) => ({ Endpoint: endpoint.url, Region: endpoint.region })));
    expect(read.functionError, read.text).toBeNull();
    expect(JSON.parse(read.text)).toEqual({ control: 'trade-matching-queue-us-east-1', state: 'On' });
    expect(JSON.parse(standby.text).state).toBe('Off');
    expect(region.report.routingControls).toBe(true);
  });

  it("puts the region's queue prefix before MQ trigger queues and {queue} variables", async () => {
    // Prepare
    const broker = new StompMessageBroker({ url: region.report.endpoints.broker });
    try {
      // Act
      await broker.send(`${PREFIX}probe.in`, '{"n":1}');
      await waitFor(async () => (await broker.queueDepth(`${PREFIX}probe.out`)) === 1, { timeoutMs: 10_000, intervalMs: 100, what: 'the forwarded message' });
      const described = JSON.parse((await invoke('probe', '{}')).text) as { outQueue: string };
      const status = await region.status();

      // Assess
      expect(region.report.queuePrefix).toBe(PREFIX);
      expect(described.outQueue).toBe(`${PREFIX}probe.out`);
      expect(status.mqMappingMetrics.map((mapping) => mapping.queue)).toEqual([`${PREFIX}probe.in`]);
      expect(await broker.queueDepth('probe.out')).toBe(0);
    } finally {
      await broker.close();
    }
  });
});
