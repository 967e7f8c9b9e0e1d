import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Lease, LeaseStore } from './ports.ts';

/**
 * The leader lease of a region in DynamoDB (the `tm-fix-lease` table, item `lease:<region>`). Taking it is a
 * conditional write that succeeds only when the lease is free or expired, and it increments the fencing epoch,
 * so two leaders can never hold the same epoch and every later leader holds a larger one. Renewing is conditional
 * on holder and epoch, so a holder that was paused past its expiry learns it was deposed instead of extending
 * someone else's lease.
 */
export class DynamoDbLeaseStore implements LeaseStore {
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
    private readonly now: () => number = Date.now,
  ) {}

  async acquire(region: string, holder: string, address: string, ttlMs: number): Promise<Lease | undefined> {
    const now = this.now();
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: leaseKey(region) },
          UpdateExpression: 'SET #holder = :holder, #address = :address, #expiresAt = :expiresAt, #region = :region, #acquiredAt = :now ADD #epoch :one',
          ConditionExpression: 'attribute_not_exists(#expiresAt) OR #expiresAt < :now',
          ExpressionAttributeNames: { '#holder': 'holder', '#address': 'address', '#expiresAt': 'expiresAt', '#epoch': 'epoch', '#region': 'region', '#acquiredAt': 'acquiredAt' },
          ExpressionAttributeValues: { ':holder': holder, ':address': address, ':expiresAt': now + ttlMs, ':now': now, ':one': 1, ':region': region },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return leaseOf(result.Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async renew(lease: Lease, ttlMs: number): Promise<Lease | undefined> {
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: leaseKey(lease.region) },
          UpdateExpression: 'SET #expiresAt = :expiresAt',
          ConditionExpression: '#holder = :holder AND #epoch = :epoch',
          ExpressionAttributeNames: { '#holder': 'holder', '#expiresAt': 'expiresAt', '#epoch': 'epoch' },
          ExpressionAttributeValues: { ':holder': lease.holder, ':epoch': lease.epoch, ':expiresAt': this.now() + ttlMs },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return leaseOf(result.Attributes!);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async release(lease: Lease): Promise<void> {
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: leaseKey(lease.region) },
          UpdateExpression: 'SET #expiresAt = :zero',
          ConditionExpression: '#holder = :holder AND #epoch = :epoch',
          ExpressionAttributeNames: { '#holder': 'holder', '#expiresAt': 'expiresAt', '#epoch': 'epoch' },
          ExpressionAttributeValues: { ':holder': lease.holder, ':epoch': lease.epoch, ':zero': 0 },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async current(region: string): Promise<Lease | undefined> {
    const result = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { id: leaseKey(region) }, ConsistentRead: true }));
    return result.Item ? leaseOf(result.Item) : undefined;
  }
}

const leaseKey = (region: string) => `lease:${region}`;

function leaseOf(item: Record<string, unknown>): Lease {
  return { region: item.region as string, holder: item.holder as string, address: item.address as string, epoch: item.epoch as number, expiresAt: item.expiresAt as number };
}
