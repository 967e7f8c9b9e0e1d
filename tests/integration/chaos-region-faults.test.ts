import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, PutRecordCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRegion, type RunningRegion } from '#local/region/region.ts';
import type { RegionFaultKind } from '#local/chaos/fault-plan.ts';
import { deleteRegionFault, postRegionFault, regionFaults } from '#local/chaos/chaos-twin.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';

/**
 * The region process's fault hooks, driven through its status server as the chaos controller drives them, against
 * the region's real kinesalite, dynalite and embedded broker: throttles answer as AWS does, duplicated puts and
 * sends really store a second copy, and removing a fault ends it.
 */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const credentials = { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' };
let dataDir: string;
let region: RunningRegion;
let kinesis: KinesisClient;
let dynamodb: DynamoDBClient;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'rotor-chaos-region-'));
  region = await startRegion({ region: 'us-east-1', dataDir, topology: 'demo' });
  // One attempt: the SDK's own retries would hide a throttle the test wants to see.
  kinesis = new KinesisClient({ region: 'us-east-1', credentials, endpoint: region.report.endpoints.kinesis, requestHandler: new NodeHttpHandler(), maxAttempts: 1 });
  dynamodb = new DynamoDBClient({ region: 'us-east-1', credentials, endpoint: region.report.endpoints.dynamodb, maxAttempts: 1 });
}, 60_000);

afterAll(async () => {
  kinesis?.destroy();
  dynamodb?.destroy();
  await region?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const fault = (id: string, kind: RegionFaultKind, targets: string[]) => ({ id, kind, targets, probability: 1, expiresAt: Date.now() + 60_000 });

async function recordsWith(stream: string, marker: string): Promise<number> {
  const description = await kinesis.send(new DescribeStreamCommand({ StreamName: stream }));
  let count = 0;
  for (const shard of description.StreamDescription?.Shards ?? []) {
    const { ShardIterator } = await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }));
    const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: ShardIterator!, Limit: 10_000 }));
    count += (page.Records ?? []).filter((record) => Buffer.from(record.Data!).toString('utf8').includes(marker)).length;
  }
  return count;
}

describe('region fault hooks (chaos)', () => {
  test('throttle-kinesis: PutRecord answers ProvisionedThroughputExceededException until the fault is removed', async () => {
    // Prepare
    const status = region.report.endpoints.status;
    await postRegionFault(status, fault('throttle', 'throttle-kinesis', ['PutRecord']));
    const put = () => kinesis.send(new PutRecordCommand({ StreamName: 'demo-out', PartitionKey: 'k', Data: Buffer.from('{"key":"k","seq":-1,"marker":"throttle"}') }));

    // Act
    const throttled = await put().then(() => 'stored', (error: Error) => error.name);
    const strikes = (await regionFaults(status)).find((each) => each.id === 'throttle')?.strikes;
    await deleteRegionFault(status, 'throttle');
    const after = await put().then(() => 'stored', (error: Error) => error.name);

    // Assess
    expect(throttled).toBe('ProvisionedThroughputExceededException');
    expect(strikes).toBe(1);
    expect(after).toBe('stored');
  });

  test('duplicate-put: one PutRecord to the named stream is stored twice', async () => {
    // Prepare
    const status = region.report.endpoints.status;
    const marker = `dup-${Date.now()}`;
    await postRegionFault(status, fault('duplicate', 'duplicate-put', ['demo-out']));

    // Act
    await kinesis.send(new PutRecordCommand({ StreamName: 'demo-out', PartitionKey: 'k', Data: Buffer.from(`{"key":"k","seq":-2,"marker":"${marker}"}`) }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await deleteRegionFault(status, 'duplicate');

    // Assess
    expect(await recordsWith('demo-out', marker)).toBe(2);
  });

  test('throttle-dynamodb: GetItem answers ProvisionedThroughputExceededException', async () => {
    // Prepare
    const status = region.report.endpoints.status;
    await postRegionFault(status, fault('ddb', 'throttle-dynamodb', ['GetItem']));

    // Act
    const answer = await dynamodb.send(new GetItemCommand({ TableName: 'demo-results', Key: { pk: { S: 'nothing' } } })).then(() => 'served', (error: Error) => error.name);
    await deleteRegionFault(status, 'ddb');

    // Assess
    expect(answer).toBe('ProvisionedThroughputExceededException');
  });

  test('duplicate-send: a message sent to the named queue is queued twice', async () => {
    // Prepare
    const status = region.report.endpoints.status;
    await postRegionFault(status, fault('send', 'duplicate-send', ['chaos.probe']));
    const broker = new StompMessageBroker({ url: region.report.endpoints.broker });

    // Act
    try {
      await broker.send('chaos.probe', '{"probe":1}');
      await deleteRegionFault(status, 'send');
      await broker.send('chaos.probe', '{"probe":2}');
      const depth = await broker.queueDepth('chaos.probe');

      // Assess
      expect(depth).toBe(3);
    } finally {
      await broker.close();
    }
  });

  test('the route refuses a fault that is not one', async () => {
    // Act
    const answer = await fetch(`${region.report.endpoints.status}/chaos/faults`, { method: 'POST', body: JSON.stringify({ id: 'x', kind: 'meteor', expiresAt: 1 }) });

    // Assess
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { type: string }).type).toBe('InvalidFaultError');
  });
});
