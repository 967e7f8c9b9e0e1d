import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { startStompBroker, type RunningStompBroker } from '#local/mq/stomp-broker.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import type { ResourceNames } from '#shared/operations/app-resources.ts';
import { drainCheck, DrainCheckRequest, DrainNotCompleteError, type DrainCheckDependencies } from '#shared/operations/drain-check.ts';
import { topology } from '#shared/topology/index.ts';
import { EAST, startSafeStoreRegions, WEST, type SafeStoreRegion, type SafeStoreRegions } from '#tests/support/safe-store-regions.ts';

const TM_STORES = ['tm-inbound-gateway-store', 'tm-ingestion-store', 'tm-matching-store', 'tm-egress-store', 'tm-outbound-gateway-store'];

/** As the twin names queues when regions share one broker: `<region>.<queue>`; tables as the manifest does. */
const regionNames = (region: string): ResourceNames => (kind, name) => (kind === 'queue' ? `${region}.${name}` : name);

describe('ops-drain-check: queues', () => {
  let dataDir: string;
  let server: RunningStompBroker;
  let broker: StompMessageBroker;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rotor-drain-check-'));
    server = await startStompBroker({ dataDir, port: 0 });
    broker = new StompMessageBroker({ url: server.url });
  });

  afterEach(async () => {
    await broker.close();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const deps = (region: string): DrainCheckDependencies => ({
    topology,
    names: regionNames(region),
    region,
    broker,
    documents: undefined as never,
  });

  test('empty inbound queues are positive evidence: drained, with each queue depth', async () => {
    // Prepare
    const request = DrainCheckRequest.parse({ check: 'queues', app: 'trade-matching', runId: 'rot-1' });

    // Act
    const result = await drainCheck(request, deps(EAST));

    // Assess
    expect(result).toEqual({ check: 'queues', app: 'trade-matching', region: EAST, drained: true, depths: { 'tm.trades': 0, 'tm.settlements': 0 } });
  });

  test('a message left on one of the app’s queues is DrainNotCompleteError listing every depth', async () => {
    // Prepare
    await broker.send(`${EAST}.tm.settlements`, '{"type":"settlement-result"}');
    await broker.send(`${EAST}.tm.settlements`, '{"type":"settlement-result","n":2}');
    const request = DrainCheckRequest.parse({ check: 'queues', app: 'trade-matching', runId: 'rot-1' });

    // Act
    const failure = await drainCheck(request, deps(EAST)).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(DrainNotCompleteError);
    expect((failure as Error).name).toBe('DrainNotCompleteError');
    expect((failure as Error).message).toContain('tm.trades=0, tm.settlements=2');
    expect((failure as DrainNotCompleteError).details.depths).toEqual({ 'tm.trades': 0, 'tm.settlements': 2 });
  });

  test('only this region’s queues of the app count: the other region’s and the other app’s do not', async () => {
    // Prepare
    await broker.send(`${WEST}.sm.settlements`, '{}');
    await broker.send(`${EAST}.tm.trades`, '{}');
    const request = DrainCheckRequest.parse({ check: 'queues', app: 'settlement', runId: 'rot-1' });

    // Act
    const result = await drainCheck(request, deps(EAST));

    // Assess
    expect(result).toEqual({ check: 'queues', app: 'settlement', region: EAST, drained: true, depths: { 'sm.settlements': 0 } });
  });

  test('a broker that cannot tell a depth is no evidence: not drained', async () => {
    // Prepare
    const blind = { ...deps(EAST), broker: { queueDepth: async () => undefined } };
    const request = DrainCheckRequest.parse({ check: 'queues', app: 'settlement', runId: 'rot-1' });

    // Act
    const failure = await drainCheck(request, blind).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(DrainNotCompleteError);
    expect((failure as Error).message).toContain('sm.settlements=unknown');
  });
});

