import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, ScanCommand, type ScanCommandOutput, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FencedOutError } from './ports.ts';

/**
 * The FIX gateway's safe store (`tm-fix-gateway-store`, replicated): every accepted AllocationInstruction, keyed by
 * its sender and AllocID, with the exact JSON body forwarded to `tm.trades`. A leg is acknowledged only once it is
 * here; `forwarded` turns true once the broker has it, so a leader taking over re-drives whatever was stored and
 * not yet forwarded. Items carry the epoch of the leader that wrote them last.
 */

export interface FixLegItem {
  readonly id: string;
  readonly kind: 'fix-leg';
  readonly senderCompId: string;
  readonly allocId: string;
  /** The trade id of DESIGN §3.2, for reconciliation with the TM stores and for outcomes. */
  readonly tradeId: string;
  readonly body: string;
  readonly epoch: number;
  readonly forwarded: boolean;
  readonly receivedAt: string;
}

export type FixLegPut = { readonly stored: true } | { readonly stored: false; readonly existing: FixLegItem };

export interface FixLegStore {
  putIfAbsent(item: FixLegItem): Promise<FixLegPut>;
  get(id: string): Promise<FixLegItem | undefined>;
  /** Marks the leg forwarded, under the epoch; FencedOutError when a newer leader wrote it since. */
  markForwarded(id: string, epoch: number): Promise<void>;
  /** Every stored leg not yet forwarded. */
  unforwarded(): Promise<FixLegItem[]>;
  /** Every stored leg (reconciliation and the drill's accounting). */
  all(): Promise<FixLegItem[]>;
}

/** `fix:<SenderCompID>:<AllocID>`: one item per message a sender identifies as one. */
export const fixLegId = (senderCompId: string, allocId: string) => `fix:${senderCompId}:${allocId}`;

export class DynamoDbFixLegStore implements FixLegStore {
  refused = 0;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async putIfAbsent(item: FixLegItem): Promise<FixLegPut> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...item, recordedAt: this.now().toISOString() },
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': 'id' },
        }),
      );
      return { stored: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const existing = await this.get(item.id);
      if (!existing) throw error;
      return { stored: false, existing };
    }
  }

  async get(id: string): Promise<FixLegItem | undefined> {
    const result = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { id }, ConsistentRead: true }));
    return result.Item as FixLegItem | undefined;
  }

  async markForwarded(id: string, epoch: number): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id },
          UpdateExpression: 'SET #forwarded = :true, #epoch = :epoch, #forwardedAt = :at',
          ConditionExpression: 'attribute_exists(#id) AND #epoch <= :epoch',
          ExpressionAttributeNames: { '#id': 'id', '#forwarded': 'forwarded', '#epoch': 'epoch', '#forwardedAt': 'forwardedAt' },
          ExpressionAttributeValues: { ':true': true, ':epoch': epoch, ':at': this.now().toISOString() },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      this.refused += 1;
      throw new FencedOutError(`leg ${id}`, epoch);
    }
  }

  async unforwarded(): Promise<FixLegItem[]> {
    return (await this.all()).filter((item) => !item.forwarded);
  }

  async all(): Promise<FixLegItem[]> {
    const items: FixLegItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page: ScanCommandOutput = await this.documents.send(new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }));
      // Rotation's drain check writes watermark items into every safe store; only legs are read here.
      for (const item of page.Items ?? []) if (item.kind === 'fix-leg') items.push(item as FixLegItem);
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

export class InMemoryFixLegStore implements FixLegStore {
  readonly items = new Map<string, FixLegItem>();

  async putIfAbsent(item: FixLegItem): Promise<FixLegPut> {
    const existing = this.items.get(item.id);
    if (existing) return { stored: false, existing };
    this.items.set(item.id, item);
    return { stored: true };
  }

  async get(id: string): Promise<FixLegItem | undefined> {
    return this.items.get(id);
  }

  async markForwarded(id: string, epoch: number): Promise<void> {
    const item = this.items.get(id);
    if (!item || item.epoch > epoch) throw new FencedOutError(`leg ${id}`, epoch);
    this.items.set(id, { ...item, forwarded: true, epoch });
  }

  async unforwarded(): Promise<FixLegItem[]> {
    return [...this.items.values()].filter((item) => !item.forwarded);
  }

  async all(): Promise<FixLegItem[]> {
    return [...this.items.values()];
  }
}
