import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { startRegion, type RunningRegion } from '#local/region/region.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import {
  countDemoResults,
  countStreamRecordsAfter,
  demoClients, demoInputs, judgeDemoResults, putDemoInputs, scanDemoResults } from '#tests/support/region-demo.ts';
import { caughtUp, recordsSucceeded, savedCheckpoints, startRegionProcess, type RegionProcess } from '#tests/support/region-process.ts';
import { waitFor } from '#tests/support/wait.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const scratch: string[] = [];
async function scratchDir(label: string): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), `rotor-region-${label}-`));
  scratch.push(directory);
  return directory;
}
afterAll(async () => {
  await Promise.all(scratch.map((directory) => rm(directory, { recursive: true, force: true })));
});

// Twin-speed polling and retries, so 10,000 records with ~2,000 first-delivery failures finish in seconds.
const FAST_POLLING = { pollIntervalMs: 50, retryBackoff: { initialMs: 5, maxMs: 200 } };
const FAST_POLLING_FLAGS = ['--poll-interval-ms', '50', '--retry-backoff-ms', '5:200'];
const demoRegionArgs = (dataDir: string) => ['--region', 'us-east-1', '--data-dir', dataDir, '--topology', 'demo', ...FAST_POLLING_FLAGS];

const running = new Set<RegionProcess>();
async function regionProcess(dataDir: string): Promise<RegionProcess> {
  const started = await startRegionProcess(demoRegionArgs(dataDir));
  running.add(started);
  void started.exited.then(() => running.delete(started));
  return started;
}
afterEach(() => {
  for (const leftover of running) leftover.child.kill('SIGKILL');
});

const sumOf = (values: number[]) => values.reduce((sum, value) => sum + value, 0);

