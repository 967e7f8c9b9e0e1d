import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { startRegion, type RunningRegion } from '#local/region/region.ts';
import { countDemoResults, demoClients, demoInputs, putDemoInputs } from '#tests/support/region-demo.ts';
import { recordsSucceeded } from '#tests/support/region-process.ts';
import { waitFor } from '#tests/support/wait.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((directory) => rm(directory, { recursive: true, force: true })));
});

describe('region: stream doorbell and emulator call counters', () => {
  test('records cross both hops of the demo chain though no shard polls within the test, and the status counts the calls', { timeout: 60_000 }, async () => {
    // Prepare
    const dataDir = await mkdtemp(path.join(tmpdir(), 'rotor-region-doorbell-'));
    scratch.push(dataDir);
    const inputs = demoInputs(5, 4);
    let region: RunningRegion | undefined;
    try {
      // A minute between polls, idle or not: only the doorbell can move records within the 20 s allowed below.
      region = await startRegion({
        region: 'us-east-1', dataDir, topology: 'demo',
        pollIntervalMs: 60_000, idlePollIntervalMs: 60_000, retryBackoff: { initialMs: 5, maxMs: 50 },
      });
      const clients = demoClients(region.report.endpoints);

      // Act
      await putDemoInputs(clients.kinesis, inputs);
      await waitFor(async () => recordsSucceeded(await region!.status(), 'demo-recorder') >= inputs.length, {
        what: 'the records through relay and recorder', timeoutMs: 20_000, intervalMs: 100,
      });
      const results = await countDemoResults(clients.documents);
      const { emulatorCalls } = await region.status();
      clients.destroy();

      // Assess
      expect(results).toBe(inputs.length);
      expect(emulatorCalls.kinesis.PutRecords).toBeGreaterThanOrEqual(2);
      expect(emulatorCalls.kinesis.GetRecords).toBeGreaterThan(0);
      expect(emulatorCalls.kinesis.CreateStream).toBeGreaterThan(0);
      expect(emulatorCalls.dynamodb.UpdateItem).toBeGreaterThan(0);
    } finally {
      await region?.stop();
    }
  });
});
