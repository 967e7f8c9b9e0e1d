import { getEventListeners } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateStreamCommand, GetRecordsCommand, KinesisClient, PutRecordCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { KinesisMappingDependencies } from '#local/event-sources/kinesis-mapping.ts';
import type { KinesisEventSourceMappingConfig } from '#local/event-sources/kinesis-mapping-config.ts';
import { StreamActivity } from '#local/event-sources/stream-activity.ts';
import { startDynamoDbEmulator, startKinesisEmulator, type RunningEmulator } from '#local/region/emulators.ts';
import { decodePayload, payloadRecords } from '#tests/factories/kinesis-records.ts';
import { kinesisClient, type KinesaliteHarness } from '#tests/support/kinesalite.ts';
import { MappingFixture, recordingFunction, uniqueStreamName } from '#tests/support/kinesis-mapping-harness.ts';
import { waitFor } from '#tests/support/wait.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

// Far beyond the 10 s test timeout: a record delivered within it can only have come through the doorbell.
const NEVER_WITHIN_THE_TEST_MS = 60_000;
const TEST_TIMEOUT = { timeout: 10_000 };

let directory: string;
let emulator: RunningEmulator;
let activity: StreamActivity;
let client: KinesisClient;
let mappings: MappingFixture;

beforeAll(async () => {
  directory = await mkdtemp(path.join(tmpdir(), 'rotor-doorbell-'));
  activity = new StreamActivity();
  emulator = await startKinesisEmulator({ path: path.join(directory, 'kinesis'), activity });
  client = kinesisClient(emulator.endpoint);
  // The fixture only needs the client; streams are created here, on the emulator the region runs.
  mappings = new MappingFixture({ client } as KinesaliteHarness);
});
afterEach(async () => mappings.cleanup());
afterAll(async () => {
  client.destroy();
  await emulator.close();
  await rm(directory, { recursive: true, force: true });
});

async function createStream(purpose: string, shardCount = 1): Promise<string> {
  const stream = uniqueStreamName(purpose);
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shardCount }));
  return stream;
}

async function put(stream: string, records: ReadonlyArray<{ partitionKey: string; data: string }>, via = client): Promise<void> {
  await via.send(new PutRecordsCommand({
    StreamName: stream,
    Records: records.map((record) => ({ PartitionKey: record.partitionKey, Data: Buffer.from(record.data) })),
  }));
}

/** A mapping that only the doorbell can wake within the test: its polls, idle or not, are a minute apart. */
const doorbellOnly = (extra: Partial<KinesisMappingDependencies> = {}): Partial<KinesisMappingDependencies> => ({
  streamActivity: activity,
  idlePollIntervalMs: NEVER_WITHIN_THE_TEST_MS,
  pollIntervalMs: NEVER_WITHIN_THE_TEST_MS,
  ...extra,
});

const latest = (streamName: string, extra: Partial<KinesisEventSourceMappingConfig> = {}): KinesisEventSourceMappingConfig =>
  ({ streamName, startingPosition: 'LATEST', ...extra });