describe('region runtime', () => {
  test('a demo region starts, reports itself, and carries 10,000 records through the chain exactly once and in order', { timeout: 120_000 }, async () => {
    // Prepare
    const dataDir = await scratchDir('demo');
    let region: RunningRegion | undefined;
    const inputs = demoInputs(200, 50);
    try {
      region = await startRegion({ region: 'us-east-1', dataDir, topology: 'demo', ...FAST_POLLING });
      const { report } = region;
      const clients = demoClients(report.endpoints);
      const broker = new StompMessageBroker({ url: report.endpoints.broker });

      // Act
      await putDemoInputs(clients.kinesis, inputs);
      // Mapping metrics are cheap to poll; the table is scanned once, when the recorder says it is done.
      await waitFor(async () => {
        const current = await region!.status();
        return recordsSucceeded(current, 'demo-recorder') >= inputs.length && caughtUp(current);
      }, {
        what: '10,000 records through the recorder', timeoutMs: 100_000, intervalMs: 500,
      });
      const judgement = judgeDemoResults(await scanDemoResults(clients.documents), inputs);
      const status = await region.status();
      const failedBatches = await broker.queueDepth('demo-failures');
      await broker.close();
      clients.destroy();

      // Assess
      expect(report).toMatchObject({
        region: 'us-east-1',
        functions: ['demo-intake', 'demo-relay', 'demo-recorder'],
        skippedFunctions: [],
        mappings: ['demo-in--demo-relay', 'demo-out--demo-recorder', 'demo.requests--demo-intake'],
        brokerKind: 'embedded',
      });
      for (const endpoint of [report.endpoints.kinesis, report.endpoints.dynamodb, report.endpoints.status]) {
        expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      }
      expect(report.endpoints.broker).toMatch(/^stomp:\/\/127\.0\.0\.1:\d+$/);
      for (const component of ['kinesis', 'dynamodb', 'broker', 'streams', 'tables', 'functions', 'mappings']) {
        expect(report.startupMs[component], component).toBeGreaterThanOrEqual(0);
      }
      expect(report.startupMs.total).toBeGreaterThan(0);
      expect(report.rssMB).toBeGreaterThan(0);
      expect(judgement).toMatchObject({ results: 10_000, distinctResults: 10_000, missing: [], keysWithViolations: [], outOfOrderResults: 0 });
      // Partial-batch retries redo nothing that succeeded: no record reached the recorder twice.
      expect(judgement.redeliveries).toBe(0);
      const byFunction = (name: string) => status.mappingMetrics.find((mapping) => mapping.functionArn.endsWith(`:${name}`))!;
      for (const [name, stage] of [['demo-relay', 'relay'], ['demo-recorder', 'recorder']] as const) {
        const shards = byFunction(name).shards;
        // About one record in ten is refused on its first delivery at each stage…
        const refused = judgement.firstDeliveryFailures[stage] ?? 0;
        expect(refused, stage).toBeGreaterThan(800);
        expect(refused, stage).toBeLessThan(1_200);
        // …and each refusal costs one more invocation (a partial-batch retry), yet every record succeeds once.
        expect(sumOf(shards.map((shard) => shard.invocations)), name).toBeGreaterThanOrEqual(10_000 / 10 + refused);
        expect(sumOf(shards.map((shard) => shard.recordsSucceeded)), name).toBe(10_000);
        expect(sumOf(shards.map((shard) => shard.recordsSentToDestination + shard.recordsDiscarded)), name).toBe(0);
      }
      expect(failedBatches).toBe(0);
    } finally {
      await region?.stop();
    }
  });

  test('an MQ-triggered function is wired from the manifest: messages sent to demo.requests come out recorded once', { timeout: 60_000 }, async () => {
    // Prepare
    const dataDir = await scratchDir('mq');
    const inputs = demoInputs(10, 10).map((input) => ({ ...input, key: `mq-${input.key}` }));
    let region: RunningRegion | undefined;
    try {
      region = await startRegion({ region: 'us-east-1', dataDir, topology: 'demo', ...FAST_POLLING });
      const clients = demoClients(region.report.endpoints);
      const broker = new StompMessageBroker({ url: region.report.endpoints.broker });

      // Act
      for (const input of inputs) await broker.send('demo.requests', JSON.stringify(input));
      await waitFor(async () => {
        const current = await region!.status();
        return recordsSucceeded(current, 'demo-recorder') >= inputs.length && caughtUp(current);
      }, { what: '100 MQ messages through the chain', timeoutMs: 40_000, intervalMs: 250 });
      const judgement = judgeDemoResults(await scanDemoResults(clients.documents), inputs);
      const [intake] = (await region.status()).mqMappingMetrics;
      await broker.close();
      clients.destroy();

      // Assess
      expect(judgement).toMatchObject({ results: inputs.length, missing: [], keysWithViolations: [], outOfOrderResults: 0, redeliveries: 0 });
      expect(intake).toMatchObject({ mappingId: 'demo.requests--demo-intake', messagesAcked: inputs.length, messagesDeadLettered: 0, queueDepth: 0 });
    } finally {
      await region?.stop();
    }
  });

  test('a region killed with SIGKILL mid-stream restarts on its data directory and finishes without loss, duplicates or redone acknowledged work', { timeout: 90_000 }, async () => {
    // Prepare
    const dataDir = await scratchDir('sigkill');
    const inputs = demoInputs(80, 50);
    const first = await regionProcess(dataDir);
    const firstClients = demoClients(first.report.endpoints);
    await putDemoInputs(firstClients.kinesis, inputs);
    firstClients.destroy();
    await waitFor(async () => recordsSucceeded(await first.status(), 'demo-recorder') >= 800, { what: 'the chain busy', timeoutMs: 30_000, intervalMs: 100 });

    const operatorBroker = new StompMessageBroker({ url: first.report.endpoints.broker });
    await operatorBroker.send('demo-failures', JSON.stringify({ note: 'a queued message the kill must not lose' }));
    await operatorBroker.close();

    // Act
    const busyWhenKilled = await first.status();
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const relayCheckpoints = await savedCheckpoints(dataDir, 'demo-in--demo-relay');
    const recorderCheckpoints = await savedCheckpoints(dataDir, 'demo-out--demo-recorder');
    const second = await regionProcess(dataDir);
    const clients = demoClients(second.report.endpoints);
    await waitFor(async () => caughtUp(await second.status()) && (await countDemoResults(clients.documents)) >= inputs.length, {
      what: 'the restarted region to finish', timeoutMs: 60_000, intervalMs: 1_000,
    });
    const afterRestart = await second.status();
    const judgement = judgeDemoResults(await scanDemoResults(clients.documents), inputs);
    const relayUnacknowledged = await countStreamRecordsAfter(clients.kinesis, 'demo-in', relayCheckpoints);
    const recorderUnacknowledged = await countStreamRecordsAfter(clients.kinesis, 'demo-out', recorderCheckpoints);
    const forwarded = await countStreamRecordsAfter(clients.kinesis, 'demo-out', {});
    const restartedBroker = new StompMessageBroker({ url: second.report.endpoints.broker });
    const queuedAfterRestart = await restartedBroker.queueDepth('demo-failures');
    await restartedBroker.close();
    clients.destroy();
    second.child.kill('SIGTERM');
    await second.exited;

    // Assess
    expect(recordsSucceeded(busyWhenKilled, 'demo-recorder'), 'killed mid-stream').toBeLessThan(inputs.length);
    expect(judgement).toMatchObject({ results: inputs.length, distinctResults: inputs.length, missing: [], keysWithViolations: [], outOfOrderResults: 0 });
    expect(queuedAfterRestart).toBe(1);
    // Every record after a saved checkpoint was delivered once more, and nothing before one was.
    expect(recordsSucceeded(afterRestart, 'demo-relay')).toBe(relayUnacknowledged);
    expect(recordsSucceeded(afterRestart, 'demo-recorder')).toBe(recorderUnacknowledged);
    expect(relayUnacknowledged).toBeLessThan(inputs.length);
    // Redone work is bounded by what was read but unacknowledged: 2 shards x 4 lanes x 4 batches x 10 records.
    expect(forwarded - inputs.length).toBeLessThanOrEqual(Math.min(relayUnacknowledged, 2 * 2 * 4 * 10));
    expect(judgement.redeliveries).toBeLessThanOrEqual(Math.min(recorderUnacknowledged, 2 * 4 * 4 * 10));
  });

  test('SIGTERM stops a busy region cleanly: exit 0 within 10 s, checkpoints saved, and the restart resumes exactly from them', { timeout: 60_000 }, async () => {
    // Prepare
    const dataDir = await scratchDir('sigterm');
    const inputs = demoInputs(40, 50);
    const first = await regionProcess(dataDir);
    const firstClients = demoClients(first.report.endpoints);
    await putDemoInputs(firstClients.kinesis, inputs);
    firstClients.destroy();
    await waitFor(async () => recordsSucceeded(await first.status(), 'demo-recorder') >= 300, { what: 'the chain busy', timeoutMs: 30_000, intervalMs: 100 });

    // Act
    const signalledAt = Date.now();
    first.child.kill('SIGTERM');
    const exit = await first.exited;
    const stopMs = Date.now() - signalledAt;
    const relayCheckpoints = await savedCheckpoints(dataDir, 'demo-in--demo-relay');
    const recorderCheckpoints = await savedCheckpoints(dataDir, 'demo-out--demo-recorder');
    const second = await regionProcess(dataDir);
    const clients = demoClients(second.report.endpoints);
    await waitFor(async () => caughtUp(await second.status()) && (await countDemoResults(clients.documents)) >= inputs.length, {
      what: 'the restarted region to finish', timeoutMs: 40_000, intervalMs: 1_000,
    });
    const afterRestart = await second.status();
    const judgement = judgeDemoResults(await scanDemoResults(clients.documents), inputs);
    const relayUnacknowledged = await countStreamRecordsAfter(clients.kinesis, 'demo-in', relayCheckpoints);
    const recorderUnacknowledged = await countStreamRecordsAfter(clients.kinesis, 'demo-out', recorderCheckpoints);
    clients.destroy();
    second.child.kill('SIGTERM');
    const secondExit = await second.exited;

    // Assess
    expect(exit).toEqual({ code: 0, signal: null });
    expect(secondExit).toEqual({ code: 0, signal: null });
    expect(stopMs).toBeLessThan(10_000);
    expect(judgement).toMatchObject({ results: inputs.length, missing: [], keysWithViolations: [], outOfOrderResults: 0 });
    expect(relayUnacknowledged).toBeLessThan(inputs.length);
    // The stop made its checkpoints durable: the restart delivers exactly the records after them. (Records a
    // faster lane finished beyond a slower lane's unfinished ones are among them, as on AWS.)
    expect(recordsSucceeded(afterRestart, 'demo-relay')).toBe(relayUnacknowledged);
    expect(recordsSucceeded(afterRestart, 'demo-recorder')).toBe(recorderUnacknowledged);
  });
});
