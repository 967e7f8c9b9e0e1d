import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Producing to and judging the demo chain (`demo-in` → relay → `demo-out` → recorder → `demo-results`). */

const credentials = { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' };

export interface DemoClients {
  kinesis: KinesisClient;
  documents: DynamoDBDocumentClient;
  destroy(): void;
}

export function demoClients(endpoints: { kinesis: string; dynamodb: string }, region = 'us-east-1'): DemoClients {
  const kinesis = new KinesisClient({ region, credentials, endpoint: endpoints.kinesis, requestHandler: new NodeHttpHandler() });
  const dynamodb = new DynamoDBClient({ region, credentials, endpoint: endpoints.dynamodb });
  return {
    kinesis,
    documents: DynamoDBDocumentClient.from(dynamodb),
    destroy() {
      kinesis.destroy();
      dynamodb.destroy();
    },
  };
}

export interface DemoInput {
  key: string;
  seq: number;
}

/** `keys × seqs` records, each key's seqs ascending, keys interleaved as live traffic would be. */
export function demoInputs(keys: number, seqs: number): DemoInput[] {
  const inputs: DemoInput[] = [];
  for (let seq = 0; seq < seqs; seq += 1) {
    for (let key = 0; key < keys; key += 1) inputs.push({ key: `k${String(key).padStart(4, '0')}`, seq });
  }
  return inputs;
}

/** Puts in order, 500 per call; a call that rejects entries fails the test rather than reordering a key. */
export async function putDemoInputs(kinesis: KinesisClient, inputs: readonly DemoInput[]): Promise<void> {
  for (let start = 0; start < inputs.length; start += 500) {
    const chunk = inputs.slice(start, start + 500);
    const { FailedRecordCount } = await kinesis.send(new PutRecordsCommand({
      StreamName: 'demo-in',
      Records: chunk.map((input) => ({ PartitionKey: input.key, Data: Buffer.from(JSON.stringify(input)) })),
    }));
    if (FailedRecordCount) throw new Error(`demo-in rejected ${FailedRecordCount} records`);
  }
}

export interface DemoItem {
  pk: string;
  sk: string;
  key?: string;
  seq?: number;
  redeliveries?: number;
  outOfOrder?: boolean;
  lastSeq?: number;
  orderViolations?: number;
}

export async function scanDemoResults(documents: DynamoDBDocumentClient): Promise<DemoItem[]> {
  const items: DemoItem[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({ TableName: 'demo-results', ExclusiveStartKey: startKey }));
    items.push(...((page.Items ?? []) as DemoItem[]));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

export async function countDemoResults(documents: DynamoDBDocumentClient): Promise<number> {
  let count = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await documents.send(new ScanCommand({
      TableName: 'demo-results',
      Select: 'COUNT',
      FilterExpression: 'begins_with(sk, :result)',
      ExpressionAttributeValues: { ':result': 'result#' },
      ExclusiveStartKey: startKey,
    }));
    count += page.Count ?? 0;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return count;
}

export interface DemoJudgement {
  results: number;
  distinctResults: number;
  missing: string[];
  keysWithViolations: string[];
  outOfOrderResults: number;
  redeliveries: number;
  /** Records each stage refused on their first delivery, by stage. */
  firstDeliveryFailures: Record<string, number>;
}

/** Compares the table with what was put: each input recorded once, every key's progress at its last seq. */
export function judgeDemoResults(items: readonly DemoItem[], inputs: readonly DemoInput[]): DemoJudgement {
  const results = items.filter((item) => item.sk.startsWith('result#'));
  const recorded = new Set(results.map((item) => `${item.key}#${item.seq}`));
  const progress = items.filter((item) => item.sk === 'progress');
  return {
    results: results.length,
    distinctResults: recorded.size,
    missing: inputs.map((input) => `${input.key}#${input.seq}`).filter((id) => !recorded.has(id)),
    keysWithViolations: progress.filter((item) => (item.orderViolations ?? 0) > 0).map((item) => item.key ?? item.pk),
    outOfOrderResults: results.filter((item) => item.outOfOrder).length,
    redeliveries: results.reduce((sum, item) => sum + (item.redeliveries ?? 0), 0),
    firstDeliveryFailures: items
      .filter((item) => item.sk.startsWith('first-delivery#'))
      .reduce<Record<string, number>>((counts, item) => {
        const stage = item.sk.split('#')[1] ?? '';
        counts[stage] = (counts[stage] ?? 0) + 1;
        return counts;
      }, {}),
  };
}

/** Records of a stream after the given per-shard sequence numbers (from the start where none is given). */
export async function countStreamRecordsAfter(kinesis: KinesisClient, streamName: string, after: Readonly<Record<string, string | undefined>>): Promise<number> {
  const { Shards: shards = [] } = await kinesis.send(new ListShardsCommand({ StreamName: streamName }));
  let count = 0;
  for (const shard of shards) {
    const shardId = shard.ShardId ?? '';
    const sequenceNumber = after[shardId];
    let { ShardIterator: iterator } = await kinesis.send(new GetShardIteratorCommand({
      StreamName: streamName,
      ShardId: shardId,
      ...(sequenceNumber ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: sequenceNumber } : { ShardIteratorType: 'TRIM_HORIZON' }),
    }));
    while (iterator) {
      const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      count += page.Records?.length ?? 0;
      if ((page.Records?.length ?? 0) === 0 && page.MillisBehindLatest === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return count;
}
