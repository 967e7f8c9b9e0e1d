import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { DynaliteClient } from '#local/global/dynamo-replication/dynalite-client.ts';
import { DynaliteRequestError } from '#local/global/dynamo-replication/errors.ts';
import type { AttributeMap, ItemChange } from '#local/global/dynamo-replication/item-change.ts';
import { ASYNC_TABLE, EAST, startTwoRegionTwin, WEST, type TwoRegionTwin } from '#tests/support/dynamo-global-twin.ts';

let twin: TwoRegionTwin | undefined;

afterEach(async () => {
  await twin?.close();
  twin = undefined;
});

const T0 = 1_700_000_000_000;

function change(pk: string, sk: string, writeTimeMs: number, image?: Record<string, string>): ItemChange {
  const key: AttributeMap = { pk: { S: pk }, sk: { S: sk } };
  const item = image && { ...key, ...Object.fromEntries(Object.entries(image).map(([name, value]) => [name, { S: value }])) };
  return { seq: 0, table: ASYNC_TABLE, key, ...(item ? { image: item } : {}), writeTimeMs, originRegion: EAST, loggedAtMs: writeTimeMs };
}

describe('DynamoDB global tables, batched application of a peer\'s changes', () => {
  it('writes only the newest of several changes to one item in a call and counts the others superseded', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const west = twin.globalTables.endpoint(WEST)!;
    await west.applyReplicated([change('TRADE#1', 'LEG#C', T0 + 5_000, { writer: 'already-newer' })]);

    // Act: out of order within the call, a delete as the newest change, and a change older than what west holds
    const result = await west.applyReplicated([
      change('TRADE#1', 'LEG#A', T0 + 1_000, { status: 'RECEIVED' }),
      change('TRADE#1', 'LEG#A', T0 + 3_000, { status: 'SETTLED' }),
      change('TRADE#1', 'LEG#A', T0 + 2_000, { status: 'MATCHED' }),
      change('TRADE#1', 'LEG#B', T0 + 1_000, { status: 'RECEIVED' }),
      change('TRADE#1', 'LEG#B', T0 + 2_000),
      change('TRADE#1', 'LEG#C', T0 + 4_000, { writer: 'older' }),
    ]);

    // Assess
    expect(result).toEqual({ applied: 2, superseded: 4 });
    expect(await twin.item(twin.west, ASYNC_TABLE, { pk: 'TRADE#1', sk: 'LEG#A' })).toEqual({ pk: 'TRADE#1', sk: 'LEG#A', status: 'SETTLED' });
    expect(await twin.item(twin.west, ASYNC_TABLE, { pk: 'TRADE#1', sk: 'LEG#B' })).toBeUndefined();
    expect(await twin.item(twin.west, ASYNC_TABLE, { pk: 'TRADE#1', sk: 'LEG#C' })).toEqual({ pk: 'TRADE#1', sk: 'LEG#C', writer: 'already-newer' });
    expect(twin.globalTables.metrics().endpoints[WEST]).toMatchObject({ applied: 3, superseded: 4 });
  });

  it('applies a call of more changes than one BatchWriteItem takes, and keeps their versions across a restart', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const { globalTables } = twin;
    const legs = Array.from({ length: 70 }, (_, index) => `LEG#${String(index).padStart(3, '0')}`);
    await globalTables.endpoint(WEST)!.applyReplicated(legs.slice(60).map((sk) => change('BULK', sk, T0, { status: 'STALE' })));
    const changes = legs.map((sk, index) => (index >= 65 ? change('BULK', sk, T0 + 1_000) : change('BULK', sk, T0 + 1_000, { status: `FILL-${index}` })));

    // Act
    const first = await globalTables.endpoint(WEST)!.applyReplicated(changes);
    await globalTables.stopRegion(WEST);
    await globalTables.startRegion(WEST);
    const again = await globalTables.endpoint(WEST)!.applyReplicated(changes);

    // Assess
    expect(first).toEqual({ applied: 70, superseded: 0 });
    // A fresh endpoint has an empty cache, so this proves the versions reached the versions table.
    expect(again).toEqual({ applied: 0, superseded: 70 });
    const { Items } = await twin.west.documents.send(
      new QueryCommand({ TableName: ASYNC_TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'BULK' } }),
    );
    expect(Items).toEqual(legs.slice(0, 65).map((sk, index) => ({ pk: 'BULK', sk, status: `FILL-${index}` })));
  });

  it('reports dynalite\'s errors by their DynamoDB name', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20 });
    const client = new DynaliteClient(twin.west.dynalite.url);

    // Act
    const missing = await client.describeTable('no-such-table').catch((error: unknown) => error);
    const duplicate = await client
      .createTable({
        TableName: ASYNC_TABLE,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      })
      .catch((error: unknown) => error);

    // Assess
    expect(missing).toBeInstanceOf(DynaliteRequestError);
    expect(missing).toMatchObject({ type: 'ResourceNotFoundException', status: 400, operation: 'DescribeTable' });
    expect(duplicate).toMatchObject({ name: 'DynaliteRequestError', type: 'ResourceInUseException' });
  });
});
