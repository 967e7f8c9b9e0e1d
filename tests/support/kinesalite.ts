import type { AddressInfo } from 'node:net';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import kinesalite from 'kinesalite';
import { waitFor } from '#tests/support/wait.ts';

export const TEST_REGION = 'us-east-1';

export interface PutResult {
  partitionKey: string;
  sequenceNumber: string;
  shardId: string;
  data: string;
}

export interface KinesaliteHarness {
  endpoint: string;
  client: KinesisClient;
  createStream(streamName: string, shardCount?: number): Promise<string>;
  /** Puts records in order (one PutRecords call per 500); returns what Kinesis assigned to each. */
  put(streamName: string, records: ReadonlyArray<{ partitionKey: string; data: string }>): Promise<PutResult[]>;
  close(): Promise<void>;
}

export function kinesisClient(endpoint: string): KinesisClient {
  return new KinesisClient({
    endpoint,
    region: TEST_REGION,
    credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' },
    // kinesalite speaks HTTP/1.1 only; the client's default handler is HTTP/2.
    requestHandler: new NodeHttpHandler(),
  });
}

/** An in-memory kinesalite on a free port, for one test file. */
export async function startKinesalite(): Promise<KinesaliteHarness> {
  const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 100 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = kinesisClient(endpoint);

  return {
    endpoint,
    client,
    async createStream(streamName, shardCount = 1) {
      await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
      let arn = '';
      await waitFor(async () => {
        const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
        arn = summary.StreamDescriptionSummary?.StreamARN ?? '';
        return summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
      }, { what: `stream ${streamName} ACTIVE` });
      return arn;
    },
    async put(streamName, records) {
      const results: PutResult[] = [];
      for (let start = 0; start < records.length; start += 500) {
        const chunk = records.slice(start, start + 500);
        const response = await client.send(new PutRecordsCommand({
          StreamName: streamName,
          Records: chunk.map((record) => ({ PartitionKey: record.partitionKey, Data: Buffer.from(record.data) })),
        }));
        (response.Records ?? []).forEach((entry, index) => {
          const record = chunk[index]!;
          if (!entry.SequenceNumber || !entry.ShardId) throw new Error(`put failed: ${entry.ErrorCode} ${entry.ErrorMessage}`);
          results.push({ ...record, sequenceNumber: entry.SequenceNumber, shardId: entry.ShardId });
        });
      }
      return results;
    },
    async close() {
      client.destroy();
      await new Promise<void>((resolve, reject) => server.close((error?: Error) => (error ? reject(error) : resolve())));
    },
  };
}
