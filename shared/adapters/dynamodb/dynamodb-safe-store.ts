import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SafeStoreUnavailableError, type PutIfAbsentResult, type SafeStore, type SafeStoreItem } from '#shared/ports/safe-store.ts';
import { isDynamoDbUnavailable, SafeStoreItemNotFoundError, SafeStoreItemTooLargeError } from './errors.ts';

/**
 * The safe-store port over one DynamoDB table (hash key `id`, a string). Every write is conditional, so a redelivered
 * input can neither overwrite what a stage recorded nor roll a status back. Reads are strongly consistent: a stage
 * that has just lost a conditional write must see the item that won it, not a replica that has not caught up.
 */

/**
 * DynamoDB refuses items over 400 KB, counting attribute names and its own type encoding, which JSON only
 * approximates; the margin keeps an item that passes here from being refused there.
 */
export const MAX_ITEM_JSON_BYTES = 350 * 1024;

/**
 * A document client for safe stores. Optional fields of a record arrive as `undefined`; without
 * `removeUndefinedValues` the marshaller throws on them instead of leaving the attribute out.
 */
export function documentClient(client: DynamoDBClient = new DynamoDBClient({})): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}

// Placeholders for every attribute name: DynamoDB reserves hundreds of words, and a collision fails only at run time.
const NAMES = { '#id': 'id' };

export interface DynamoDbSafeStoreOptions {
  /** The clock stamping `recordedAt`; the system clock by default. */
  readonly now?: () => Date;
}

/**
 * The attribute each written item carries: when this store recorded it (ISO 8601). Reconciliation compares a time
 * window of a store by it, so a pass can leave out what arrived after it began and still converge under load.
 */
export const RECORDED_AT = 'recordedAt';

export class DynamoDbSafeStore<T extends SafeStoreItem> implements SafeStore<T> {
  private readonly now: () => Date;

  /** `documents` should come from `documentClient()`, whose marshalling drops undefined attributes. */
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
    options: DynamoDbSafeStoreOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async putIfAbsent(item: T): Promise<PutIfAbsentResult<T>> {
    this.checkSize(item);
    // The item that won the condition may be deleted before it can be read (an expiry, a reconciliation); the put
    // is then tried once more, and a second disappearance is churn a later redelivery resolves.
    for (let attempt = 1; attempt <= 2; attempt++) {
      const stored = await this.conditionalPut('putIfAbsent', item, 'attribute_not_exists(#id)');
      if (stored) return { stored: true };
      const existing = await this.get(item.id);
      if (existing) return { stored: false, existing };
    }
    throw new SafeStoreUnavailableError(`${this.tableName}: item ${item.id} kept vanishing between a refused put and the read of it`);
  }

  async putIfNewer(item: T & { readonly version: number }): Promise<boolean> {
    this.checkSize(item);
    // An item stored without a `version` is never "older": the comparison with a missing attribute is false.
    return this.conditionalPut('putIfNewer', item, 'attribute_not_exists(#id) OR #version < :version', {
      names: { '#version': 'version' },
      values: { ':version': item.version },
    });
  }

  async get(id: string): Promise<T | undefined> {
    const output = await this.send('get', () =>
      this.documents.send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true })),
    );
    return output.Item as T | undefined;
  }

  async recordDelivery(id: string, at: string): Promise<number> {
    try {
      const output = await this.send('recordDelivery', () =>
        this.documents.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { id },
            // ADD starts a missing counter at zero, so the first delivery needs no separate initialisation.
            UpdateExpression: 'ADD #deliveries :one SET #deliveredAt = :at',
            ConditionExpression: 'attribute_exists(#id)',
            ExpressionAttributeNames: { ...NAMES, '#deliveries': 'deliveries', '#deliveredAt': 'deliveredAt' },
            ExpressionAttributeValues: { ':one': 1, ':at': at },
            ReturnValues: 'UPDATED_NEW',
          }),
        ),
      );
      return Number(output.Attributes?.deliveries);
    } catch (error) {
      if (isConditionalCheckFailed(error)) throw new SafeStoreItemNotFoundError(this.tableName, id, { cause: error });
      throw error;
    }
  }

  /** Resolves false when the condition refused the write. */
  private async conditionalPut(
    operation: string,
    item: T,
    condition: string,
    extra: { names?: Record<string, string>; values?: Record<string, unknown> } = {},
  ): Promise<boolean> {
    // An item that already says when it was recorded (one copied from another store) keeps its time.
    const stamped = item[RECORDED_AT] === undefined ? { ...item, [RECORDED_AT]: this.now().toISOString() } : item;
    try {
      await this.send(operation, () =>
        this.documents.send(
          new PutCommand({
            TableName: this.tableName,
            Item: stamped,
            ConditionExpression: condition,
            ExpressionAttributeNames: { ...NAMES, ...extra.names },
            ...(extra.values ? { ExpressionAttributeValues: extra.values } : {}),
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  private checkSize(item: T): void {
    const bytes = Buffer.byteLength(JSON.stringify(item), 'utf8');
    if (bytes > MAX_ITEM_JSON_BYTES) throw new SafeStoreItemTooLargeError(this.tableName, item.id, bytes, MAX_ITEM_JSON_BYTES);
  }

  private async send<R>(operation: string, call: () => Promise<R>): Promise<R> {
    try {
      return await call();
    } catch (error) {
      if (!isDynamoDbUnavailable(error)) throw error;
      const reason = error instanceof Error ? `${error.name}${codeOf(error)}: ${error.message}` : String(error);
      throw new SafeStoreUnavailableError(`${this.tableName} ${operation} failed: ${reason}`, { cause: error });
    }
  }
}

// By name rather than instanceof: a second copy of the SDK in the bundle would have its own class.
function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

function codeOf(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? ` ${code}` : '';
}
