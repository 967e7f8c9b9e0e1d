import { BatchWriteCommand, DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { EAST, startTwoRegionTwin, SYNC_TABLE, WEST, type TwoRegionTwin } from '#tests/support/dynamo-global-twin.ts';

let twin: TwoRegionTwin | undefined;

afterEach(async () => {
  await twin?.close();
  twin = undefined;
});

type ServiceError = Error & { $metadata?: { httpStatusCode?: number } };

async function failureOf(work: Promise<unknown>): Promise<ServiceError> {
  const outcome = await work.then(
    () => undefined,
    (error: ServiceError) => error,
  );
  if (!outcome) throw new Error('expected the write to fail, it was acknowledged');
  return outcome;
}

describe('DynamoDB global tables, multi-Region strong consistency (sync tables)', () => {
  it('acknowledges a write only once the peer region has applied it, and reports what the wait cost', async () => {
    // Prepare: a long async lag, so only the synchronous path can explain the item being there at once
    twin = await startTwoRegionTwin({ lagMs: 5_000 });
    const { east, west, globalTables } = twin;
    const account = { pk: 'ACCOUNT#cash-1' };

    // Act
    await east.documents.send(new PutCommand({ TableName: SYNC_TABLE, Item: { ...account, balance: 10 } }));
    const westAfterPut = await twin.item(west, SYNC_TABLE, account);
    await west.documents.send(new UpdateCommand({ TableName: SYNC_TABLE, Key: account, UpdateExpression: 'SET balance = balance + :d', ExpressionAttributeValues: { ':d': 5 } }));
    const eastAfterUpdate = await twin.item(east, SYNC_TABLE, account);
    await east.documents.send(new DeleteCommand({ TableName: SYNC_TABLE, Key: account }));
    const westAfterDelete = await twin.item(west, SYNC_TABLE, account);

    // Assess
    expect(westAfterPut).toEqual({ ...account, balance: 10 });
    expect(eastAfterUpdate).toEqual({ ...account, balance: 15 });
    expect(westAfterDelete).toBeUndefined();
    const { endpoints, links } = globalTables.metrics();
    expect(endpoints[EAST]?.syncTables[SYNC_TABLE]).toMatchObject({ committed: 2, unavailable: 0, conflicts: 0, peerWait: { count: 2 } });
    expect(endpoints[WEST]?.syncTables[SYNC_TABLE]).toMatchObject({ committed: 1, peerWait: { count: 1 } });
    expect(links.every((link) => link.backlog === 0)).toBe(true);
  });

  it('keeps accepting writes while the peer region is down (an outage, not a partition), and the peer has them once it is back', async () => {
    // Prepare: as MRSC with a witness, the survivor and the witness are a quorum
    twin = await startTwoRegionTwin({ lagMs: 20, syncTimeoutMs: 400, clientMaxAttempts: 1 });
    const { east, west, globalTables } = twin;
    const account = { pk: 'ACCOUNT#cash-2' };
    await globalTables.stopRegion(WEST);

    // Act
    await east.documents.send(new PutCommand({ TableName: SYNC_TABLE, Item: { ...account, balance: 7 } }));
    const eastWhileDown = await twin.item(east, SYNC_TABLE, account);
    await globalTables.startRegion(WEST);
    await twin.drained();

    // Assess
    expect(eastWhileDown).toEqual({ ...account, balance: 7 });
    expect(await twin.item(west, SYNC_TABLE, account)).toEqual({ ...account, balance: 7 });
    expect(globalTables.metrics().endpoints[EAST]?.syncTables[SYNC_TABLE]).toMatchObject({ committed: 1, unavailable: 0 });
  });

  it('fails a write within the sync timeout under a partition (ServiceUnavailable), leaving no trace in either region', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20, syncTimeoutMs: 400, clientMaxAttempts: 1 });
    const { east, west, globalTables } = twin;
    const existing = { pk: 'ACCOUNT#cash-1' };
    const fresh = { pk: 'ACCOUNT#cash-2' };
    await east.documents.send(new PutCommand({ TableName: SYNC_TABLE, Item: { ...existing, balance: 10 } }));
    globalTables.partition(EAST, WEST);

    // Act
    const startedAt = Date.now();
    const putFailure = await failureOf(east.documents.send(new PutCommand({ TableName: SYNC_TABLE, Item: { ...fresh, balance: 1 } })));
    const waitedMs = Date.now() - startedAt;
    const updateFailure = await failureOf(
      east.documents.send(new UpdateCommand({ TableName: SYNC_TABLE, Key: existing, UpdateExpression: 'SET balance = :b', ExpressionAttributeValues: { ':b': 99 } })),
    );
    const eastDuringPartition = [await twin.item(east, SYNC_TABLE, fresh), await twin.item(east, SYNC_TABLE, existing)];
    globalTables.heal();
    await twin.drained();

    // Assess
    expect(putFailure.name).toBe('ServiceUnavailable');
    expect(putFailure.$metadata?.httpStatusCode).toBe(503);
    expect(updateFailure.name).toBe('ServiceUnavailable');
    expect(waitedMs).toBeGreaterThanOrEqual(400);
    expect(waitedMs).toBeLessThan(2_000);
    expect(eastDuringPartition).toEqual([undefined, { ...existing, balance: 10 }]);
    for (const region of [east, west]) {
      expect(await twin.item(region, SYNC_TABLE, fresh)).toBeUndefined();
      expect(await twin.item(region, SYNC_TABLE, existing)).toEqual({ ...existing, balance: 10 });
    }
    expect(globalTables.metrics().endpoints[EAST]?.syncTables[SYNC_TABLE]).toMatchObject({ committed: 1, unavailable: 2 });
  });

  it('refuses a write to an item the other region is writing (ReplicatedWriteConflictException), rolling both back', async () => {
    // Prepare: west's write holds the item while it waits on a paused link to east
    twin = await startTwoRegionTwin({ lagMs: 20, syncTimeoutMs: 800, clientMaxAttempts: 1 });
    const { east, west, globalTables } = twin;
    const account = { pk: 'ACCOUNT#cash-3' };
    globalTables.pause(WEST, EAST);

    // Act
    const westWrite = failureOf(west.documents.send(new PutCommand({ TableName: SYNC_TABLE, Item: { ...account, writer: WEST } })));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const eastFailure = await failureOf(east.documents.send(new PutCommand({ TableName: SYNC_TABLE, Item: { ...account, writer: EAST } })));
    const westFailure = await westWrite;
    globalTables.resume(WEST, EAST);
    await twin.drained();

    // Assess
    expect(eastFailure.name).toBe('ReplicatedWriteConflictException');
    expect(eastFailure.$metadata?.httpStatusCode).toBe(400);
    expect(westFailure.name).toBe('ServiceUnavailable');
    expect(await twin.item(east, SYNC_TABLE, account)).toBeUndefined();
    expect(await twin.item(west, SYNC_TABLE, account)).toBeUndefined();
    expect(globalTables.metrics().endpoints[EAST]?.syncTables[SYNC_TABLE]).toMatchObject({ conflicts: 1 });
  });

  it('hands a batch write the peer did not confirm back as UnprocessedItems, and does not keep it', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20, syncTimeoutMs: 300 });
    const { east, west, globalTables } = twin;
    globalTables.partition(EAST, WEST);
    const request = { PutRequest: { Item: { pk: 'ACCOUNT#cash-4', balance: 3 } } };

    // Act
    const result = await east.documents.send(new BatchWriteCommand({ RequestItems: { [SYNC_TABLE]: [request] } }));
    globalTables.heal();
    await twin.drained();

    // Assess
    expect(result.UnprocessedItems).toEqual({ [SYNC_TABLE]: [request] });
    expect(await twin.item(east, SYNC_TABLE, { pk: 'ACCOUNT#cash-4' })).toBeUndefined();
    expect(await twin.item(west, SYNC_TABLE, { pk: 'ACCOUNT#cash-4' })).toBeUndefined();
  });

  it('never shows a key read in the origin region a write its peers have not confirmed', async () => {
    // Prepare
    twin = await startTwoRegionTwin({ lagMs: 20, syncTimeoutMs: 400, clientMaxAttempts: 1 });
    const { east, globalTables } = twin;
    const account = { pk: 'ACCOUNT#cash-5' };
    await east.documents.send(new PutCommand({ TableName: SYNC_TABLE, Item: { ...account, balance: 10 } }));
    globalTables.partition(EAST, WEST);

    // Act: read while the update waits for its (unreachable) peer
    const update = failureOf(east.documents.send(new UpdateCommand({ TableName: SYNC_TABLE, Key: account, UpdateExpression: 'SET balance = :b', ExpressionAttributeValues: { ':b': 99 } })));
    await new Promise((resolve) => setTimeout(resolve, 100));
    const readDuringWrite = await twin.item(east, SYNC_TABLE, account);
    const updateFailure = await update;

    // Assess
    expect(updateFailure.name).toBe('ServiceUnavailable');
    expect(readDuringWrite).toEqual({ ...account, balance: 10 });
  });
});
