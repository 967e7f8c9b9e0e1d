import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { decodeDemoRecord, demoKeys, failsOnFirstDelivery, isConditionalCheckFailure, requiredEnv, type DemoRecord } from './demo-record.ts';

/**
 * demo-recorder: records each record of `demo-out` once in `demo-results` and judges per-key order.
 *
 * - The result item is written with `attribute_not_exists`, so a redelivered record has no second effect; the
 *   redelivery is only counted on the existing item (`redeliveries`), which shows how much work was redone.
 * - The key's `progress` item keeps the last recorded seq. A new record whose seq is not above it is an order
 *   violation, counted in `orderViolations` and marked on the result item.
 */

const resultsTable = requiredEnv('RESULTS_TABLE');
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

async function advanceProgress(record: DemoRecord): Promise<boolean> {
  try {
    await documents.send(new UpdateCommand({
      TableName: resultsTable,
      Key: { pk: demoKeys.partition(record.key), sk: demoKeys.progress },
      UpdateExpression: 'SET lastSeq = :seq, #key = :key ADD recorded :one',
      ConditionExpression: 'attribute_not_exists(lastSeq) OR lastSeq < :seq',
      ExpressionAttributeNames: { '#key': 'key' },
      ExpressionAttributeValues: { ':seq': record.seq, ':key': record.key, ':one': 1 },
    }));
    return true;
  } catch (error) {
    if (isConditionalCheckFailure(error)) return false;
    throw error;
  }
}

async function recordOnce(record: DemoRecord, source: KinesisStreamRecord): Promise<void> {
  const key = { pk: demoKeys.partition(record.key), sk: demoKeys.result(record.seq) };
  try {
    await documents.send(new PutCommand({
      TableName: resultsTable,
      Item: { ...key, key: record.key, seq: record.seq, sequenceNumber: source.kinesis.sequenceNumber, recordedAt: new Date().toISOString() },
      ConditionExpression: 'attribute_not_exists(pk)',
    }));
  } catch (error) {
    if (!isConditionalCheckFailure(error)) throw error;
    await documents.send(new UpdateCommand({
      TableName: resultsTable,
      Key: key,
      UpdateExpression: 'ADD redeliveries :one',
      ExpressionAttributeValues: { ':one': 1 },
    }));
    // A crash between the result and the progress write leaves progress behind; catch it up (or find it current).
    await advanceProgress(record);
    return;
  }
  if (!(await advanceProgress(record))) {
    await documents.send(new UpdateCommand({
      TableName: resultsTable,
      Key: { pk: demoKeys.partition(record.key), sk: demoKeys.progress },
      UpdateExpression: 'ADD orderViolations :one SET lastViolation = :seq',
      ExpressionAttributeValues: { ':one': 1, ':seq': record.seq },
    }));
    await documents.send(new UpdateCommand({
      TableName: resultsTable,
      Key: key,
      UpdateExpression: 'SET outOfOrder = :yes',
      ExpressionAttributeValues: { ':yes': true },
    }));
  }
}

/** Records of different keys are independent: each key's records run in order, keys side by side. */
async function recordInKeyOrder(records: Array<{ record: DemoRecord; source: KinesisStreamRecord }>): Promise<void> {
  const byKey = new Map<string, Array<{ record: DemoRecord; source: KinesisStreamRecord }>>();
  for (const entry of records) byKey.set(entry.record.key, [...(byKey.get(entry.record.key) ?? []), entry]);
  await Promise.all([...byKey.values()].map(async (entries) => {
    for (const { record, source } of entries) await recordOnce(record, source);
  }));
}

export const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
  // Settle which records this delivery takes before recording any, so a refused record is reported with
  // nothing after it recorded (the mapping redelivers from it, and a redelivery must find nothing done).
  const accepted: Array<{ record: DemoRecord; source: KinesisStreamRecord }> = [];
  let firstRefused: string | undefined;
  for (const source of event.Records) {
    const record = decodeDemoRecord(source);
    if (await failsOnFirstDelivery(documents, resultsTable, 'recorder', record)) {
      firstRefused = source.kinesis.sequenceNumber;
      break;
    }
    accepted.push({ record, source });
  }
  await recordInKeyOrder(accepted);
  return { batchItemFailures: firstRefused === undefined ? [] : [{ itemIdentifier: firstRefused }] };
};
