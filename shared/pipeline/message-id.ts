import { createHash } from 'node:crypto';
import type { AppName } from '#shared/topology/schema.ts';

/**
 * Ids the inbound gateway gives messages. The id is derived from the queue and the exact body, so a message a
 * client sends twice, or the broker delivers twice, is recorded once; a different body under the same trade id
 * gets its own id and reaches matching, which rejects it as a CONFLICTING_DUPLICATE. The readable head names the
 * trade when the body says which, so operators can find a trade's messages by prefix.
 */
export const MessageId = {
  of(queue: string, body: string): string {
    const digest = createHash('sha256').update(queue.replace(/^.*?(?=(tm|sm)\.)/, '')).update('\n').update(body).digest('hex').slice(0, 32);
    const fields = jsonFields(body);
    const tradeId = fields && [fields.senderID, fields.imID, fields.brokerID, fields.tradeID].every(isIdPart) ? [fields.senderID, fields.imID, fields.brokerID, fields.tradeID].join('-') : undefined;
    const allocation = fields && Number.isInteger(fields.allocationID) ? `-${String(fields.allocationID)}` : '';
    return tradeId ? `msg:${tradeId}${allocation}:${digest}` : `msg:${digest}`;
  },

  /** The trade id a message id names, if its body named one (without an allocation suffix). */
  tradeIdOf(messageId: string): string | undefined {
    const named = /^msg:([A-Za-z0-9]+(?:-[A-Za-z0-9]+){3})(?:-\d+)?:[0-9a-f]{32}$/.exec(messageId);
    return named?.[1];
  },
};

/**
 * The partition key the body calls for on the app's streams (DESIGN §2): the match key for trade matching, the
 * allocation key for settlement, so related messages share a shard. Unreadable bodies spread by their id.
 */
export function partitionKeyOfBody(app: AppName, body: string, fallback: string): string {
  const fields = jsonFields(body);
  if (!fields || ![fields.imID, fields.brokerID, fields.tradeID].every(isIdPart)) return fallback;
  const matchKey = `${String(fields.imID)}|${String(fields.brokerID)}|${String(fields.tradeID)}`;
  if (app === 'trade-matching') return matchKey;
  return Number.isInteger(fields.allocationID) ? `${matchKey}|${String(fields.allocationID)}` : fallback;
}

const isIdPart = (value: unknown): value is string => typeof value === 'string' && /^[A-Za-z0-9]{1,20}$/.test(value);

function jsonFields(body: string): Record<string, unknown> | undefined {
  if (body.length > 300_000) return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
