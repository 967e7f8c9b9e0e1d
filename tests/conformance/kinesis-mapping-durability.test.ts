import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { decodePayload, payloadRecords } from '#tests/factories/kinesis-records.ts';
import { startKinesalite, type KinesaliteHarness } from '#tests/support/kinesalite.ts';
import { bySequence, MappingFixture, recordingFunction, uniqueStreamName } from '#tests/support/kinesis-mapping-harness.ts';
import { waitFor } from '#tests/support/wait.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD_SCRIPT = fileURLToPath(new URL('../support/kinesis-mapping-child.ts', import.meta.url));

let kinesis: KinesaliteHarness;
let mappings: MappingFixture;

beforeAll(async () => {
  kinesis = await startKinesalite();
  mappings = new MappingFixture(kinesis);
});
afterEach(async () => mappings.cleanup());
afterAll(async () => kinesis.close());

async function savedCheckpoint(checkpointFile: string, shardId: string): Promise<string | undefined> {
  const saved = JSON.parse(await readFile(checkpointFile, 'utf8')) as { shards: Record<string, { sequenceNumber?: string }> };
  return saved.shards[shardId]?.sequenceNumber;
}

describe('Kinesis event-source mapping: concurrency and durability', () => {
  test('ParallelizationFactor 4 runs concurrent batches per shard yet keeps each partition key in order', async () => {
    // Prepare
    const stream = uniqueStreamName('parallel');
    await kinesis.createStream(stream, 2);
    const puts = await kinesis.put(stream, payloadRecords(400, { keys: 40 }));
    let running = 0;
    let mostConcurrent = 0;
    const seenPerKey = new Map<string, number[]>();
    const { fn, sequenceNumbers } = recordingFunction('parallel-consumer', async (event) => {
      running += 1;
      mostConcurrent = Math.max(mostConcurrent, running);
      for (const record of event.Records) {
        const { key, n } = decodePayload(record);
        seenPerKey.set(key, [...(seenPerKey.get(key) ?? []), n]);
      }
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 15));
      running -= 1;
    });

    // Act
    await mappings.start({ streamName: stream, startingPosition: 'TRIM_HORIZON', batchSize: 5, parallelizationFactor: 4 }, fn);
    await waitFor(() => sequenceNumbers().length === 400, { what: 'all 400 records', timeoutMs: 20_000 });

    // Assess
    expect(new Set(sequenceNumbers()).size).toBe(400);
    expect(seenPerKey.size).toBe(40);
    for (const [key, positions] of seenPerKey) {
      expect(positions, `order of ${key}`).toEqual(Array.from({ length: positions.length }, (_, n) => n));
    }
    // Two shards alone give 2; more proves batches of one shard ran side by side.
    expect(mostConcurrent).toBeGreaterThan(2);
    expect(new Set(puts.map((put) => put.shardId)).size).toBe(2);
  });

  test('IteratorAge reports how far behind the newest record a shard is, and 0 once caught up', async () => {
    // Prepare
    const stream = uniqueStreamName('iterator-age');
    await kinesis.createStream(stream);
    const [put] = await kinesis.put(stream, payloadRecords(1));
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => { release = resolve; });
    const { fn } = recordingFunction('iterator-age-consumer', () => held);
    const mapping = await mappings.start({ streamName: stream, startingPosition: 'TRIM_HORIZON' }, fn);

    // Act
    await waitFor(() => mapping.metrics().shards[0]!.inFlightBatches === 1, { what: 'the held batch' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    const ageWhileHeld = mapping.iteratorAges()[put!.shardId]!;
    release();
    await waitFor(() => mapping.metrics().shards[0]!.checkpoint === put!.sequenceNumber, { what: 'the checkpoint' });

    // Assess
    expect(ageWhileHeld).toBeGreaterThanOrEqual(200);
    expect(mapping.iteratorAges()).toEqual({ [put!.shardId]: 0 });
    expect(mapping.metrics().maxIteratorAgeMs).toBe(0);
  });

  test('a restarted mapping resumes after its checkpoint: nothing checkpointed is redone, nothing is skipped', async () => {
    // Prepare
    const stream = uniqueStreamName('restart');
    await kinesis.createStream(stream);
    const puts = await kinesis.put(stream, payloadRecords(60));
    const dataDir = await mappings.dataDir();
    const slow = () => new Promise((resolve) => setTimeout(resolve, 20));
    const first = recordingFunction('restart-consumer', slow);
    const second = recordingFunction('restart-consumer', slow);
    const config = { streamName: stream, startingPosition: 'TRIM_HORIZON' as const, batchSize: 5 };
    const firstMapping = await mappings.start(config, first.fn, { dataDir });
    await waitFor(() => first.sequenceNumbers().length >= 15, { what: 'part of the stream' });

    // Act
    await firstMapping.stop();
    const checkpoint = await savedCheckpoint(firstMapping.checkpointFile, puts[0]!.shardId);
    await mappings.start(config, second.fn, { dataDir });
    await waitFor(() => first.sequenceNumbers().length + second.sequenceNumbers().length >= 60, { what: 'the rest' });

    // Assess
    const all = puts.map((put) => put.sequenceNumber);
    const cut = all.indexOf(checkpoint!) + 1;
    expect(cut).toBeGreaterThanOrEqual(15);
    expect(cut).toBeLessThan(60);
    expect(first.sequenceNumbers()).toEqual(all.slice(0, cut));
    expect(second.sequenceNumbers()).toEqual(all.slice(cut));
  });

  test('a LATEST mapping restarted before its first checkpoint keeps its start position: no earlier record, no gap', async () => {
    // Prepare
    const stream = uniqueStreamName('latest-restart');
    await kinesis.createStream(stream);
    await kinesis.put(stream, payloadRecords(3, { label: 'before-start' }));
    const dataDir = await mappings.dataDir();
    const config = { streamName: stream, startingPosition: 'LATEST' as const };
    const first = recordingFunction('latest-restart-consumer');
    const firstMapping = await mappings.start(config, first.fn, { dataDir });
    await firstMapping.stop();

    // Act
    const whileStopped = await kinesis.put(stream, payloadRecords(2, { label: 'while-stopped' }));
    const restarted = recordingFunction('latest-restart-consumer');
    await mappings.start(config, restarted.fn, { dataDir });
    const afterRestart = await kinesis.put(stream, payloadRecords(1, { label: 'after-restart' }));
    await waitFor(() => restarted.sequenceNumbers().length >= 3, { what: 'the records since the first start' });

    // Assess
    expect(first.invocations).toHaveLength(0);
    expect(restarted.sequenceNumbers()).toEqual([...whileStopped, ...afterRestart].map((put) => put.sequenceNumber));
  });

  test('after SIGKILL mid-stream a restart processes every record at least once, repeating only uncheckpointed ones', async () => {
    // Prepare
    const stream = uniqueStreamName('sigkill');
    await kinesis.createStream(stream);
    const puts = await kinesis.put(stream, payloadRecords(200));
    const all = puts.map((put) => put.sequenceNumber);
    const dataDir = await mappings.dataDir();
    const processedLog = path.join(dataDir, 'processed-before-kill.log');
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT], {
      cwd: REPOSITORY_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', KINESIS_ENDPOINT: kinesis.endpoint,
        STREAM_NAME: stream, DATA_DIR: dataDir, MAPPING_ID: 'crash', PROCESSED_LOG: processedLog,
      },
    });
    let childOutput = '';
    child.stdout.on('data', (chunk) => { childOutput += chunk; });
    child.stderr.on('data', (chunk) => { childOutput += chunk; });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const processedBeforeKill = async () => (await readFile(processedLog, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    await waitFor(async () => (await processedBeforeKill()).length >= 60, { what: `the child to process 60 records (${childOutput})`, timeoutMs: 20_000 });

    // Act
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const before = await processedBeforeKill();
    const checkpoint = await savedCheckpoint(path.join(dataDir, 'event-source-mappings', 'crash', 'checkpoints.json'), puts[0]!.shardId);
    const restarted = recordingFunction('crash-consumer');
    await mappings.start({ streamName: stream, startingPosition: 'TRIM_HORIZON', batchSize: 5 }, restarted.fn, { dataDir, mappingId: 'crash' });
    await waitFor(() => restarted.sequenceNumbers().at(-1) === all.at(-1), { what: 'the restart to reach the end' });

    // Assess
    const after = restarted.sequenceNumbers();
    const cut = all.indexOf(checkpoint!) + 1;
    expect(before.length).toBeLessThan(200);
    expect(new Set([...before, ...after]).size).toBe(200);
    expect(before.slice(0, cut)).toEqual(all.slice(0, cut));
    expect(after).toEqual(all.slice(cut));
    const repeated = after.filter((sequenceNumber) => before.includes(sequenceNumber));
    expect(repeated.every((sequenceNumber) => bySequence(sequenceNumber, checkpoint!) > 0)).toBe(true);
  });
});
