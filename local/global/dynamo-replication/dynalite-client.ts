import { DynaliteBatchIncompleteError, DynaliteRequestError } from '#local/global/dynamo-replication/errors.ts';
import type { AttributeMap } from '#local/global/dynamo-replication/item-change.ts';
import { send } from '#local/global/dynamo-replication/wire.ts';

export type WriteRequest = { PutRequest: { Item: AttributeMap } } | { DeleteRequest: { Key: AttributeMap } };

/** One request of a BatchWriteItem, with the table it belongs to. */
export interface TableWrite {
  readonly table: string;
  readonly request: WriteRequest;
}

export interface TableDescription {
  readonly TableStatus?: string;
  readonly KeySchema?: readonly { AttributeName?: string; KeyType?: string }[];
}

/** DynamoDB's per-request limits: BatchWriteItem takes 25 puts/deletes, BatchGetItem 100 keys. */
const BATCH_WRITE_LIMIT = 25;
const BATCH_GET_LIMIT = 100;
const BATCH_ATTEMPTS = 8;

/**
 * dynalite refuses a request without an AWS4 Authorization header and an X-Amz-Date, but never checks the signature,
 * so a fixed stand-in does; signing every internal call with the SDK was a quarter of the endpoint's CPU.
 */
const FIXED_HEADERS = {
  'content-type': 'application/x-amz-json-1.0',
  authorization: 'AWS4-HMAC-SHA256 Credential=rotor-replication/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
  'x-amz-date': '20200101T000000Z',
};

/**
 * The endpoint's own calls to its region's dynalite (version store, peers' changes, key lookups): DynamoDB JSON 1.0
 * over the same keep-alive connections the forwarded client calls use, without the SDK's middleware and signing.
 */
export class DynaliteClient {
  constructor(readonly upstreamUrl: string) {}

  /** Throws DynaliteRequestError for any answer but 200. */
  async call<T>(operation: string, input: unknown): Promise<T> {
    const headers = { ...FIXED_HEADERS, 'x-amz-target': `DynamoDB_20120810.${operation}` };
    const response = await send(this.upstreamUrl, 'POST', '/', headers, Buffer.from(JSON.stringify(input)));
    const text = response.body.toString('utf8');
    let json: Record<string, unknown> | undefined;
    try {
      json = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    } catch {
      json = undefined;
    }
    if (response.status === 200 && json) return json as T;
    // `__type` is `com.amazonaws.dynamodb.v20120810#ResourceNotFoundException`; the SDK names its errors after the part behind `#`.
    const type = typeof json?.__type === 'string' ? json.__type.slice(json.__type.indexOf('#') + 1) : 'UnknownError';
    const message = json ? String(json.message ?? json.Message ?? '') : text.slice(0, 200);
    throw new DynaliteRequestError(operation, response.status, type, message);
  }

  async getItem(table: string, key: AttributeMap): Promise<AttributeMap | undefined> {
    const { Item } = await this.call<{ Item?: AttributeMap }>('GetItem', { TableName: table, Key: key, ConsistentRead: true });
    return Item;
  }

  async putItem(table: string, item: AttributeMap): Promise<void> {
    await this.call('PutItem', { TableName: table, Item: item });
  }

  async deleteItem(table: string, key: AttributeMap): Promise<void> {
    await this.call('DeleteItem', { TableName: table, Key: key });
  }

  async describeTable(table: string): Promise<TableDescription> {
    const { Table } = await this.call<{ Table?: TableDescription }>('DescribeTable', { TableName: table });
    return Table ?? {};
  }

  async createTable(input: Record<string, unknown>): Promise<void> {
    await this.call('CreateTable', input);
  }

  /**
   * Strongly consistent reads of many keys of one table, 100 per BatchGetItem, the chunks in parallel; returns the
   * items found, in no particular order.
   */
  async batchGet(table: string, keys: readonly AttributeMap[]): Promise<AttributeMap[]> {
    const chunks = chunked(keys, BATCH_GET_LIMIT);
    const found = await Promise.all(chunks.map((chunk) => this.batchGetChunk(table, chunk)));
    return found.flat();
  }

  /**
   * Puts and deletes, 25 per BatchWriteItem, the chunks in parallel; UnprocessedItems are sent again with backoff.
   * A table's key may appear only once per call (DynamoDB refuses duplicates within a batch).
   */
  async batchWrite(writes: readonly TableWrite[]): Promise<void> {
    await Promise.all(chunked(writes, BATCH_WRITE_LIMIT).map((chunk) => this.batchWriteChunk(chunk)));
  }

  private async batchWriteChunk(writes: readonly TableWrite[]): Promise<void> {
    let requestItems: Record<string, WriteRequest[]> = {};
    for (const { table, request } of writes) (requestItems[table] ??= []).push(request);
    for (let attempt = 1; ; attempt++) {
      const { UnprocessedItems } = await this.call<{ UnprocessedItems?: Record<string, WriteRequest[]> }>('BatchWriteItem', {
        RequestItems: requestItems,
      });
      if (!UnprocessedItems || Object.keys(UnprocessedItems).length === 0) return;
      if (attempt >= BATCH_ATTEMPTS) {
        throw new DynaliteBatchIncompleteError(`BatchWriteItem left items unprocessed after ${attempt} attempts`);
      }
      requestItems = UnprocessedItems;
      await backOff(attempt);
    }
  }

  private async batchGetChunk(table: string, keys: readonly AttributeMap[]): Promise<AttributeMap[]> {
    const found: AttributeMap[] = [];
    let pending: readonly AttributeMap[] = keys;
    for (let attempt = 1; ; attempt++) {
      const { Responses, UnprocessedKeys } = await this.call<{
        Responses?: Record<string, AttributeMap[]>;
        UnprocessedKeys?: Record<string, { Keys?: AttributeMap[] }>;
      }>('BatchGetItem', { RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } });
      found.push(...(Responses?.[table] ?? []));
      const unprocessed = UnprocessedKeys?.[table]?.Keys ?? [];
      if (unprocessed.length === 0) return found;
      if (attempt >= BATCH_ATTEMPTS) {
        throw new DynaliteBatchIncompleteError(`BatchGetItem left keys of ${table} unprocessed after ${attempt} attempts`);
      }
      pending = unprocessed;
      await backOff(attempt);
    }
  }
}

function chunked<T>(values: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let start = 0; start < values.length; start += size) chunks.push(values.slice(start, start + size));
  return chunks;
}

function backOff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(200, 5 * 2 ** attempt)));
}
