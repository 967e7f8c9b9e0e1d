// A region-process stand-in for crash tests: runs one Kinesis mapping until it is killed.
// Every processed sequence number is appended (write(2), no buffering) to PROCESSED_LOG before the handler
// returns, so the log survives SIGKILL and shows exactly what was processed.
import { appendFileSync } from 'node:fs';
import type { KinesisStreamEvent } from 'aws-lambda';
import { KinesisEventSourceMapping } from '#local/event-sources/kinesis-mapping.ts';
import { LocalLambdaFunction } from '#local/lambda/runtime.ts';
import { kinesisClient, TEST_REGION } from '#tests/support/kinesalite.ts';

const { KINESIS_ENDPOINT, STREAM_NAME, DATA_DIR, MAPPING_ID, PROCESSED_LOG } = process.env;
if (!KINESIS_ENDPOINT || !STREAM_NAME || !DATA_DIR || !MAPPING_ID || !PROCESSED_LOG) {
  throw new Error('KINESIS_ENDPOINT, STREAM_NAME, DATA_DIR, MAPPING_ID and PROCESSED_LOG are required');
}
const processedLog = PROCESSED_LOG;

const fn = new LocalLambdaFunction<KinesisStreamEvent>({
  functionName: 'crash-consumer',
  region: TEST_REGION,
  handler: async (event: KinesisStreamEvent) => {
    for (const record of event.Records) appendFileSync(processedLog, `${record.kinesis.sequenceNumber}\n`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  },
});

const mapping = new KinesisEventSourceMapping(
  { streamName: STREAM_NAME, startingPosition: 'TRIM_HORIZON', batchSize: 5 },
  { kinesis: kinesisClient(KINESIS_ENDPOINT), fn, dataDir: DATA_DIR, mappingId: MAPPING_ID, pollIntervalMs: 25 },
);
await mapping.start();
process.stdout.write('started\n');
