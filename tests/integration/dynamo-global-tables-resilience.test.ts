import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { GlobalTables } from '#local/global/dynamo-replication/global-tables.ts';
import { createTable, handlerClients, removeRoot, startRegionDynalite, temporaryRoot } from '#tests/support/dynamo-global-regions.ts';
import { ASYNC_TABLE, EAST, startTwoRegionTwin, WEST, type TwoRegionTwin } from '#tests/support/dynamo-global-twin.ts';
import { waitFor } from '#tests/support/wait.ts';

let twin: TwoRegionTwin | undefined;

afterEach(async () => {
  await twin?.close();
  twin = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const leg = (trade: number) => ({ pk: `TRADE#${trade}`, sk: 'LEG#A' });

describe('DynamoDB global tables under replication faults', () => {
  it('accumulates backlog and ReplicationLatency while a link is paused, then catches up on resume', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const { east, west, globalTables } = twin;
    globalTables.pause(EAST, WEST);

    // Act
    for (let trade = 1; trade <= 5; trade++) await east.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: leg(trade) }));
    await sleep(400);
    const whilePaused = globalTables.link(EAST, WEST).metrics();
    const westWhilePaused = await twin.item(west, ASYNC_TABLE, leg(1));
    globalTables.resume(EAST, WEST);
    await twin.drained();
    const afterResume = globalTables.link(EAST, WEST).metrics();

    // Assess
    expect(whilePaused).toMatchObject({ state: 'paused', backlog: 5 });
    expect(whilePaused.tables[ASYNC_TABLE]?.backlog).toBe(5);
    expect(whilePaused.oldestPendingAgeMs).toBeGreaterThanOrEqual(400);
    expect(westWhilePaused).toBeUndefined();
    for (let trade = 1; trade <= 5; trade++) expect(await twin.item(west, ASYNC_TABLE, leg(trade))).toEqual(leg(trade));
    expect(afterResume).toMatchObject({ state: 'running', backlog: 0, oldestPendingAgeMs: 0, shipped: 5 });
    expect(afterResume.tables[ASYNC_TABLE]?.replicationLatencyMs.maxMs).toBeGreaterThanOrEqual(400);
  });

  it('converges after a partition heals: both sides keep their writes, the later write of a shared item wins', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const { east, west, globalTables } = twin;
    globalTables.partition(EAST, WEST);

    // Act
    await east.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: { ...leg(1), writer: EAST } }));
    await west.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: { ...leg(2), writer: WEST } }));
    await east.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: { ...leg(3), writer: EAST } }));
    await sleep(10);
    await west.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: { ...leg(3), writer: WEST } }));
    await sleep(200);
    const duringPartition = { eastHasWest: await twin.item(east, ASYNC_TABLE, leg(2)), westHasEast: await twin.item(west, ASYNC_TABLE, leg(1)) };
    const states = globalTables.metrics().links.map((link) => link.state);
    globalTables.heal(EAST, WEST);
    await twin.drained();

    // Assess
    expect(duringPartition).toEqual({ eastHasWest: undefined, westHasEast: undefined });
    expect(states).toEqual(['partitioned', 'partitioned']);
    for (const region of [east, west]) {
      expect(await twin.item(region, ASYNC_TABLE, leg(1))).toEqual({ ...leg(1), writer: EAST });
      expect(await twin.item(region, ASYNC_TABLE, leg(2))).toEqual({ ...leg(2), writer: WEST });
      expect(await twin.item(region, ASYNC_TABLE, leg(3))).toEqual({ ...leg(3), writer: WEST });
    }
  });

  it('retries while the peer region is down and catches up when it returns', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const { east, west, globalTables } = twin;
    const westUrl = globalTables.endpointUrl(WEST);
    await globalTables.stopRegion(WEST);

    // Act
    await east.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: leg(1) }));
    await sleep(300);
    const whileDown = globalTables.link(EAST, WEST).metrics();
    await globalTables.startRegion(WEST);
    await twin.drained();

    // Assess
    expect(whileDown).toMatchObject({ state: 'peer-unavailable', backlog: 1 });
    expect(globalTables.endpointUrl(WEST)).toBe(westUrl);
    expect(await twin.item(west, ASYNC_TABLE, leg(1))).toEqual(leg(1));
  });

  it('keeps acknowledged writes in the on-disk replication log across an endpoint restart, and ships them after it', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const { east, west, globalTables } = twin;
    globalTables.pause(EAST, WEST);
    const logPath = join(east.dynalite.dataDir, 'dynamo-replication', 'replication.log');

    // Act
    for (let trade = 1; trade <= 3; trade++) await east.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: leg(trade) }));
    // On disk as soon as the client has its answer: nothing depends on a graceful stop.
    const logOnAcknowledgement = await readFile(logPath, 'utf8');
    await globalTables.stopRegion(EAST);
    globalTables.resume(EAST, WEST);
    await sleep(100);
    const westWhileEastDown = await twin.item(west, ASYNC_TABLE, leg(1));
    await globalTables.startRegion(EAST);
    await twin.drained();

    // Assess
    expect(logOnAcknowledgement.trim().split('\n')).toHaveLength(3);
    expect(logOnAcknowledgement).toContain('TRADE#3');
    expect(westWhileEastDown).toBeUndefined();
    for (let trade = 1; trade <= 3; trade++) expect(await twin.item(west, ASYNC_TABLE, leg(trade))).toEqual(leg(trade));
  });

  it('resumes a link from its persisted position after a restart, without re-shipping what the peer has', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const { east, globalTables } = twin;
    await east.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: leg(1) }));
    await twin.drained();
    const appliedBeforeRestart = globalTables.metrics().endpoints[WEST]?.applied;

    // Act
    await globalTables.stopRegion(EAST);
    await globalTables.stopRegion(WEST);
    await globalTables.startRegion(EAST);
    await globalTables.startRegion(WEST);
    await east.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: leg(2) }));
    await twin.drained();
    await sleep(100);

    // Assess
    expect(appliedBeforeRestart).toBe(1);
    // The restarted west endpoint counts from zero: only the new write reached it.
    expect(globalTables.metrics().endpoints[WEST]).toMatchObject({ applied: 1, superseded: 0 });
    await waitFor(async () => (await twin!.item(twin!.west, ASYNC_TABLE, leg(2))) !== undefined, { what: 'the new write in us-west-2' });
  });

  it('replicates among three regions over a full mesh of links, converging on the last writer everywhere', async () => {
    // Prepare
    const rootDir = await temporaryRoot();
    const regions = [];
    for (const name of [EAST, WEST, 'eu-west-1']) regions.push(await startRegionDynalite(name, rootDir));
    for (const { url } of regions) await createTable(url, ASYNC_TABLE, { rangeKey: true });
    const globalTables = await GlobalTables.start({
      regions: regions.map(({ region, url, dataDir }) => ({ region, upstreamUrl: url, dataDir })),
      tables: [{ name: ASYNC_TABLE, mode: 'async' }],
      lagMs: 50,
    });
    const clients = regions.map(({ region }) => handlerClients(region, globalTables.endpointUrl(region)));
    try {
      // Act: every region writes the shared item in turn, faster than the lag, and one item of its own
      for (const [index, { documents }] of clients.entries()) {
        await documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: { ...leg(0), writer: regions[index]!.region } }));
        await documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: { ...leg(index + 1), writer: regions[index]!.region } }));
        await sleep(5);
      }
      await waitFor(() => globalTables.metrics().links.every((link) => link.backlog === 0), { what: 'six links to drain' });

      // Assess
      expect(globalTables.metrics().links).toHaveLength(6);
      for (const { documents } of clients) {
        const read = async (key: Record<string, string>) =>
          (await documents.send(new GetCommand({ TableName: ASYNC_TABLE, Key: key, ConsistentRead: true }))).Item;
        expect(await read(leg(0))).toEqual({ ...leg(0), writer: 'eu-west-1' });
        for (const [index, { region }] of regions.entries()) expect(await read(leg(index + 1))).toEqual({ ...leg(index + 1), writer: region });
      }
    } finally {
      for (const { client } of clients) client.destroy();
      await globalTables.close();
      for (const region of regions) await region.close();
      await removeRoot(rootDir);
    }
  });
});