describe('StreamActivity', () => {
  test('a ring wakes every waiter of its stream and none of another, and leaves no listener or waiter behind', async () => {
    // Prepare
    const bell = new StreamActivity();
    const stop = new AbortController();
    const first = bell.wait('a', NEVER_WITHIN_THE_TEST_MS, stop.signal);
    const second = bell.wait('a', NEVER_WITHIN_THE_TEST_MS, stop.signal);
    const other = bell.wait('b', NEVER_WITHIN_THE_TEST_MS, stop.signal);
    const waitingBefore = [bell.waiting('a'), bell.waiting('b')];

    // Act
    bell.ring('a');

    // Assess
    expect(waitingBefore).toEqual([2, 1]);
    expect(await Promise.all([first, second])).toEqual(['rung', 'rung']);
    expect([bell.waiting('a'), bell.waiting('b')]).toEqual([0, 1]);
    stop.abort();
    expect(await other).toBe('aborted');
    expect(bell.waiting('b')).toBe(0);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  test('a wait ends at its timeout, and removes its abort listener when it does', async () => {
    // Prepare
    const bell = new StreamActivity();
    const stop = new AbortController();

    // Act
    const reason = await bell.wait('a', 1, stop.signal);

    // Assess
    expect(reason).toBe('timeout');
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
    expect(bell.waiting('a')).toBe(0);
  });

  test('a ring between reading the count and waiting is not missed: the wait returns at once', async () => {
    // Prepare
    const bell = new StreamActivity();
    const seen = bell.rings('a');
    bell.ring('a');

    // Act
    const reason = await bell.wait('a', NEVER_WITHIN_THE_TEST_MS, new AbortController().signal, seen);

    // Assess
    expect(reason).toBe('rung');
    expect(bell.waiting('a')).toBe(0);
  });

  test('ringAll wakes every stream and moves every count, even of streams nobody waited on yet', async () => {
    // Prepare
    const bell = new StreamActivity();
    const stop = new AbortController();
    const seenUnwatched = bell.rings('unwatched');
    const waits = [bell.wait('a', NEVER_WITHIN_THE_TEST_MS, stop.signal), bell.wait('b', NEVER_WITHIN_THE_TEST_MS, stop.signal)];

    // Act
    bell.ringAll();

    // Assess
    expect(await Promise.all(waits)).toEqual(['rung', 'rung']);
    expect(bell.rings('unwatched')).not.toBe(seenUnwatched);
  });
});

describe('Kinesis mapping woken by the stream doorbell', () => {
  test('a record put after the consumer went idle is delivered through the doorbell, with one GetRecords for it', TEST_TIMEOUT, async () => {
    // Prepare
    const stream = await createStream('idle');
    const { fn, invocations } = recordingFunction('idle-consumer');
    await mappings.start(latest(stream), fn, doorbellOnly());
    await waitFor(() => activity.waiting(stream) === 1, { what: 'the consumer idle on the doorbell' });
    const callsWhenIdle = emulator.calls();
    const producer = kinesisClient(emulator.endpoint);

    // Act
    await put(stream, payloadRecords(1, { label: 'late' }), producer);
    await waitFor(() => invocations.length === 1, { what: 'the record put while idle' });
    await waitFor(() => activity.waiting(stream) === 1, { what: 'the consumer idle again' });
    producer.destroy();

    // Assess
    expect(decodePayload(invocations[0]!.records[0]!).label).toBe('late0');
    const calls = emulator.calls();
    expect((calls.PutRecords ?? 0) - (callsWhenIdle.PutRecords ?? 0)).toBe(1);
    // The ring wakes the consumer once; it then sleeps on, since nothing was put while it read.
    expect((calls.GetRecords ?? 0) - (callsWhenIdle.GetRecords ?? 0)).toBe(1);
  });

  test('a put landing after GetRecords read the shard but before the consumer waits is delivered at once', TEST_TIMEOUT, async () => {
    // Prepare
    const stream = await createStream('race');
    const { fn, invocations } = recordingFunction('race-consumer');
    let racedPut = false;
    // Puts before handing the first empty read back: the ring comes when nobody waits yet.
    const racing = {
      send: async (...args: Parameters<KinesisClient['send']>) => {
        const response = await (client.send as (...sent: typeof args) => Promise<unknown>)(...args);
        if (args[0] instanceof GetRecordsCommand && !racedPut) {
          racedPut = true;
          await put(stream, payloadRecords(1, { label: 'raced' }));
        }
        return response;
      },
    } as unknown as KinesisClient;

    // Act
    await mappings.start(latest(stream), fn, doorbellOnly({ kinesis: racing }));
    await waitFor(() => invocations.length === 1, { what: 'the record put during the read' });

    // Assess
    expect(racedPut).toBe(true);
    expect(decodePayload(invocations[0]!.records[0]!).label).toBe('raced0');
  });

  test('puts ringing one after another while the shard was read recently are read together, not once per put', TEST_TIMEOUT, async () => {
    // Prepare
    const stream = await createStream('burst');
    const { fn, sequenceNumbers } = recordingFunction('burst-consumer');
    await mappings.start(latest(stream), fn, doorbellOnly({ minReadIntervalMs: 3_000 }));
    await waitFor(() => activity.waiting(stream) === 1, { what: 'the consumer idle on the doorbell' });
    const readsWhenIdle = emulator.calls().GetRecords ?? 0;

    // Act
    for (const record of payloadRecords(10)) await put(stream, [record]);
    await waitFor(() => sequenceNumbers().length === 10, { what: 'ten records put one by one' });

    // Assess
    expect((emulator.calls().GetRecords ?? 0) - readsWhenIdle).toBe(1);
  });

  test('every mapping of a stream, on every shard, wakes on a put', TEST_TIMEOUT, async () => {
    // Prepare
    const stream = await createStream('broadcast', 2);
    const left = recordingFunction('left-consumer');
    const right = recordingFunction('right-consumer');
    await mappings.start(latest(stream), left.fn, doorbellOnly());
    await mappings.start(latest(stream), right.fn, doorbellOnly());
    await waitFor(() => activity.waiting(stream) === 4, { what: 'two mappings × two shards idle' });

    // Act
    await put(stream, payloadRecords(20, { keys: 20 }));
    await waitFor(() => left.sequenceNumbers().length === 20 && right.sequenceNumbers().length === 20, { what: 'both mappings' });

    // Assess
    expect(new Set(left.sequenceNumbers())).toEqual(new Set(right.sequenceNumbers()));
  });

  test('a put the emulator refuses rings nothing', TEST_TIMEOUT, async () => {
    // Prepare
    const missing = uniqueStreamName('missing');
    const seen = activity.rings(missing);

    // Act
    const refused = client.send(new PutRecordCommand({ StreamName: missing, PartitionKey: 'k', Data: Buffer.from('x') }));

    // Assess
    await expect(refused).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(activity.rings(missing)).toBe(seen);
  });

  test('ParallelizationFactor 10 raises no MaxListenersExceededWarning', TEST_TIMEOUT, async () => {
    // Prepare
    const warnings: Error[] = [];
    const onWarning = (warning: Error) => warnings.push(warning);
    process.on('warning', onWarning);
    const stream = await createStream('lanes');
    const { fn, sequenceNumbers } = recordingFunction('lanes-consumer');
    try {
      // Without the doorbell: its fixed delay is the listener the eleventh waiter used to add.
      await mappings.start(latest(stream, { parallelizationFactor: 10 }), fn, { pollIntervalMs: 5 });
      const readsBefore = emulator.calls().GetRecords ?? 0;

      // Act
      await put(stream, payloadRecords(40, { keys: 40 }));
      await waitFor(() => sequenceNumbers().length === 40 && (emulator.calls().GetRecords ?? 0) > readsBefore + 5, { what: 'records through ten lanes' });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }

    // Assess
    expect(warnings.filter((warning) => warning.name === 'MaxListenersExceededWarning').map(String)).toEqual([]);
  });
});

describe('emulator call counters', () => {
  test('the DynamoDB emulator counts requests per operation', TEST_TIMEOUT, async () => {
    // Prepare
    const dynamoDirectory = await mkdtemp(path.join(tmpdir(), 'rotor-dynalite-calls-'));
    const dynamo = await startDynamoDbEmulator({ path: dynamoDirectory });
    const dynamodb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
    try {
      await dynamodb.send(new CreateTableCommand({
        TableName: 'counted',
        AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }));
      await waitFor(async () => (await dynamodb.send(new DescribeTableCommand({ TableName: 'counted' }))).Table?.TableStatus === 'ACTIVE', {
        what: 'the table ACTIVE',
      });

      // Act
      for (const id of ['a', 'b']) await dynamodb.send(new PutItemCommand({ TableName: 'counted', Item: { id: { S: id } } }));
      await dynamodb.send(new GetItemCommand({ TableName: 'counted', Key: { id: { S: 'a' } } }));

      // Assess
      const calls = dynamo.calls();
      expect(calls).toMatchObject({ CreateTable: 1, PutItem: 2, GetItem: 1 });
      expect(Object.keys(calls).sort()).toEqual(['CreateTable', 'DescribeTable', 'GetItem', 'PutItem']);
    } finally {
      dynamodb.destroy();
      await dynamo.close();
      await rm(dynamoDirectory, { recursive: true, force: true });
    }
  });
});
