import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException as TableInUseException,
  type AttributeDefinition,
  type DynamoDBClient,
  type KeySchemaElement,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  IncreaseStreamRetentionPeriodCommand,
  ResourceInUseException as StreamInUseException,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import type { StreamSpec, TableSpec } from '#shared/topology/schema.ts';
import { ProvisioningError } from '#local/region/errors.ts';

/**
 * Creates the manifest's streams and tables in the region's emulators. Idempotent: a region restarted on its data
 * directory finds them already there and only waits until they are usable.
 */

const ACTIVE_TIMEOUT_MS = 10_000;
const POLL_MS = 20;

async function waitUntil(what: string, isReady: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  while (!(await isReady())) {
    if (Date.now() > deadline) throw new ProvisioningError(`${what} did not become ACTIVE within ${ACTIVE_TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export async function ensureStream(kinesis: KinesisClient, stream: StreamSpec): Promise<void> {
  try {
    await kinesis.send(new CreateStreamCommand({ StreamName: stream.name, ShardCount: stream.shards }));
  } catch (error) {
    if (!(error instanceof StreamInUseException)) throw error;
  }
  let retentionHours = 24;
  await waitUntil(`stream ${stream.name}`, async () => {
    const { StreamDescriptionSummary: summary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream.name }));
    retentionHours = summary?.RetentionPeriodHours ?? retentionHours;
    return summary?.StreamStatus === 'ACTIVE';
  });
  if (stream.retentionHours > retentionHours) {
    await kinesis.send(new IncreaseStreamRetentionPeriodCommand({ StreamName: stream.name, RetentionPeriodHours: stream.retentionHours }));
    await waitUntil(`stream ${stream.name} retention`, async () => {
      const { StreamDescriptionSummary: summary } = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream.name }));
      return summary?.StreamStatus === 'ACTIVE';
    });
  }
}

/**
 * Tables are created on demand (PAY_PER_REQUEST) with the manifest's key. `ttlAttribute` is not applied:
 * dynalite has no UpdateTimeToLive, so items never expire in the twin (the attribute is still written).
 */
export async function ensureTable(dynamodb: DynamoDBClient, table: TableSpec): Promise<void> {
  const keySchema: KeySchemaElement[] = [{ AttributeName: table.hashKey, KeyType: 'HASH' }];
  const attributes: AttributeDefinition[] = [{ AttributeName: table.hashKey, AttributeType: 'S' }];
  if (table.rangeKey) {
    keySchema.push({ AttributeName: table.rangeKey, KeyType: 'RANGE' });
    attributes.push({ AttributeName: table.rangeKey, AttributeType: 'S' });
  }
  try {
    await dynamodb.send(new CreateTableCommand({
      TableName: table.name,
      KeySchema: keySchema,
      AttributeDefinitions: attributes,
      BillingMode: 'PAY_PER_REQUEST',
    }));
  } catch (error) {
    if (!(error instanceof TableInUseException)) throw error;
  }
  await waitUntil(`table ${table.name}`, async () => {
    const { Table: description } = await dynamodb.send(new DescribeTableCommand({ TableName: table.name }));
    return description?.TableStatus === 'ACTIVE';
  });
}
