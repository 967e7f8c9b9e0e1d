import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetById } from '#shared/adapters/dynamodb/batch-get.ts';
import type { AppName } from '#shared/topology/schema.ts';
import { AuditId, type AuditTrail, type PairReplay, type PassRecord, type ReplayRecord, type RunFinish, type RunHistory, type RunRecord } from './audit-trail.ts';

/**
 * The audit trail in one DynamoDB table per app (`<p>-reconciliation-audit`, hash key `id`). Every id is derived
 * from the run, the pass and the pair, so the report reads exactly the items it needs by key and a retried task
 * overwrites what its first attempt wrote instead of adding to it.
 *
 * Replayed ids are kept in chunks well under DynamoDB's 400 KB item limit; the pass's replay item names how many
 * chunks each pair has, so chunks a longer earlier attempt left behind are never read.
 */

/** JSON bytes of ids per chunk item. */
const CHUNK_BYTES = 64 * 1024;

interface ReplaySummaryItem {
  readonly app: AppName;
  readonly runId: string;
  readonly pass: number;
  readonly replayedAt: string;
  readonly pairs: ReadonlyArray<{ pair: string; replayed: number; skipped: number; chunks: number }>;
}

export function chunkIds(ids: readonly string[], budgetBytes = CHUNK_BYTES): string[][] {
  // As JSON: the brackets, then each id quoted and followed by a comma.
  const EMPTY = 2;
  const chunks: string[][] = [];
  let current: string[] = [];
  let bytes = EMPTY;
  for (const id of ids) {
    const size = Buffer.byteLength(JSON.stringify(id), 'utf8') + 1;
    if (current.length > 0 && bytes + size > budgetBytes) {
      chunks.push(current);
      current = [];
      bytes = EMPTY;
    }
    current.push(id);
    bytes += size;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const isConditionalCheckFailed = (error: unknown) => error instanceof Error && error.name === 'ConditionalCheckFailedException';

export class DynamoDbAuditTrail implements AuditTrail {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    /** The audit table of each app. */
    private readonly tables: Readonly<Record<AppName, string>>,
  ) {}

  async runStarted(app: AppName, runId: string, startedAt: string): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tables[app],
          Item: { id: AuditId.run(runId), kind: 'run', app, runId, startedAt, passes: 0 },
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': 'id' },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async passChecked(record: PassRecord): Promise<void> {
    const table = this.tables[record.app];
    await this.documents.send(new PutCommand({ TableName: table, Item: { id: AuditId.pass(record.runId, record.pass), kind: 'pass', ...record } }));
    try {
      // The run item counts passes; a pass retried after a later one was recorded must not count backwards.
      await this.documents.send(
        new UpdateCommand({
          TableName: table,
          Key: { id: AuditId.run(record.runId) },
          UpdateExpression: 'SET #passes = :pass, #kind = :kind, #app = if_not_exists(#app, :app), #runId = if_not_exists(#runId, :runId), #startedAt = if_not_exists(#startedAt, :at)',
          ConditionExpression: 'attribute_not_exists(#passes) OR #passes < :pass',
          ExpressionAttributeNames: { '#passes': 'passes', '#kind': 'kind', '#app': 'app', '#runId': 'runId', '#startedAt': 'startedAt' },
          ExpressionAttributeValues: { ':pass': record.pass, ':kind': 'run', ':app': record.app, ':runId': record.runId, ':at': record.checkedAt },
        }),
      );
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }

  async replayed(record: ReplayRecord): Promise<void> {
    const table = this.tables[record.app];
    const pairs = record.pairs.map((pair) => ({ ...pair, chunks: chunkIds(pair.ids) }));
    const chunkItems = pairs.flatMap((pair) =>
      pair.chunks.map((ids, chunk) => ({
        id: AuditId.replayChunk(record.runId, record.pass, pair.pair, chunk),
        kind: 'replay-ids',
        app: record.app,
        runId: record.runId,
        pass: record.pass,
        pair: pair.pair,
        chunk,
        ids,
      })),
    );
    // Chunks first: the summary naming them is only written once every chunk it names is there.
    for (const item of chunkItems) await this.documents.send(new PutCommand({ TableName: table, Item: item }));
    const summary: ReplaySummaryItem = {
      app: record.app,
      runId: record.runId,
      pass: record.pass,
      replayedAt: record.replayedAt,
      pairs: pairs.map(({ pair, replayed, skipped, chunks }) => ({ pair, replayed, skipped, chunks: chunks.length })),
    };
    await this.documents.send(new PutCommand({ TableName: table, Item: { id: AuditId.replay(record.runId, record.pass), kind: 'replay', ...summary } }));
  }

  async runFinished(app: AppName, runId: string, finish: RunFinish): Promise<RunRecord> {
    const output = await this.documents.send(
      new UpdateCommand({
        TableName: this.tables[app],
        Key: { id: AuditId.run(runId) },
        UpdateExpression:
          'SET #finishedAt = :finishedAt, #outcome = :outcome, #kind = :kind, #app = if_not_exists(#app, :app), #runId = if_not_exists(#runId, :runId), ' +
          '#startedAt = if_not_exists(#startedAt, :finishedAt), #passes = if_not_exists(#passes, :zero)' +
          (finish.error ? ', #error = :error' : ' REMOVE #error'),
        ExpressionAttributeNames: { '#finishedAt': 'finishedAt', '#outcome': 'outcome', '#kind': 'kind', '#app': 'app', '#runId': 'runId', '#startedAt': 'startedAt', '#passes': 'passes', '#error': 'error' },
        ExpressionAttributeValues: {
          ':finishedAt': finish.finishedAt,
          ':outcome': finish.outcome,
          ':kind': 'run',
          ':app': app,
          ':runId': runId,
          ':zero': 0,
          ...(finish.error ? { ':error': finish.error } : {}),
        },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return runRecordOf(output.Attributes ?? {});
  }

  async history(app: AppName, runId: string): Promise<RunHistory> {
    const table = this.tables[app];
    const { Item } = await this.documents.send(new GetCommand({ TableName: table, Key: { id: AuditId.run(runId) }, ConsistentRead: true }));
    if (!Item) return { passes: [], replays: [] };
    const run = runRecordOf(Item);
    const numbers = Array.from({ length: run.passes }, (_, index) => index + 1);
    const items = await batchGetById(this.documents, table, numbers.flatMap((pass) => [AuditId.pass(runId, pass), AuditId.replay(runId, pass)]));
    const passes = numbers.flatMap((pass) => {
      const item = items.get(AuditId.pass(runId, pass));
      return item ? [item as unknown as PassRecord] : [];
    });
    const summaries = numbers.flatMap((pass) => {
      const item = items.get(AuditId.replay(runId, pass));
      return item ? [item as unknown as ReplaySummaryItem] : [];
    });
    const chunkIdsWanted = summaries.flatMap((summary) =>
      summary.pairs.flatMap((pair) => Array.from({ length: pair.chunks }, (_, chunk) => AuditId.replayChunk(runId, summary.pass, pair.pair, chunk))),
    );
    const chunks = await batchGetById(this.documents, table, chunkIdsWanted);
    const replays: ReplayRecord[] = summaries.map((summary) => ({
      app: summary.app,
      runId: summary.runId,
      pass: summary.pass,
      replayedAt: summary.replayedAt,
      pairs: summary.pairs.map((pair): PairReplay => ({
        pair: pair.pair,
        replayed: pair.replayed,
        skipped: pair.skipped,
        ids: Array.from({ length: pair.chunks }, (_, chunk) => (chunks.get(AuditId.replayChunk(runId, summary.pass, pair.pair, chunk))?.ids ?? []) as string[]).flat(),
      })),
    }));
    return { run, passes, replays };
  }
}

function runRecordOf(item: Record<string, unknown>): RunRecord {
  return {
    app: item.app as AppName,
    runId: String(item.runId),
    startedAt: String(item.startedAt),
    passes: Number(item.passes ?? 0),
    ...(typeof item.finishedAt === 'string' ? { finishedAt: item.finishedAt } : {}),
    ...(typeof item.outcome === 'string' ? { outcome: item.outcome as RunRecord['outcome'] & string } : {}),
    ...(item.error && typeof item.error === 'object' ? { error: item.error as RunRecord['error'] & object } : {}),
  };
}
