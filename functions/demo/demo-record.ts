import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamRecord } from 'aws-lambda';

/** A record of the demo chain: `seq` counts up from 0 per `key`, so order and completeness can be judged. */
export interface DemoRecord {
  key: string;
  seq: number;
}

export class MalformedDemoRecordError extends Error {
  override readonly name = 'MalformedDemoRecordError';
}

export { requiredEnv } from '#shared/config/environment.ts';

export function decodeDemoRecord(record: KinesisStreamRecord): DemoRecord {
  const text = Buffer.from(record.kinesis.data, 'base64').toString('utf8');
  const parsed = JSON.parse(text) as Partial<DemoRecord>;
  if (typeof parsed.key !== 'string' || !Number.isInteger(parsed.seq)) {
    throw new MalformedDemoRecordError(`record ${record.kinesis.sequenceNumber} is not a demo record: ${text.slice(0, 100)}`);
  }
  return { key: parsed.key, seq: parsed.seq as number };
}

/** Table keys of the demo items, all under the record's key so one Query shows a key's whole story. */
export const demoKeys = {
  partition: (key: string) => `key#${key}`,
  result: (seq: number) => `result#${String(seq).padStart(8, '0')}`,
  progress: 'progress',
  firstDelivery: (stage: string, seq: number) => `first-delivery#${stage}#${String(seq).padStart(8, '0')}`,
};

/** FNV-1a, so the same records fail in every run and on every machine. */
function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

const FIRST_DELIVERY_FAILURE_PERCENT = 10;

/**
 * Whether this delivery of the record should fail, to exercise partial-batch retries: about one record in ten
 * (chosen by hash) fails the first time it reaches `stage`. A flag item remembers the first delivery, so the
 * retry (or a redelivery after a crash) goes through.
 */
export async function failsOnFirstDelivery(documents: DynamoDBDocumentClient, table: string, stage: string, record: DemoRecord): Promise<boolean> {
  if (stableHash(`${stage}:${record.key}#${record.seq}`) % 100 >= FIRST_DELIVERY_FAILURE_PERCENT) return false;
  try {
    await documents.send(new PutCommand({
      TableName: table,
      Item: { pk: demoKeys.partition(record.key), sk: demoKeys.firstDelivery(stage, record.seq), failedAt: new Date().toISOString() },
      ConditionExpression: 'attribute_not_exists(pk)',
    }));
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

export function isConditionalCheckFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}
