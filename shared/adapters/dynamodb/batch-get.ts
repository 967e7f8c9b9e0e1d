import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** BatchGetItem's limit on keys per request. */
const BATCH_GET_LIMIT = 100;

export interface BatchGetOptions {
  /** Attributes to read (`#id` stands for `id`); all when omitted. */
  readonly projection?: string;
}

/**
 * Strongly consistent reads of many items by `id`, a hundred keys per request, re-asking for the keys DynamoDB left
 * unprocessed with a growing pause. Returns the items found, by id; missing ids are simply absent.
 */
export async function batchGetById(
  documents: DynamoDBDocumentClient,
  table: string,
  ids: readonly string[],
  { projection }: BatchGetOptions = {},
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  const unique = [...new Set(ids)];
  const projected = projection ? { ProjectionExpression: projection, ExpressionAttributeNames: { '#id': 'id' } } : {};
  for (let start = 0; start < unique.length; start += BATCH_GET_LIMIT) {
    let keys: Record<string, unknown>[] | undefined = unique.slice(start, start + BATCH_GET_LIMIT).map((id) => ({ id }));
    for (let attempt = 0; keys && keys.length > 0; attempt += 1) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * 2 ** attempt)));
      const response: BatchGetCommandOutput = await documents.send(
        new BatchGetCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true, ...projected } } }),
      );
      for (const item of response.Responses?.[table] ?? []) found.set(String(item.id), item);
      keys = response.UnprocessedKeys?.[table]?.Keys;
    }
  }
  return found;
}
