import { ScanCommand, type DynamoDBDocumentClient, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { batchGetById } from '#shared/adapters/dynamodb/batch-get.ts';
import type { MatchingRecordReader } from '#shared/adapters/postgres/matching-records.ts';
import type { PostgresOutbox, StoredOutboxEvent } from '#shared/adapters/postgres/outbox.ts';
import { outboxRecordId, toRecord } from '#shared/pipeline/matching-stage.ts';
import type { AppName } from '#shared/topology/schema.ts';
import { DatabaseRecordsUnavailableError, OutboxUnavailableError } from './errors.ts';
import { appOfDatabaseRecords } from './names.ts';
import type { Item, SourceRef } from './pair-graph.ts';
import type { ReconciliationReads } from './reads.ts';
import { isWatermarkId } from '#shared/operations/drain-check.ts';

/**
 * The read port over the region's DynamoDB safe stores and the apps' matching databases. Outbox rows are handed
 * out as the stream record egress receives for them, under its record id (`<event type>:<aggregate id>[:…]`, the
 * same in every region), stamped with the row's creation time as `recordedAt`. The matching databases' trades and
 * settlements are looked up under the names `DATABASE_RECORDS` gives them, as their safe store mirrors them.
 */

export interface StoreReadsOptions {
  readonly documents: DynamoDBDocumentClient;
  readonly outboxes: Partial<Readonly<Record<AppName, PostgresOutbox>>>;
  /** Each app's matching records (trades, settlements) in its database. */
  readonly records?: Partial<Readonly<Record<AppName, MatchingRecordReader>>>;
  /** Items per page: outbox rows (1,000 by default), or a cap on a DynamoDB page (its own 1 MB by default). */
  readonly pageSize?: number;
}

export class StoreReads implements ReconciliationReads {
  constructor(private readonly options: StoreReadsOptions) {}

  pages(source: SourceRef, until: Date): AsyncIterable<readonly Item[]> {
    return source.kind === 'table' ? this.scan(source.table) : this.outboxPages(source.app, until);
  }

  async read(source: SourceRef, ids: readonly string[]): Promise<ReadonlyMap<string, Item>> {
    if (source.kind === 'table') return this.lookup(source.table, ids);
    const outbox = this.outbox(source.app);
    const wanted = new Set(ids);
    // A record id names its aggregate second: event types and trade or settlement ids hold no ':'.
    const aggregates = [...new Set(ids.map((id) => id.split(':')[1]).filter((aggregate): aggregate is string => Boolean(aggregate)))];
    const found = new Map<string, Item>();
    for (const aggregate of aggregates) {
      for (const event of await outbox.eventsFor(aggregate)) {
        if (wanted.has(outboxRecordId(event))) found.set(outboxRecordId(event), outboxItem(event));
      }
    }
    return found;
  }

  async lookup(table: string, ids: readonly string[]): Promise<ReadonlyMap<string, Item>> {
    const app = appOfDatabaseRecords(table);
    if (app) {
      const records = this.options.records?.[app];
      if (!records) throw new DatabaseRecordsUnavailableError(app);
      return (await records.byIds(ids)) as unknown as ReadonlyMap<string, Item>;
    }
    return (await batchGetById(this.options.documents, table, ids)) as Map<string, Item>;
  }

  private async *scan(table: string): AsyncGenerator<readonly Item[]> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page: ScanCommandOutput = await this.options.documents.send(
        new ScanCommand({
          TableName: table,
          ConsistentRead: true,
          ...(this.options.pageSize ? { Limit: this.options.pageSize } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      // A rotation's watermark is evidence of replication, not a message: no stage downstream has it, by design.
      yield ((page.Items ?? []) as Item[]).filter((item) => !isWatermarkId(item.id));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  private async *outboxPages(app: AppName, until: Date): AsyncGenerator<readonly Item[]> {
    const outbox = this.outbox(app);
    let afterId: string | undefined;
    for (;;) {
      let events: StoredOutboxEvent[];
      try {
        events = await outbox.page(afterId, this.options.pageSize ?? 1_000, until);
      } catch (error) {
        // A database matching never wrote to has no outbox table yet (it migrates on first use): nothing to compare.
        if (afterId === undefined && isMissingRelation(error)) return;
        throw error;
      }
      if (events.length === 0) return;
      yield events.map(outboxItem);
      afterId = events.at(-1)!.id;
    }
  }

  private outbox(app: AppName): PostgresOutbox {
    const outbox = this.options.outboxes[app];
    if (!outbox) throw new OutboxUnavailableError(app);
    return outbox;
  }
}

const outboxItem = (event: StoredOutboxEvent): Item => ({ ...toRecord(event), recordedAt: new Date(event.createdAt).toISOString() });

function isMissingRelation(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === '42P01' || (error instanceof Error && /relation "outbox" does not exist/.test(error.message));
}
