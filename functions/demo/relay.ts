import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KinesisStreamPublisher, kinesisClient } from '#shared/adapters/kinesis/kinesis-stream-publisher.ts';
import type { OutgoingRecord } from '#shared/ports/stream-publisher.ts';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { decodeDemoRecord, failsOnFirstDelivery, requiredEnv } from './demo-record.ts';

/**
 * demo-relay: forwards each record of `demo-in` to `demo-out` with the same partition key and data. It stops at
 * the first record it cannot take and reports it, so the mapping retries from there and nothing after it is
 * forwarded twice or ahead of it.
 */

const outStream = requiredEnv('OUT_STREAM');
const resultsTable = requiredEnv('RESULTS_TABLE');
// The shared publisher resends only the entries Kinesis rejected (throttling), with backoff.
const publisher = new KinesisStreamPublisher(kinesisClient());
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

export const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
  const forward: OutgoingRecord[] = [];
  let firstRefused: string | undefined;
  for (const record of event.Records) {
    if (await failsOnFirstDelivery(documents, resultsTable, 'relay', decodeDemoRecord(record))) {
      firstRefused = record.kinesis.sequenceNumber;
      break;
    }
    forward.push({ partitionKey: record.kinesis.partitionKey, data: Buffer.from(record.kinesis.data, 'base64').toString('utf8') });
  }
  await publisher.publish(outStream, forward);
  return { batchItemFailures: firstRefused === undefined ? [] : [{ itemIdentifier: firstRefused }] };
};
