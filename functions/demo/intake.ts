import { KinesisClient, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { requiredEnv, type DemoRecord, MalformedDemoRecordError } from './demo-record.ts';

/**
 * demo-intake: the demo chain's gateway. Takes `{key, seq}` messages off the `demo.requests` MQ queue and puts
 * them on `demo-in`, keyed by `key`. A failure fails the whole batch, so the broker redelivers every message of it;
 * what was already put is put again, and the recorder's conditional write absorbs the duplicate.
 */

/** The part of an `aws:mq` event this handler reads. */
interface ActiveMqEvent {
  messages: Array<{ messageID: string; data: string }>;
}

const outStream = requiredEnv('OUT_STREAM');
const kinesis = new KinesisClient({ requestHandler: new NodeHttpHandler() });

export class IntakeRejectedError extends Error {
  override readonly name = 'IntakeRejectedError';
}

function parse(message: { messageID: string; data: string }): DemoRecord {
  const parsed = JSON.parse(Buffer.from(message.data, 'base64').toString('utf8')) as Partial<DemoRecord>;
  if (typeof parsed.key !== 'string' || !Number.isInteger(parsed.seq)) {
    throw new MalformedDemoRecordError(`message ${message.messageID} is not a demo record`);
  }
  return { key: parsed.key, seq: parsed.seq as number };
}

export const handler = async (event: ActiveMqEvent): Promise<void> => {
  const records = event.messages.map(parse);
  for (let start = 0; start < records.length; start += 500) {
    const chunk = records.slice(start, start + 500);
    const { FailedRecordCount } = await kinesis.send(new PutRecordsCommand({
      StreamName: outStream,
      Records: chunk.map((record) => ({ PartitionKey: record.key, Data: Buffer.from(JSON.stringify(record)) })),
    }));
    // Resending only the rejected entries could put a key's later seq ahead of an earlier one; failing the
    // batch keeps each key in order at the cost of a duplicate.
    if (FailedRecordCount) throw new IntakeRejectedError(`${outStream} rejected ${FailedRecordCount} of ${chunk.length} records`);
  }
};
