import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
  type PutRecordsInput,
  type PutRecordsOutput,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';

/**
 * Kinesis throttles single entries of a PutRecords call when their shard is hot; kinesalite never does. This
 * fault injector sits in the client's middleware stack, before serialisation: the entries a test picks are
 * answered with an ErrorCode, as Kinesis answers them, and the rest go to kinesalite for real, so they land and a
 * test reads them back.
 */

export interface PutRecordsCall {
  readonly partitionKeys: string[];
  readonly data: string[];
  readonly bytes: number;
  readonly rejected: number[];
}

export interface PutRecordsFaults {
  /** Every PutRecords call the client made, in order. */
  readonly calls: PutRecordsCall[];
}

/** `reject(entries, call)` names the indexes (into this call's entries) to refuse; `call` counts from 1. */
export function injectPutRecordsRejections(
  client: KinesisClient,
  reject: (entries: { partitionKey: string; data: string }[], call: number) => Iterable<number> = () => [],
  errorCode = 'ProvisionedThroughputExceededException',
): PutRecordsFaults {
  const calls: PutRecordsCall[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'PutRecordsCommand') return next(args);
      const input = args.input as PutRecordsInput;
      const entries = (input.Records ?? []).map((entry) => ({ partitionKey: entry.PartitionKey!, data: Buffer.from(entry.Data!).toString('utf8') }));
      const rejected = new Set(reject(entries, calls.length + 1));
      calls.push({
        partitionKeys: entries.map((entry) => entry.partitionKey),
        data: entries.map((entry) => entry.data),
        bytes: (input.Records ?? []).reduce((sum, entry) => sum + entry.Data!.byteLength + Buffer.byteLength(entry.PartitionKey!), 0),
        rejected: [...rejected].sort((a, b) => a - b),
      });
      if (rejected.size === 0) return next(args);

      const accepted = (input.Records ?? []).filter((_, index) => !rejected.has(index));
      const stored: PutRecordsResultEntry[] = [];
      let result: { output: unknown; response: unknown } = { output: { $metadata: {} }, response: {} };
      if (accepted.length > 0) {
        result = await next({ ...args, input: { ...input, Records: accepted } });
        stored.push(...((result.output as PutRecordsOutput).Records ?? []));
      }
      const records = (input.Records ?? []).map((_, index) =>
        rejected.has(index) ? { ErrorCode: errorCode, ErrorMessage: `Rate exceeded for shard (injected)` } : stored.shift()!,
      );
      const output: PutRecordsOutput = { ...(result.output as PutRecordsOutput), FailedRecordCount: rejected.size, Records: records };
      return { ...result, output } as Awaited<ReturnType<typeof next>>;
    },
    { step: 'initialize', name: 'injectPutRecordsRejections' },
  );
  return { calls };
}

export interface StoredRecord {
  readonly shardId: string;
  readonly partitionKey: string;
  readonly data: string;
}

/** Every record of the stream from the start, shard by shard, each shard in sequence-number order. */
export async function readStream(client: KinesisClient, stream: string): Promise<StoredRecord[]> {
  const { Shards: shards = [] } = await client.send(new ListShardsCommand({ StreamName: stream }));
  const records: StoredRecord[] = [];
  for (const shard of shards) {
    let { ShardIterator: iterator } = await client.send(
      new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    while (iterator) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      const fetched = page.Records ?? [];
      for (const record of fetched) {
        records.push({ shardId: shard.ShardId!, partitionKey: record.PartitionKey!, data: Buffer.from(record.Data!).toString('utf8') });
      }
      if (fetched.length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return records;
}
