import { readFileIfPresent } from '#local/support/state-files.ts';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';

/**
 * What Lambda sends to a stream mapping's on-failure destination when it gives up on records: metadata only,
 * so an operator (or Rotor's replay) reads the records back from the stream by sequence number.
 */
export interface KinesisOnFailureRecord {
  requestContext: {
    /** Request id of the last invocation, or a fresh id when the records expired before any invocation. */
    requestId: string;
    functionArn: string;
    condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded';
    approximateInvokeCount: number;
  };
  responseContext: {
    /** 200 when the function was invoked (errors are reported in functionError), 0 when it never was. */
    statusCode: number;
    executedVersion: string;
    /** `Unhandled` when the last invocation threw or timed out. */
    functionError?: string;
  };
  version: '1.0';
  timestamp: string;
  KinesisBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord: string;
    approximateArrivalOfLastRecord: string;
    batchSize: number;
    streamArn: string;
  };
}

export interface OnFailureDestination {
  /** Resolves once the record is durable; a rejection makes the mapping retry the send. */
  send(record: KinesisOnFailureRecord): Promise<void>;
}

/** Appends one JSON document per line to a file and fsyncs it, so a record survives a crash once sent. */
export class JsonLinesFileDestination implements OnFailureDestination {
  constructor(readonly filePath: string) {}

  async send(record: KinesisOnFailureRecord): Promise<void> {
    await mkdir(path.dirname(this.filePath), { recursive: true });
    const file = await open(this.filePath, 'a');
    try {
      await file.write(`${JSON.stringify(record)}\n`);
      await file.sync();
    } finally {
      await file.close();
    }
  }

  /** Every record sent so far, oldest first; a torn last line from a crash mid-append is ignored. */
  async readAll(): Promise<KinesisOnFailureRecord[]> {
    const text = await readFileIfPresent(this.filePath);
    if (text === undefined) return [];
    const records: KinesisOnFailureRecord[] = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        records.push(JSON.parse(line) as KinesisOnFailureRecord);
      } catch {
        // only the final line can be torn; everything before it was fsynced whole
      }
    }
    return records;
  }
}
