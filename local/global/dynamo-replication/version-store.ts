import {
  CreateTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { ItemVersion } from '#local/global/dynamo-replication/item-change.ts';

/** Hidden from ListTables by the endpoint; Rotor's own tables never start with `rotor-replication-`. */
export const VERSIONS_TABLE = 'rotor-replication-versions';

/**
 * The write-time metadata of every replicated item (and every tombstone), kept beside the items in the region's own
 * dynalite instead of inside them, so no handler ever sees it and no write has to be rewritten to carry it.
 * The endpoint is the only writer, so a read-through cache stays exact.
 */
export class VersionStore {
  private readonly cache = new Map<string, ItemVersion | null>();

  constructor(private readonly client: DynamoDBClient) {}

  async ensureTable(): Promise<void> {
    try {
      await this.client.send(new DescribeTableCommand({ TableName: VERSIONS_TABLE }));
      return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    try {
      await this.client.send(
        new CreateTableCommand({
          TableName: VERSIONS_TABLE,
          AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (error) {
      // Another endpoint on the same dynalite created it first.
      if ((error as Error).name !== 'ResourceInUseException') throw error;
    }
    for (;;) {
      const { Table } = await this.client.send(new DescribeTableCommand({ TableName: VERSIONS_TABLE }));
      if (Table?.TableStatus === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async get(id: string): Promise<ItemVersion | undefined> {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const { Item } = await this.client.send(new GetItemCommand({ TableName: VERSIONS_TABLE, Key: { id: { S: id } }, ConsistentRead: true }));
    const version = Item ? { timeMs: Number(Item.t?.N), region: Item.r?.S ?? '', deleted: Item.d?.BOOL === true } : undefined;
    this.cache.set(id, version ?? null);
    return version;
  }

  async put(id: string, version: ItemVersion): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: VERSIONS_TABLE,
        Item: { id: { S: id }, t: { N: String(version.timeMs) }, r: { S: version.region }, d: { BOOL: version.deleted } },
      }),
    );
    this.cache.set(id, version);
  }
}
