import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { JsonLinesFileDestination } from '#local/event-sources/on-failure-destination.ts';
import { decodePayload, payloadRecords } from '#tests/factories/kinesis-records.ts';
import { startKinesalite, TEST_REGION, type KinesaliteHarness } from '#tests/support/kinesalite.ts';
import { MappingFixture, recordingFunction, uniqueStreamName } from '#tests/support/kinesis-mapping-harness.ts';
import { waitFor } from '#tests/support/wait.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let kinesis: KinesaliteHarness;
let mappings: MappingFixture;

beforeAll(async () => {
  kinesis = await startKinesalite();
  mappings = new MappingFixture(kinesis);
});
afterEach(async () => mappings.cleanup());
afterAll(async () => kinesis.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('Kinesis event-source mapping: delivery', () => {
  test('AWS delivers a KinesisStreamEvent whose records carry shard, sequence, base64 data and arrival seconds', async () => {
    // Prepare
    const stream = uniqueStreamName('shape');
    const streamArn = await kinesis.createStream(stream);
    const { fn, invocations } = recordingFunction('shape-consumer');
    const [put] = await kinesis.put(stream, payloadRecords(1));
    const putAtSeconds = Date.now() / 1000;

    // Act
    await mappings.start({ streamName: stream, startingPosition: 'TRIM_HORIZON' }, fn);
    await waitFor(() => invocations.length === 1, { what: 'one invocation' });

    // Assess
    const { event, context } = invocations[0]!;
    expect(event).toEqual({
      Records: [{
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `${put!.shardId}:${put!.sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: fn.roleArn,
        awsRegion: TEST_REGION,
        eventSourceARN: streamArn,
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: put!.partitionKey,
          sequenceNumber: put!.sequenceNumber,
          data: Buffer.from(put!.data).toString('base64'),
          approximateArrivalTimestamp: expect.any(Number),
        },
      }],
    });
    expect(streamArn).toBe(`arn:aws:kinesis:${TEST_REGION}:000000000000:stream/${stream}`);
    expect(event.Records[0]!.kinesis.approximateArrivalTimestamp).toBeCloseTo(putAtSeconds, 0);
    expect(decodePayload(event.Records[0]!)).toMatchObject({ n: 0 });
    expect(context.awsRequestId).toMatch(UUID);
    expect(context.functionName).toBe('shape-consumer');
    expect(context.functionVersion).toBe('$LATEST');
    expect(context.invokedFunctionArn).toBe(`arn:aws:lambda:${TEST_REGION}:000000000000:function:shape-consumer`);
  });

  test('BatchSize caps the records per invocation and batches keep shard order', async () => {
    // Prepare
    const stream = uniqueStreamName('batch-size');
    await kinesis.createStream(stream);
    const puts = await kinesis.put(stream, payloadRecords(25));
    const { fn, invocations, sequenceNumbers } = recordingFunction('batch-size-consumer');

    // Act
    await mappings.start({ streamName: stream, startingPosition: 'TRIM_HORIZON', batchSize: 10 }, fn);
    await waitFor(() => sequenceNumbers().length === 25, { what: '25 records' });

    // Assess
    expect(invocations.map((invocation) => invocation.records.length)).toEqual([10, 10, 5]);
    expect(sequenceNumbers()).toEqual(puts.map((put) => put.sequenceNumber));
  });

  test('MaximumBatchingWindowInSeconds gathers records arriving over time into one invocation', async () => {
    // Prepare
    const stream = uniqueStreamName('window');
    await kinesis.createStream(stream);
    const { fn, invocations } = recordingFunction('window-consumer');
    await mappings.start({ streamName: stream, startingPosition: 'LATEST', batchSize: 100, maximumBatchingWindowInSeconds: 1 }, fn);

    // Act
    const firstPutAt = Date.now();
    for (const label of ['a', 'b', 'c']) {
      await kinesis.put(stream, payloadRecords(2, { label }));
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
    await waitFor(() => invocations.length >= 1, { what: 'the windowed invocation' });
    const firstInvokedAt = Date.now();

    // Assess
    expect(invocations[0]!.records.map((record) => decodePayload(record).label)).toEqual(['a0', 'a1', 'b0', 'b1', 'c0', 'c1']);
    expect(firstInvokedAt - firstPutAt).toBeGreaterThanOrEqual(900);
  });

  test('TRIM_HORIZON starts at the oldest record, LATEST only sees records put after the mapping started', async () => {
    // Prepare
    const stream = uniqueStreamName('positions');
    await kinesis.createStream(stream);
    const before = await kinesis.put(stream, payloadRecords(3, { label: 'before' }));
    const oldest = recordingFunction('trim-horizon-consumer');
    const newest = recordingFunction('latest-consumer');
    await mappings.start({ streamName: stream, startingPosition: 'TRIM_HORIZON' }, oldest.fn);
    await mappings.start({ streamName: stream, startingPosition: 'LATEST' }, newest.fn);

    // Act
    const after = await kinesis.put(stream, payloadRecords(2, { label: 'after' }));
    await waitFor(() => oldest.sequenceNumbers().length === 5 && newest.sequenceNumbers().length === 2, { what: 'both consumers' });

    // Assess
    expect(oldest.sequenceNumbers()).toEqual([...before, ...after].map((put) => put.sequenceNumber));
    expect(newest.sequenceNumbers()).toEqual(after.map((put) => put.sequenceNumber));
  });
});

describe('Kinesis event-source mapping: ReportBatchItemFailures', () => {
  test('a partial failure checkpoints before the lowest failed sequence number and retries from there', async () => {
    // Prepare
    const stream = uniqueStreamName('partial');
    await kinesis.createStream(stream);
    const puts = await kinesis.put(stream, payloadRecords(10));
    const sequences = puts.map((put) => put.sequenceNumber);
    let checkpointSeenByRetry: string | undefined;
    const { fn, invocations } = recordingFunction('partial-consumer', (_event, _context, index) => {
      if (index === 0) return { batchItemFailures: [{ itemIdentifier: sequences[7] }, { itemIdentifier: sequences[4] }] };
      checkpointSeenByRetry = mapping.metrics().shards[0]!.checkpoint;
      return { batchItemFailures: [] };
    });

    // Act
    const mapping = await mappings.start(
      { streamName: stream, startingPosition: 'TRIM_HORIZON', batchSize: 10, functionResponseTypes: ['ReportBatchItemFailures'] }, fn);
    await waitFor(() => mapping.metrics().shards[0]!.checkpoint === sequences[9], { what: 'checkpoint at the last record' });

    // Assess
    expect(invocations.map((invocation) => invocation.sequenceNumbers)).toEqual([sequences, sequences.slice(4)]);
    expect(checkpointSeenByRetry).toBe(sequences[3]);
    await mapping.stop();
    const saved = JSON.parse(await readFile(mapping.checkpointFile, 'utf8'));
    expect(saved.shards[puts[0]!.shardId].sequenceNumber).toBe(sequences[9]);
  });

  test.each([
    ['an empty itemIdentifier', { batchItemFailures: [{ itemIdentifier: '' }] }],
    ['an itemIdentifier that is not in the batch', { batchItemFailures: [{ itemIdentifier: '12345' }] }],
    ['a missing itemIdentifier', { batchItemFailures: [{ id: 'x' }] }],
  ])('a response with %s fails the whole batch, which is retried in full', async (_case, invalidResponse) => {
    // Prepare
    const stream = uniqueStreamName('invalid-partial');
    await kinesis.createStream(stream);
    const sequences = (await kinesis.put(stream, payloadRecords(4))).map((put) => put.sequenceNumber);
    const { fn, invocations } = recordingFunction('invalid-partial-consumer', (_event, _context, index) =>
      index === 0 ? invalidResponse : null);

    // Act
    await mappings.start({ streamName: stream, startingPosition: 'TRIM_HORIZON', functionResponseTypes: ['ReportBatchItemFailures'] }, fn);
    await waitFor(() => invocations.length === 2, { what: 'the retry' });

    // Assess
    expect(invocations.map((invocation) => invocation.sequenceNumbers)).toEqual([sequences, sequences]);
  });

  test.each([
    ['an empty batchItemFailures list', { batchItemFailures: [] }],
    ['a null response', null],
    ['an empty object', {}],
  ])('%s is a complete success', async (_case, response) => {
    // Prepare
    const stream = uniqueStreamName('partial-success');
    await kinesis.createStream(stream);
    const sequences = (await kinesis.put(stream, payloadRecords(3))).map((put) => put.sequenceNumber);
    const { fn, invocations } = recordingFunction('partial-success-consumer', () => response);

    // Act
    const mapping = await mappings.start(
      { streamName: stream, startingPosition: 'TRIM_HORIZON', functionResponseTypes: ['ReportBatchItemFailures'] }, fn);
    await waitFor(() => mapping.metrics().shards[0]!.checkpoint === sequences[2], { what: 'checkpoint at the last record' });

    // Assess
    expect(invocations).toHaveLength(1);
  });
});

describe('Kinesis event-source mapping: errors', () => {
  test('BisectBatchOnFunctionError halves a failing batch until the poison record is isolated; splits use no retries', async () => {
    // Prepare
    const stream = uniqueStreamName('bisect');
    await kinesis.createStream(stream);
    const puts = await kinesis.put(stream, payloadRecords(8));
    const poison = puts[4]!.sequenceNumber;
    const dataDir = await mappings.dataDir();
    const destination = new JsonLinesFileDestination(path.join(dataDir, 'on-failure', 'bisect.jsonl'));
    const { fn, invocations } = recordingFunction('bisect-consumer', (event) => {
      if (event.Records.some((record) => record.kinesis.sequenceNumber === poison)) throw new Error('poison record');
    });

    // Act
    await mappings.start({
      streamName: stream, startingPosition: 'TRIM_HORIZON', batchSize: 8, bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 0, destinationConfig: { onFailure: destination },
    }, fn, { dataDir });
    await waitFor(async () => (await destination.readAll()).length === 1 && invocations.length === 7, { what: 'bisection to finish' });

    // Assess
    expect(invocations.map((invocation) => invocation.records.length)).toEqual([8, 4, 4, 2, 1, 1, 2]);
    const [failure] = await destination.readAll();
    expect(failure!.KinesisBatchInfo).toMatchObject({ startSequenceNumber: poison, endSequenceNumber: poison, batchSize: 1 });
    expect(failure!.requestContext.condition).toBe('RetryAttemptsExhausted');
  });

  test('after MaximumRetryAttempts the batch goes to the on-failure destination with AWS metadata and the shard moves on', async () => {
    // Prepare
    const stream = uniqueStreamName('exhausted');
    const streamArn = await kinesis.createStream(stream);
    const failing = await kinesis.put(stream, payloadRecords(3, { label: 'bad' }));
    const dataDir = await mappings.dataDir();
    const destination = new JsonLinesFileDestination(path.join(dataDir, 'on-failure', 'exhausted.jsonl'));
    const { fn, invocations } = recordingFunction('exhausted-consumer', (event) => {
      if (decodePayload(event.Records[0]!).label.startsWith('bad')) throw new TypeError('cannot process');
    });

    // Act
    const mapping = await mappings.start({
      streamName: stream, startingPosition: 'TRIM_HORIZON', maximumRetryAttempts: 2, destinationConfig: { onFailure: destination },
    }, fn, { dataDir });
    await waitFor(async () => (await destination.readAll()).length === 1, { what: 'the on-failure record' });
    const [next] = await kinesis.put(stream, payloadRecords(1, { label: 'good' }));
    await waitFor(() => mapping.metrics().shards[0]!.checkpoint === next!.sequenceNumber, { what: 'the shard to move on' });

    // Assess
    const [failure] = await destination.readAll();
    expect(invocations.slice(0, 3).map((invocation) => invocation.sequenceNumbers)).toEqual(
      Array(3).fill(failing.map((put) => put.sequenceNumber)));
    expect(failure).toEqual({
      requestContext: {
        requestId: invocations[2]!.requestId,
        functionArn: fn.functionArn,
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      KinesisBatchInfo: {
        shardId: failing[0]!.shardId,
        startSequenceNumber: failing[0]!.sequenceNumber,
        endSequenceNumber: failing[2]!.sequenceNumber,
        approximateArrivalOfFirstRecord: new Date(invocations[0]!.records[0]!.kinesis.approximateArrivalTimestamp * 1000).toISOString(),
        approximateArrivalOfLastRecord: new Date(invocations[0]!.records[2]!.kinesis.approximateArrivalTimestamp * 1000).toISOString(),
        batchSize: 3,
        streamArn,
      },
    });
    expect(invocations.at(-1)!.sequenceNumbers).toEqual([next!.sequenceNumber]);
  });

  test('MaximumRecordAgeInSeconds discards records that grew too old while retrying, as RecordAgeExceeded', async () => {
    // Prepare
    const stream = uniqueStreamName('record-age');
    await kinesis.createStream(stream);
    const puts = await kinesis.put(stream, payloadRecords(4));
    const dataDir = await mappings.dataDir();
    const destination = new JsonLinesFileDestination(path.join(dataDir, 'on-failure', 'age.jsonl'));
    const { fn, invocations } = recordingFunction('record-age-consumer', () => {
      throw new Error('always failing');
    });

    // Act
    const mapping = await mappings.start({
      streamName: stream, startingPosition: 'TRIM_HORIZON', maximumRetryAttempts: -1, maximumRecordAgeInSeconds: 1,
      destinationConfig: { onFailure: destination },
    }, fn, { dataDir });
    await waitFor(async () => (await destination.readAll()).length === 1, { what: 'the expiry record' });
    const invocationsAtExpiry = invocations.length;
    await waitFor(() => mapping.metrics().shards[0]!.checkpoint === puts[3]!.sequenceNumber, { what: 'checkpoint past the expired records' });

    // Assess
    const [failure] = await destination.readAll();
    expect(failure!.requestContext.condition).toBe('RecordAgeExceeded');
    expect(failure!.KinesisBatchInfo).toMatchObject({
      startSequenceNumber: puts[0]!.sequenceNumber, endSequenceNumber: puts[3]!.sequenceNumber, batchSize: 4,
    });
    expect(invocationsAtExpiry).toBeGreaterThan(1);
    expect(invocations.length).toBe(invocationsAtExpiry);
  });

  test('a function timeout is a function error: the late result is ignored and the batch is retried', async () => {
    // Prepare
    const stream = uniqueStreamName('timeout');
    await kinesis.createStream(stream);
    const sequences = (await kinesis.put(stream, payloadRecords(2))).map((put) => put.sequenceNumber);
    const { fn, invocations } = recordingFunction('timeout-consumer', async (_event, _context, index) => {
      if (index === 0) await new Promise((resolve) => setTimeout(resolve, 500));
      return null;
    }, { timeoutSeconds: 0.2 });

    // Act
    const mapping = await mappings.start({ streamName: stream, startingPosition: 'TRIM_HORIZON' }, fn);
    await waitFor(() => mapping.metrics().shards[0]!.checkpoint === sequences[1], { what: 'the retried batch' });

    // Assess
    expect(invocations.map((invocation) => invocation.sequenceNumbers)).toEqual([sequences, sequences]);
    expect(mapping.metrics().shards[0]).toMatchObject({ functionErrors: 1, invocations: 2, recordsSucceeded: 2 });
  });
});
