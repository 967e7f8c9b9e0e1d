import type { z } from 'zod';
import type { Nack } from './nack.ts';
import {
  type InboundRecord,
  type SettlementRecordMessage,
  type SettlementResultRecord,
  TmSettlementsBody,
  type TradeLegRecord,
} from './pipeline-messages.ts';
import { Settlement } from './settlement.ts';
import { MAX_BODY_BYTES } from './trade-leg.ts';
import { nackForSchemaIssues, validateTradeLegMessage } from './trade-leg-validation.ts';

/**
 * Ingestion (DESIGN §2): what each app makes of a message its gateway took off a queue — a record for matching,
 * or a NACK with its reason. Pure, so a redelivered message always gets the same answer.
 */

export type IngestionDecision<T> = { readonly status: 'ACCEPTED'; readonly record: T } | { readonly status: 'NACKED'; readonly nack: Nack };

/** Trade matching's inbound queues: `tm.trades` carries legs, `tm.settlements` the settlement app's answers. */
export const TRADE_MATCHING_QUEUES = { trades: 'tm.trades', settlements: 'tm.settlements' } as const;

/** Queue names may carry a region prefix (`us-east-1.tm.trades`) when regions share one broker. */
export const isQueue = (actual: string, name: string) => actual === name || actual.endsWith(`.${name}`);

const oversized = (message: InboundRecord): Nack | undefined =>
  message.truncated || message.bodyBytes > MAX_BODY_BYTES
    ? { code: 'OVERSIZED', reason: `body is ${message.bodyBytes} bytes; the limit is ${MAX_BODY_BYTES} bytes (256 KiB)` }
    : undefined;

function parseJson<T>(body: string, schema: z.ZodType<T>): { ok: true; value: T } | { ok: false; nack: Nack } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    return { ok: false, nack: { code: 'MALFORMED_JSON', reason: `body is not valid JSON: ${(error as Error).message}` } };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { ok: false, nack: { code: 'MALFORMED_JSON', reason: 'body must be a JSON object' } };
  }
  const result = schema.safeParse(parsed, { reportInput: true });
  return result.success ? { ok: true, value: result.data } : { ok: false, nack: nackForSchemaIssues(result.error.issues) };
}

export function ingestTradeMatchingMessage(message: InboundRecord): IngestionDecision<TradeLegRecord | SettlementResultRecord> {
  const tooLarge = oversized(message);
  if (tooLarge) return { status: 'NACKED', nack: tooLarge };
  if (isQueue(message.queue, TRADE_MATCHING_QUEUES.settlements)) {
    const parsed = parseJson(message.body, TmSettlementsBody);
    if (!parsed.ok) return { status: 'NACKED', nack: parsed.nack };
    const body = parsed.value;
    if (body.type === 'settlement-nack') {
      const { type: _type, messageId: _settlementMessage, ...nack } = body;
      return { status: 'NACKED', nack };
    }
    return { status: 'ACCEPTED', record: { kind: 'settlement-result', id: message.id, result: body } };
  }
  const validation = validateTradeLegMessage(message.body);
  if (!validation.ok) return { status: 'NACKED', nack: validation.nack };
  return { status: 'ACCEPTED', record: { kind: 'trade-leg', id: message.id, leg: validation.leg } };
}

export function ingestSettlementMessage(message: InboundRecord): IngestionDecision<SettlementRecordMessage> {
  const tooLarge = oversized(message);
  if (tooLarge) return { status: 'NACKED', nack: tooLarge };
  const parsed = parseJson(message.body, Settlement.schema);
  if (!parsed.ok) return { status: 'NACKED', nack: parsed.nack };
  const settlement = parsed.value;
  if (settlement.senderID !== settlement.imID && settlement.senderID !== settlement.brokerID) {
    return {
      status: 'NACKED',
      nack: { code: 'SENDER_NOT_PARTY', field: 'senderID', reason: `senderID ${settlement.senderID} is neither ${settlement.imID} nor ${settlement.brokerID}` },
    };
  }
  return { status: 'ACCEPTED', record: { kind: 'settlement', id: message.id, settlement } };
}
