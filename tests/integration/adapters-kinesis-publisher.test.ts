import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import { RecordTooLargeError } from '#shared/adapters/kinesis/errors.ts';
import {
  kinesisClient,
  KinesisStreamPublisher,
  PUT_RECORDS_MAX_BYTES,
  RECORD_MAX_BYTES,
} from '#shared/adapters/kinesis/kinesis-stream-publisher.ts';
import { StreamPublishError, type OutgoingRecord } from '#shared/ports/stream-publisher.ts';
import { startAwsFaultProxy, type AwsFaultProxy } from '#tests/support/aws-fault-proxy.ts';
import { startKinesalite, TEST_REGION, type KinesaliteHarness } from '#tests/support/kinesalite.ts';
import { injectPutRecordsRejections, readStream } from '#tests/support/kinesis-put-records-faults.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let kinesalite: KinesaliteHarness;
let proxy: AwsFaultProxy | undefined;
const clients: KinesisClient[] = [];
let streamCount = 0;

beforeAll(async () => {
  kinesalite = await startKinesalite();
});
afterEach(async () => {
  vi.unstubAllEnvs();
  for (const client of clients.splice(0)) client.destroy();
  await proxy?.close();
  proxy = undefined;
});
afterAll(() => kinesalite.close());

/** One request per send, as the handlers' client makes, so every call a test counts is one the publisher made. */
function client(endpoint = kinesalite.endpoint): KinesisClient {
  const created = new KinesisClient({
    endpoint,
    region: TEST_REGION,
    credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' },
    requestHandler: new NodeHttpHandler(),
    maxAttempts: 1,
  });
  clients.push(created);
  return created;
}

async function freshStream(shards = 1): Promise<string> {
  const stream = `publisher-${++streamCount}`;
  await kinesalite.createStream(stream, shards);
  return stream;
}

/** A recorder standing in for the backoff sleep: the publisher's delays, without waiting them out. */
function recordedSleeps() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => void delays.push(ms) };
}

const record = (key: string, seq: number, padding = ''): OutgoingRecord => ({
  partitionKey: key,
  data: JSON.stringify({ id: `${key}#${seq}`, seq, padding }),
});
const idsOf = (stored: { data: string }[]) => stored.map((entry) => (JSON.parse(entry.data) as { id: string }).id);

describe('KinesisStreamPublisher: batching', () => {
  test('puts 1,234 records in calls of at most 500, in the caller order', async () => {
    // Prepare
    const stream = await freshStream();
    const kinesis = client();
    const faults = injectPutRecordsRejections(kinesis);
    const records = Array.from({ length: 1_234 }, (_, seq) => record(`IM1|BR1|T${seq % 7}`, seq));

    // Act
    await new KinesisStreamPublisher(kinesis).publish(stream, records);

    // Assess
    expect(faults.calls.map((call) => call.partitionKeys.length)).toEqual([500, 500, 234]);
    expect(idsOf(await readStream(kinesis, stream))).toEqual(idsOf(records));
  });

  test('keeps every call within 5 MiB, counting partition keys', async () => {
    // Prepare
    const stream = await freshStream();
    const kinesis = client();
    const faults = injectPutRecordsRejections(kinesis);
    const records = Array.from({ length: 40 }, (_, seq) => record(`IM1|BR1|T${seq}`, seq, 'x'.repeat(300 * 1024)));
    const recordBytes = Buffer.byteLength(records[0]!.data) + Buffer.byteLength(records[0]!.partitionKey);

    // Act
    await new KinesisStreamPublisher(kinesis).publish(stream, records);

    // Assess
    const perCall = Math.floor(PUT_RECORDS_MAX_BYTES / recordBytes);
    expect(faults.calls.map((call) => call.partitionKeys.length)).toEqual([perCall, perCall, 40 - 2 * perCall]);
    for (const call of faults.calls) expect(call.bytes).toBeLessThanOrEqual(PUT_RECORDS_MAX_BYTES);
    expect(idsOf(await readStream(kinesis, stream))).toEqual(idsOf(records));
  });

  test('a record over 1 MiB is a RecordTooLargeError before anything is sent', async () => {
    // Prepare
    const stream = await freshStream();
    const kinesis = client();
    const faults = injectPutRecordsRejections(kinesis);
    const oversized = { partitionKey: 'IM1|BR1|T2', data: 'x'.repeat(RECORD_MAX_BYTES) };
    const records = [record('IM1|BR1|T1', 1), oversized, record('IM1|BR1|T3', 3)];

    // Act
    const error = await new KinesisStreamPublisher(kinesis).publish(stream, records).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(RecordTooLargeError);
    expect(error).toMatchObject({ partitionKey: 'IM1|BR1|T2', bytes: RECORD_MAX_BYTES + 10, transient: false });
    expect(faults.calls).toHaveLength(0);
    expect(await readStream(kinesis, stream)).toEqual([]);
  });
});

