import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type BatchGetCommandOutput, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { FencedOutError, type SessionState, type SessionStore, SessionStateConflictError, type StoredOutbound } from './ports.ts';

/**
 * Session state in DynamoDB (the `tm-fix-sessions` table, hash key `id`): `session:<CompID>` holds the sequence
 * numbers and the epoch of the leader that last wrote them; `out:<CompID>:<seq>` holds each application message
 * sent, for ResendRequest. Every write is conditional on the epoch, so once a new leader has claimed a session a
 * deposed one can neither move its numbers nor store a message in it. Reads are strongly consistent: a leader that
 * has just taken over must see what its predecessor wrote.
 */
export class DynamoDbSessionStore implements SessionStore {
  /** Writes refused because a newer epoch owned the item: what the failover drill counts. */
  refused = 0;

  constructor(
    private readonly documents: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async claim(session: string, epoch: number): Promise<SessionState> {
    try {
      const result = await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: sessionKey(session) },
          UpdateExpression: 'SET #epoch = :epoch, #sender = if_not_exists(#sender, :one), #target = if_not_exists(#target, :one)',
          ConditionExpression: 'attribute_not_exists(#epoch) OR #epoch <= :epoch',
          ExpressionAttributeNames: { '#epoch': 'epoch', '#sender': 'nextSenderSeq', '#target': 'nextTargetSeq' },
          ExpressionAttributeValues: { ':epoch': epoch, ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = result.Attributes as { nextSenderSeq: number; nextTargetSeq: number };
      return { nextSenderSeq: item.nextSenderSeq, nextTargetSeq: item.nextTargetSeq };
    } catch (error) {
      throw this.fenced(error, `session ${session}`, epoch);
    }
  }

  async update(session: string, epoch: number, expected: Partial<SessionState>, next: Partial<SessionState>): Promise<void> {
    const names: Record<string, string> = { '#epoch': 'epoch' };
    const values: Record<string, unknown> = { ':epoch': epoch };
    const sets = ['#epoch = :epoch'];
    const conditions = ['#epoch <= :epoch'];
    for (const [key, value] of Object.entries(next)) {
      names[`#${key}`] = key;
      values[`:next_${key}`] = value;
      sets.push(`#${key} = :next_${key}`);
    }
    for (const [key, value] of Object.entries(expected)) {
      names[`#${key}`] = key;
      values[`:expected_${key}`] = value;
      conditions.push(`#${key} = :expected_${key}`);
    }
    try {
      await this.documents.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { id: sessionKey(session) },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      // Tell a stale epoch from a sequence race: only the first means this process is no longer the leader.
      const current = await this.read(session);
      if (current && current.epoch > epoch) throw this.fenced(error, `session ${session}`, epoch);
      throw new SessionStateConflictError(`session ${session}: the stored sequence numbers are not ${JSON.stringify(expected)}`, { cause: error });
    }
  }

  async storeOutbound(session: string, epoch: number, message: StoredOutbound): Promise<void> {
    try {
      await this.documents.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { id: outboundKey(session, message.seq), session, seq: message.seq, msgType: message.msgType, body: JSON.stringify(message.body), sendingTime: message.sendingTime, epoch },
          // The number was allocated by a fenced update, so only a second writer of it can find the item there:
          // a sent message is never overwritten.
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': 'id' },
        }),
      );
    } catch (error) {
      throw this.fenced(error, `message ${session}:${message.seq}`, epoch);
    }
  }

  async outbound(session: string, from: number, to: number): Promise<StoredOutbound[]> {
    const found: StoredOutbound[] = [];
    for (let start = from; start <= to; start += 100) {
      const keys = Array.from({ length: Math.min(100, to - start + 1) }, (_, index) => ({ id: outboundKey(session, start + index) }));
      let pending: Record<string, unknown>[] | undefined = keys;
      while (pending && pending.length > 0) {
        const result: BatchGetCommandOutput = await this.documents.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: true } } }));
        for (const item of result.Responses?.[this.tableName] ?? []) {
          found.push({ seq: item.seq as number, msgType: item.msgType as string, body: JSON.parse(item.body as string) as StoredOutbound['body'], sendingTime: item.sendingTime as string });
        }
        pending = result.UnprocessedKeys?.[this.tableName]?.Keys;
      }
    }
    return found.sort((a, b) => a.seq - b.seq);
  }

  private async read(session: string): Promise<(SessionState & { epoch: number }) | undefined> {
    const result = await this.documents.send(new GetCommand({ TableName: this.tableName, Key: { id: sessionKey(session) }, ConsistentRead: true }));
    return result.Item as (SessionState & { epoch: number }) | undefined;
  }

  private fenced(error: unknown, what: string, epoch: number): unknown {
    if (!(error instanceof ConditionalCheckFailedException) && !(error instanceof FencedOutError)) return error;
    this.refused += 1;
    return new FencedOutError(what, epoch);
  }
}

const sessionKey = (session: string) => `session:${session}`;
const outboundKey = (session: string, seq: number) => `out:${session}:${seq}`;