describe('ops-drain-check: watermarks across replicated safe stores', () => {
  let regions: SafeStoreRegions;

  beforeAll(async () => {
    regions = await startSafeStoreRegions();
  }, 60_000);

  afterAll(() => regions.close());

  afterEach(() => regions.globalTables.resume());

  const deps = (region: SafeStoreRegion): DrainCheckDependencies => ({
    topology,
    names: regionNames(region.region),
    region: region.region,
    broker: { queueDepth: async () => 0 },
    documents: region.documents,
    now: () => new Date('2026-11-23T10:00:00.000Z'),
  });

  test('write puts watermark:<runId> in every safe store of the app here, and in no other app’s', async () => {
    // Prepare
    const request = DrainCheckRequest.parse({ check: 'watermark-write', app: 'trade-matching', runId: 'rot-write' });

    // Act
    const result = await drainCheck(request, deps(regions.east));

    // Assess
    expect(result).toEqual({ check: 'watermark-write', app: 'trade-matching', region: EAST, watermark: 'watermark:rot-write', tables: TM_STORES });
    for (const table of TM_STORES) {
      const { Item } = await regions.east.documents.send(new GetCommand({ TableName: table, Key: { id: 'watermark:rot-write' }, ConsistentRead: true }));
      expect(Item, table).toEqual({
        id: 'watermark:rot-write',
        kind: 'watermark',
        runId: 'rot-write',
        app: 'trade-matching',
        region: EAST,
        writtenAt: '2026-11-23T10:00:00.000Z',
      });
    }
    const { Item: elsewhere } = await regions.east.documents.send(
      new GetCommand({ TableName: 'sm-matching-store', Key: { id: 'watermark:rot-write' }, ConsistentRead: true }),
    );
    expect(elsewhere).toBeUndefined();
  });

  test('read in the other region fails while replication holds the watermark back, and passes once it arrives', async () => {
    // Prepare
    regions.globalTables.pause(EAST, WEST);
    await drainCheck(DrainCheckRequest.parse({ check: 'watermark-write', app: 'settlement', runId: 'rot-read' }), deps(regions.east));
    const read = DrainCheckRequest.parse({ check: 'watermark-read', app: 'settlement', runId: 'rot-read' });

    // Act
    const whilePaused = await drainCheck(read, deps(regions.west)).catch((error: unknown) => error);
    regions.globalTables.resume(EAST, WEST);
    await regions.replicated();
    const afterwards = await drainCheck(read, deps(regions.west));

    // Assess
    expect(whilePaused).toBeInstanceOf(DrainNotCompleteError);
    expect((whilePaused as DrainNotCompleteError).details.tablesWithoutWatermark).toEqual([
      'sm-inbound-gateway-store', 'sm-ingestion-store', 'sm-matching-store', 'sm-egress-store', 'sm-outbound-gateway-store',
    ]);
    expect(afterwards).toEqual({
      check: 'watermark-read',
      app: 'settlement',
      region: WEST,
      drained: true,
      tables: ['sm-inbound-gateway-store', 'sm-ingestion-store', 'sm-matching-store', 'sm-egress-store', 'sm-outbound-gateway-store'],
    });
  });

  test('read names exactly the tables the watermark has not reached yet', async () => {
    // Prepare: replication has brought the watermark to three of the five stores.
    regions.globalTables.pause(EAST, WEST);
    await drainCheck(DrainCheckRequest.parse({ check: 'watermark-write', app: 'trade-matching', runId: 'rot-partial' }), deps(regions.east));
    for (const table of TM_STORES.slice(0, 3)) {
      await regions.west.documents.send(new PutCommand({ TableName: table, Item: { id: 'watermark:rot-partial', kind: 'watermark' } }));
    }

    // Act
    const failure = await drainCheck(DrainCheckRequest.parse({ check: 'watermark-read', app: 'trade-matching', runId: 'rot-partial' }), deps(regions.west)).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(failure).toBeInstanceOf(DrainNotCompleteError);
    expect((failure as Error).message).toContain('missing from tm-egress-store, tm-outbound-gateway-store');
    expect((failure as DrainNotCompleteError).details.tablesWithoutWatermark).toEqual(['tm-egress-store', 'tm-outbound-gateway-store']);
  });
});