describe('KinesisStreamPublisher: rejected entries', () => {
  test('resends only the rejected entries, after a jittered backoff, and every record lands exactly once', async () => {
    // Prepare
    const stream = await freshStream(4);
    const kinesis = client();
    const faults = injectPutRecordsRejections(kinesis, (_, call) => (call === 1 ? [3, 7, 8] : []));
    const { delays, sleep } = recordedSleeps();
    const records = Array.from({ length: 20 }, (_, seq) => record(`IM1|BR1|T${seq % 5}`, seq));

    // Act
    await new KinesisStreamPublisher(kinesis, { sleep, random: () => 0.5 }).publish(stream, records);

    // Assess
    expect(faults.calls).toHaveLength(2);
    expect(faults.calls[1]!.data).toEqual([3, 7, 8].map((index) => records[index]!.data));
    expect(delays).toEqual([25]);
    const stored = await readStream(kinesis, stream);
    expect(idsOf(stored).sort()).toEqual(idsOf(records).sort());
  });

  test('a rejected entry lands after a later entry of its key that was accepted: the documented reorder', async () => {
    // Prepare
    const stream = await freshStream();
    const kinesis = client();
    injectPutRecordsRejections(kinesis, (_, call) => (call === 1 ? [0] : []));
    const records = [record('IM1|BR1|T1', 1), record('IM1|BR1|T1', 2), record('IM1|BR1|T1', 3)];

    // Act
    await new KinesisStreamPublisher(kinesis, { sleep: async () => {} }).publish(stream, records);

    // Assess
    expect(idsOf(await readStream(kinesis, stream))).toEqual(['IM1|BR1|T1#2', 'IM1|BR1|T1#3', 'IM1|BR1|T1#1']);
  });

  test('an entry still rejected after the last attempt is a StreamPublishError; later batches are never sent', async () => {
    // Prepare
    const stream = await freshStream();
    const kinesis = client();
    const poison = 'IM1|BR1|T-hot';
    const faults = injectPutRecordsRejections(kinesis, (entries) => entries.flatMap((entry, index) => (entry.partitionKey === poison ? [index] : [])));
    const { delays, sleep } = recordedSleeps();
    const records = Array.from({ length: 600 }, (_, seq) => record(seq === 10 ? poison : `IM1|BR1|T${seq}`, seq));

    // Act
    const error = await new KinesisStreamPublisher(kinesis, { sleep, random: () => 0.5 }).publish(stream, records).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(StreamPublishError);
    expect(error).toMatchObject({ stream, rejected: 1, attempts: 8, lastErrorCode: 'ProvisionedThroughputExceededException', transient: true });
    expect(delays).toEqual([25, 50, 100, 200, 400, 800, 1_000]);
    expect(faults.calls.map((call) => call.partitionKeys.length)).toEqual([500, 1, 1, 1, 1, 1, 1, 1]);
    expect(idsOf(await readStream(kinesis, stream))).toEqual(idsOf(records.slice(0, 500).filter((entry) => entry.partitionKey !== poison)));
  });
});

describe('KinesisStreamPublisher: failed calls', () => {
  test('throttled and failed whole calls are retried with the same backoff until one succeeds', async () => {
    // Prepare
    const stream = await freshStream();
    proxy = await startAwsFaultProxy(kinesalite.endpoint);
    proxy.failNext(2, { status: 400, type: 'ProvisionedThroughputExceededException', message: 'Rate exceeded for stream' }, 'PutRecords');
    proxy.failNext(1, { status: 500, type: 'InternalFailureException' }, 'PutRecords');
    proxy.failNext(1, 'reset', 'PutRecords');
    const { delays, sleep } = recordedSleeps();
    const records = Array.from({ length: 5 }, (_, seq) => record('IM1|BR1|T1', seq));

    // Act
    await new KinesisStreamPublisher(client(proxy.endpoint), { sleep, random: () => 1, baseDelayMs: 10 }).publish(stream, records);

    // Assess
    expect(proxy.requests('PutRecords')).toBe(5);
    expect(delays).toEqual([10, 20, 40, 80]);
    expect(idsOf(await readStream(client(), stream))).toEqual(idsOf(records));
  });

  test('an unreachable endpoint is a StreamPublishError naming the network error after the last attempt', async () => {
    // Prepare
    const stream = await freshStream();
    proxy = await startAwsFaultProxy(kinesalite.endpoint);
    const kinesis = client(proxy.endpoint);
    await proxy.close();
    const { delays, sleep } = recordedSleeps();

    // Act
    const error = await new KinesisStreamPublisher(kinesis, { sleep, maxAttempts: 3 }).publish(stream, [record('IM1|BR1|T1', 1)]).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(StreamPublishError);
    expect(error).toMatchObject({ rejected: 1, attempts: 3, lastErrorCode: 'ECONNREFUSED' });
    expect((error as Error).cause).toBeInstanceOf(Error);
    expect(delays).toHaveLength(2);
  });

  test('a call Kinesis refuses for what it is (an unknown stream) fails at once, unretried', async () => {
    // Prepare
    const kinesis = client();
    const { delays, sleep } = recordedSleeps();

    // Act
    const error = await new KinesisStreamPublisher(kinesis, { sleep }).publish('no-such-stream', [record('IM1|BR1|T1', 1)]).catch((caught: unknown) => caught);

    // Assess
    expect(error).not.toBeInstanceOf(StreamPublishError);
    expect((error as Error).name).toBe('ResourceNotFoundException');
    expect(delays).toEqual([]);
  });

  test('publishing nothing makes no call', async () => {
    // Prepare
    const kinesis = client();
    const faults = injectPutRecordsRejections(kinesis);

    // Act
    await new KinesisStreamPublisher(kinesis).publish('no-such-stream', []);

    // Assess
    expect(faults.calls).toEqual([]);
  });
});

describe('kinesisClient()', () => {
  test('finds the endpoint in AWS_ENDPOINT_URL_KINESIS, as handlers do, and speaks HTTP/1.1 to kinesalite', async () => {
    // Prepare
    const stream = await freshStream();
    vi.stubEnv('AWS_ENDPOINT_URL_KINESIS', kinesalite.endpoint);
    vi.stubEnv('AWS_REGION', TEST_REGION);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'twin');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'twin');
    const kinesis = kinesisClient();
    clients.push(kinesis);

    // Act
    await new KinesisStreamPublisher(kinesis).publish(stream, [record('IM1|BR1|T1', 1)]);

    // Assess
    expect(idsOf(await readStream(client(), stream))).toEqual(['IM1|BR1|T1#1']);
  });
});
