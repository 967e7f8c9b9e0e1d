import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { ASYNC_TABLE, EAST, startTwoRegionTwin, SYNC_TABLE, WEST, type TwoRegionTwin } from '#tests/support/dynamo-global-twin.ts';
import { waitFor } from '#tests/support/wait.ts';

let twin: TwoRegionTwin | undefined;

afterEach(async () => {
  await twin?.close();
  twin = undefined;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('DynamoDB global tables, multi-Region eventual consistency (async tables)', () => {
  it('replicates a put to the other region after the replication lag, and not before (ReplicationLatency ≈ lag)', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 600 });
    const { east, west } = twin;
    const key = { pk: 'TRADE#1', sk: 'LEG#A' };

    // Act
    await east.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: { ...key, status: 'RECEIVED' } }));
    const writtenAt = Date.now();
    await sleep(200);
    const beforeLag = await twin.item(west, ASYNC_TABLE, key);
    await waitFor(async () => (await twin!.item(west, ASYNC_TABLE, key)) !== undefined, { what: 'the put in us-west-2' });
    const arrivedAfterMs = Date.now() - writtenAt;

    // Assess
    expect(beforeLag).toBeUndefined();
    expect(await twin.item(west, ASYNC_TABLE, key)).toEqual({ ...key, status: 'RECEIVED' });
    expect(arrivedAfterMs).toBeGreaterThanOrEqual(550);
    const link = twin.globalTables.metrics().links.find((candidate) => candidate.from === EAST && candidate.to === WEST)!;
    expect(link.tables[ASYNC_TABLE]?.replicationLatencyMs.count).toBe(1);
    expect(link.tables[ASYNC_TABLE]?.replicationLatencyMs.lastMs).toBeGreaterThanOrEqual(600);
    expect(link.backlog).toBe(0);
  });

  it('replicates updates (whatever ReturnValues the caller asked for) and deletes', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const { east, west } = twin;
    const key = { pk: 'TRADE#2', sk: 'LEG#A' };
    await east.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: { ...key, fills: 1, status: 'RECEIVED' } }));

    // Act
    const silent = await east.documents.send(new UpdateCommand({ TableName: ASYNC_TABLE, Key: key, UpdateExpression: 'SET fills = fills + :one', ExpressionAttributeValues: { ':one': 1 } }));
    const updatedNew = await east.documents.send(
      new UpdateCommand({ TableName: ASYNC_TABLE, Key: key, UpdateExpression: 'SET #s = :s', ExpressionAttributeNames: { '#s': 'status' }, ExpressionAttributeValues: { ':s': 'MATCHED' }, ReturnValues: 'UPDATED_NEW' }),
    );
    await waitFor(async () => (await twin!.item(west, ASYNC_TABLE, key))?.status === 'MATCHED', { what: 'the update in us-west-2' });
    const replicatedUpdate = await twin.item(west, ASYNC_TABLE, key);
    await west.documents.send(new DeleteCommand({ TableName: ASYNC_TABLE, Key: key }));
    await waitFor(async () => (await twin!.item(east, ASYNC_TABLE, key)) === undefined, { what: 'the delete in us-east-1' });

    // Assess
    expect(silent.Attributes).toBeUndefined();
    expect(updatedNew.Attributes).toEqual({ status: 'MATCHED' });
    expect(replicatedUpdate).toEqual({ ...key, fills: 2, status: 'MATCHED' });
    expect(await twin.item(east, ASYNC_TABLE, key)).toBeUndefined();
    expect(await twin.item(west, ASYNC_TABLE, key)).toBeUndefined();
  });

  it('replicates BatchWriteItem puts and deletes', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const { east, west } = twin;
    await east.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: { pk: 'TRADE#3', sk: 'OLD' } }));

    // Act
    await east.documents.send(
      new BatchWriteCommand({
        RequestItems: {
          [ASYNC_TABLE]: [
            { PutRequest: { Item: { pk: 'TRADE#3', sk: 'LEG#A', qty: 100 } } },
            { PutRequest: { Item: { pk: 'TRADE#3', sk: 'LEG#B', qty: 100 } } },
            { DeleteRequest: { Key: { pk: 'TRADE#3', sk: 'OLD' } } },
          ],
        },
      }),
    );
    await twin.drained();

    // Assess
    const { Items } = await west.documents.send(new QueryCommand({ TableName: ASYNC_TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'TRADE#3' } }));
    expect(Items).toEqual([
      { pk: 'TRADE#3', sk: 'LEG#A', qty: 100 },
      { pk: 'TRADE#3', sk: 'LEG#B', qty: 100 },
    ]);
  });

  it('converges concurrent writes to one item in both regions on the later write (last writer wins)', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 300 });
    const { east, west } = twin;
    const key = { pk: 'TRADE#4', sk: 'LEG#A' };

    // Act: both regions write before either sees the other's write; west writes last
    await east.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: { ...key, writer: EAST } }));
    await sleep(15);
    await west.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: { ...key, writer: WEST } }));
    const beforeReplication = [await twin.item(east, ASYNC_TABLE, key), await twin.item(west, ASYNC_TABLE, key)];
    await twin.drained();

    // Assess
    expect(beforeReplication.map((item) => item?.writer)).toEqual([EAST, WEST]);
    expect(await twin.item(east, ASYNC_TABLE, key)).toEqual({ ...key, writer: WEST });
    expect(await twin.item(west, ASYNC_TABLE, key)).toEqual({ ...key, writer: WEST });
    const toWest = twin.globalTables.link(EAST, WEST).metrics();
    expect(toWest.superseded).toBe(1);
  });

  it('breaks a write-time tie the same way in every region: the greater region name wins', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const { east, west, globalTables } = twin;
    const key = { pk: { S: 'TRADE#5' }, sk: { S: 'LEG#A' } };
    const at = Date.now();
    const fromEast = { seq: 1, table: ASYNC_TABLE, key, image: { ...key, writer: { S: EAST } }, writeTimeMs: at, originRegion: EAST, loggedAtMs: at };
    const fromWest = { ...fromEast, image: { ...key, writer: { S: WEST } }, originRegion: WEST };

    // Act: the two regions receive the tied writes in opposite orders
    await globalTables.endpoint(EAST)!.applyReplicated([fromEast, fromWest]);
    await globalTables.endpoint(WEST)!.applyReplicated([fromWest, fromEast]);

    // Assess
    expect((await twin.item(east, ASYNC_TABLE, { pk: 'TRADE#5', sk: 'LEG#A' }))?.writer).toBe(WEST);
    expect((await twin.item(west, ASYNC_TABLE, { pk: 'TRADE#5', sk: 'LEG#A' }))?.writer).toBe(WEST);
  });

  it('keeps a tombstone, so an older put arriving late does not resurrect a deleted item', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const { east, west, globalTables } = twin;
    const key = { pk: 'TRADE#6', sk: 'LEG#A' };
    globalTables.pause(WEST, EAST);

    // Act: west puts, east deletes later, then west's older put reaches east
    await west.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: { ...key, status: 'RECEIVED' } }));
    await sleep(10);
    await east.documents.send(new DeleteCommand({ TableName: ASYNC_TABLE, Key: key }));
    globalTables.resume(WEST, EAST);
    await twin.drained();

    // Assess
    expect(await twin.item(east, ASYNC_TABLE, key)).toBeUndefined();
    expect(await twin.item(west, ASYNC_TABLE, key)).toBeUndefined();
    expect(globalTables.link(WEST, EAST).metrics().superseded).toBe(1);
  });

  it('evaluates conditional writes (attribute_not_exists) against the local replica only, as MREC does', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 500 });
    const { east, west, globalTables } = twin;
    const key = { pk: 'TRADE#7', sk: 'LEG#A' };
    const putIfAbsent = (writer: string) =>
      new PutCommand({ TableName: ASYNC_TABLE, Item: { ...key, writer }, ConditionExpression: 'attribute_not_exists(pk)' });

    // Act
    await east.documents.send(putIfAbsent(EAST));
    const duplicateInEast = await east.documents.send(putIfAbsent(EAST)).catch((error: Error) => error);
    const loggedAfterRejection = globalTables.metrics().endpoints[EAST]?.logged;
    // West has not received east's item yet, so its own condition holds there.
    await west.documents.send(putIfAbsent(WEST));
    await twin.drained();

    // Assess
    expect((duplicateInEast as Error).name).toBe('ConditionalCheckFailedException');
    expect(loggedAfterRejection).toBe(1);
    expect(await twin.item(east, ASYNC_TABLE, key)).toEqual({ ...key, writer: WEST });
    expect(await twin.item(west, ASYNC_TABLE, key)).toEqual({ ...key, writer: WEST });
  });

  it('never shows replication metadata to handlers: items, queries and table lists are as written', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const { east, west } = twin;
    const written = { pk: 'TRADE#8', sk: 'LEG#A', qty: 100, price: '101.25', tags: ['fx'] };

    // Act
    await east.documents.send(new PutCommand({ TableName: ASYNC_TABLE, Item: written }));
    await west.documents.send(new UpdateCommand({ TableName: ASYNC_TABLE, Key: { pk: 'TRADE#8', sk: 'LEG#B' }, UpdateExpression: 'SET qty = :q', ExpressionAttributeValues: { ':q': 5 } }));
    await east.documents.send(new DeleteCommand({ TableName: ASYNC_TABLE, Key: { pk: 'TRADE#8', sk: 'GONE' } }));
    await twin.drained();
    const results = [];
    for (const region of [east, west]) {
      const { Items } = await region.documents.send(new QueryCommand({ TableName: ASYNC_TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'TRADE#8' } }));
      results.push({ get: await twin.item(region, ASYNC_TABLE, { pk: 'TRADE#8', sk: 'LEG#A' }), query: Items, tables: (await region.client.send(new ListTablesCommand({}))).TableNames });
    }

    // Assess
    for (const result of results) {
      expect(result.get).toEqual(written);
      expect(result.query).toEqual([written, { pk: 'TRADE#8', sk: 'LEG#B', qty: 5 }]);
      expect(JSON.stringify(result)).not.toContain('aws:rep');
      expect(result.tables).toEqual([ASYNC_TABLE, SYNC_TABLE].sort());
    }
  });
});
