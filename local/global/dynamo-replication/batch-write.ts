import { itemId, keyOf, type AttributeMap, type ReplicatedTable } from '#local/global/dynamo-replication/item-change.ts';
import type { AcceptedWrite, ReplicatedWrites } from '#local/global/dynamo-replication/replicated-writes.ts';
import { forward, jsonResponse, type WireRequest, type WireResponse } from '#local/global/dynamo-replication/wire.ts';

type WriteRequest = { PutRequest?: { Item: AttributeMap }; DeleteRequest?: { Key: AttributeMap } };
type BatchWriteBody = { RequestItems?: Record<string, WriteRequest[]> };
type BatchWriteResult = { UnprocessedItems?: Record<string, WriteRequest[]> };

interface ReplicatedRequest {
  readonly table: ReplicatedTable;
  readonly id: string;
  readonly key: AttributeMap;
  readonly request: WriteRequest;
}

/**
 * BatchWriteItem: every item dynalite processed is committed to replication like a single write. Items of sync
 * tables whose peers did not confirm are rolled back and handed back in UnprocessedItems, which is how DynamoDB
 * tells a batch caller "not written, send again".
 */
export async function handleBatchWrite(writes: ReplicatedWrites, upstreamUrl: string, wire: WireRequest): Promise<WireResponse> {
  const body = JSON.parse(wire.body.toString('utf8')) as BatchWriteBody;
  const replicated: ReplicatedRequest[] = [];
  const keyNamesByTable = new Map<string, readonly string[]>();
  for (const [tableName, requests] of Object.entries(body.RequestItems ?? {})) {
    const table = writes.replicatedTable(tableName);
    const keyNames = table && (await writes.keyNames(table.name));
    if (!table || !keyNames) continue;
    keyNamesByTable.set(table.name, keyNames);
    for (const request of requests) {
      const key = request.PutRequest ? keyOf(request.PutRequest.Item, keyNames) : (request.DeleteRequest?.Key ?? {});
      replicated.push({ table, id: itemId(table.name, key), key, request });
    }
  }
  if (replicated.length === 0) return forward(upstreamUrl, wire);

  return writes.withWriteLocks(
    replicated.map(({ id }) => id),
    replicated.filter(({ table }) => table.mode === 'sync').map(({ id }) => id),
    async () => {
      const [previous, oldImages] = await Promise.all([
        writes.versionsOf(replicated.map(({ id }) => id)),
        Promise.all(replicated.map(({ table, key }) => (table.mode === 'sync' ? writes.readItem(table.name, key) : undefined))),
      ]);
      const before = new Map<string, Pick<AcceptedWrite, 'previous' | 'oldImage'>>();
      replicated.forEach(({ id }, index) => before.set(id, { previous: previous.get(id), oldImage: oldImages[index] }));
      const response = await forward(upstreamUrl, wire);
      if (response.status !== 200) return response;
      const result = JSON.parse(response.body.toString('utf8')) as BatchWriteResult;
      const unprocessed = unprocessedIds(result, keyNamesByTable);
      const accepted: AcceptedWrite[] = replicated
        .filter(({ id }) => !unprocessed.has(id))
        .map(({ table, id, key, request }) => ({
          table,
          id,
          key,
          image: request.PutRequest?.Item,
          previous: before.get(id)?.previous,
          oldImage: before.get(id)?.oldImage,
        }));
      const outcomes = await writes.commit(accepted);
      const rolledBack = replicated.filter(({ id }) => outcomes.get(id)?.committed === false);
      if (rolledBack.length === 0) return response;
      const unprocessedItems = { ...result.UnprocessedItems };
      for (const { table, request } of rolledBack) (unprocessedItems[table.name] ??= []).push(request);
      return jsonResponse(response, { ...result, UnprocessedItems: unprocessedItems });
    },
  );
}

function unprocessedIds(result: BatchWriteResult, keyNamesByTable: ReadonlyMap<string, readonly string[]>): Set<string> {
  const ids = new Set<string>();
  for (const [tableName, requests] of Object.entries(result.UnprocessedItems ?? {})) {
    const keyNames = keyNamesByTable.get(tableName);
    if (!keyNames) continue;
    for (const request of requests) {
      const key = request.PutRequest ? keyOf(request.PutRequest.Item, keyNames) : (request.DeleteRequest?.Key ?? {});
      ids.add(itemId(tableName, key));
    }
  }
  return ids;
}
