import type { KinesisStreamRecord } from 'aws-lambda';

/** The payload Rotor's tests put on streams: which key it belongs to and its position within that key. */
export interface TestPayload {
  key: string;
  n: number;
  label: string;
}

export function payloadRecords(
  count: number,
  { keys = 1, label = 'r', keyPrefix = 'QAINS012|QABRO010|' }: { keys?: number; label?: string; keyPrefix?: string } = {},
): Array<{ partitionKey: string; data: string }> {
  const perKey = new Map<string, number>();
  return Array.from({ length: count }, (_, index) => {
    const key = `${keyPrefix}${index % keys}`;
    const n = perKey.get(key) ?? 0;
    perKey.set(key, n + 1);
    const payload: TestPayload = { key, n, label: `${label}${index}` };
    return { partitionKey: key, data: JSON.stringify(payload) };
  });
}

export function decodePayload(record: KinesisStreamRecord): TestPayload {
  return JSON.parse(Buffer.from(record.kinesis.data, 'base64').toString('utf8')) as TestPayload;
}
