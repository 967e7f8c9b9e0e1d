import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { decodeDemoRecord, failsOnFirstDelivery, requiredEnv } from './demo-record.ts';

/**
 * demo-relay: forwards each record of `demo-in` to `demo-out` with the same partition key and data. It stops at
 * the first record it cannot take and reports it, so the mapping retries from there and nothing after it is
 * forwarded twice or ahead of it.
 */

const outStream = requiredEnv('OUT_STREAM');
const resultsTable = requiredEnv('RESULTS_TABLE');
// Kinesis clients default to HTTP/2; Kinesis accepts HTTP/1.1 too, and kinesalite only that.
const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });
const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));

const PUT_ATTEMPTS = 8;

export class ForwardingFailedError extends Error {
  override readonly name = 'ForwardingFailedError';
}

/** PutRecords, resending only the entries Kinesis rejected (throttling), with backoff. */
async function putAll(entries: PutRecordsRequestEntry[]): Promise<void> {
  let pending = entries;
  for (let attempt = 1; pending.length > 0; attempt += 1) {
    const { Records: results = [] } = await kinesis.send(new PutRecordsCommand({ StreamName: outStream, Records: pending }));
    pending = pending.filter((_, index) => results[index]?.ErrorCode !== undefined || results[index]?.SequenceNumber === undefined);
    if (pending.length === 0) return;
    if (attempt >= PUT_ATTEMPTS) throw new ForwardingFailedError(`${pending.length} records were still rejected by ${outStream} after ${attempt} attempts`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** attempt)));
  }
}

export const handler = async (event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> => {
  const forward: PutRecordsRequestEntry[] = [];
  let firstRefused: string | undefined;
  for (const record of event.Records) {
    if (await failsOnFirstDelivery(documents, resultsTable, 'relay', decodeDemoRecord(record))) {
      firstRefused = record.kinesis.sequenceNumber;
      break;
    }
    forward.push({ PartitionKey: record.kinesis.partitionKey, Data: Buffer.from(record.kinesis.data, 'base64') });
  }
  for (let start = 0; start < forward.length; start += 500) await putAll(forward.slice(start, start + 500));
  return { batchItemFailures: firstRefused === undefined ? [] : [{ itemIdentifier: firstRefused }] };
};
