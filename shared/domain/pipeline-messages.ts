import { z } from 'zod';
import { Nack } from './nack.ts';
import { Settlement } from './settlement.ts';
import { AllocationStatus, SettlementStatus, TradeStatus } from './status.ts';
import { TradeLeg } from './trade-leg.ts';

/**
 * What travels between Rotor's stages (DESIGN §2). Two families:
 *
 * - **Queue bodies** (`QueueBody`): the JSON on the MQ queues, Rotor's public wire format next to the trade leg
 *   itself (§3.1): responses to senders, settlements sent to the settlement app, and settlement results sent back.
 * - **Stream records** (`StreamRecord`): the JSON on the Kinesis streams between stages. Every record has a `kind`
 *   and an `id`, the business id each stage keys its safe store and its idempotency on, so a redelivered or
 *   replayed record finds what was already done under the same id.
 */

const isoTimestamp = z.iso.datetime();

// ---- Queue bodies -------------------------------------------------------------------------------------------

/** A trade's status, answered to its sender on `tm.responses` each time it changes. */
export const TradeStatusResponse = z.strictObject({
  type: z.literal('trade-status'),
  tradeId: z.string(),
  status: TradeStatus,
  allocations: z.record(z.string(), AllocationStatus),
});

/** An allocation that could not settle, answered on `tm.responses`. */
export const AllocationStatusResponse = z.strictObject({
  type: z.literal('allocation-status'),
  tradeId: z.string(),
  allocationID: z.int(),
  status: AllocationStatus,
});

/** A rejected message: answered on the sender's out queue with its code and reason. */
export const NackResponse = z.strictObject({
  type: z.literal('nack'),
  /** The gateway's id of the rejected message (`MessageId`). */
  messageId: z.string(),
  code: Nack.shape.code,
  reason: z.string(),
  field: z.string().optional(),
  tradeId: z.string().optional(),
});

/** A settlement's outcome, sent by the settlement app to trade matching's `tm.settlements` queue. */
export const SettlementResultBody = z.strictObject({
  type: z.literal('settlement-result'),
  settlementId: z.string(),
  imID: z.string(),
  brokerID: z.string(),
  tradeID: z.string(),
  senderID: z.string(),
  allocationID: z.int(),
  status: SettlementStatus.exclude(['UNMATCHED']),
});
export type SettlementResultBody = z.infer<typeof SettlementResultBody>;

/** A settlement the settlement app rejected; trade matching answers it to the trade's sender. */
export const SettlementNackBody = NackResponse.extend({ type: z.literal('settlement-nack') });
export type SettlementNackBody = z.infer<typeof SettlementNackBody>;

export const TmSettlementsBody = z.discriminatedUnion('type', [SettlementResultBody, SettlementNackBody]);
export type TmSettlementsBody = z.infer<typeof TmSettlementsBody>;

export const ResponseBody = z.discriminatedUnion('type', [TradeStatusResponse, AllocationStatusResponse, NackResponse]);
export type ResponseBody = z.infer<typeof ResponseBody>;

// ---- Stream records -----------------------------------------------------------------------------------------

/** Gateway → ingestion: a message exactly as it came off the queue (or its head, when oversized). */
export const InboundRecord = z.strictObject({
  kind: z.literal('inbound'),
  /** `MessageId.of(queue, body)`. */
  id: z.string(),
  queue: z.string(),
  body: z.string(),
  bodyBytes: z.int().nonnegative(),
  /** True when `body` holds only the head of a message too large to forward; ingestion rejects it as OVERSIZED. */
  truncated: z.boolean(),
  receivedAt: isoTimestamp,
});
export type InboundRecord = z.infer<typeof InboundRecord>;

/** Ingestion → trade matching: a valid leg. */
export const TradeLegRecord = z.strictObject({
  kind: z.literal('trade-leg'),
  /** The message id: a second message with the same trade id and other content must still reach matching. */
  id: z.string(),
  leg: TradeLeg.schema,
});
export type TradeLegRecord = z.infer<typeof TradeLegRecord>;

/** Ingestion → trade matching: a settlement's outcome to roll up into its trade. */
export const SettlementResultRecord = z.strictObject({
  kind: z.literal('settlement-result'),
  /** The message id. */
  id: z.string(),
  result: SettlementResultBody,
});
export type SettlementResultRecord = z.infer<typeof SettlementResultRecord>;

/** Ingestion → settlement matching: one settlement of a matched leg. */
export const SettlementRecordMessage = z.strictObject({
  kind: z.literal('settlement'),
  /** The message id. */
  id: z.string(),
  settlement: Settlement.schema,
});
export type SettlementRecordMessage = z.infer<typeof SettlementRecordMessage>;

/** Ingestion → egress: a message rejected before matching. */
export const NackRecord = z.strictObject({
  kind: z.literal('nack'),
  /** `nack:<message id>`. */
  id: z.string(),
  messageId: z.string(),
  queue: z.string(),
  nack: Nack,
});
export type NackRecord = z.infer<typeof NackRecord>;

/** Matching → egress: one event of the matching database's outbox. */
export const OutboxEventRecord = z.strictObject({
  kind: z.literal('event'),
  /** `<event type>:<aggregate id>`, plus `:<message id>` for rejections and roll-ups: unique per effect. */
  id: z.string(),
  outboxId: z.string(),
  eventType: z.string(),
  aggregateId: z.string(),
  payload: z.unknown(),
});
export type OutboxEventRecord = z.infer<typeof OutboxEventRecord>;

/** Egress → outbound gateway: one message for one queue, named by the gateway's environment variable. */
export const OutboundRecord = z.strictObject({
  kind: z.literal('outbound'),
  /** `response:<trade id>:<status>`, `settlement:<settlement id>`, `result:<settlement id>:<status>`, `nack:<message id>`. */
  id: z.string(),
  destination: z.enum(['RESPONSE_QUEUE', 'SETTLEMENT_QUEUE', 'SETTLEMENT_RESULT_QUEUE']),
  body: z.string(),
  tradeId: z.string().optional(),
});
export type OutboundRecord = z.infer<typeof OutboundRecord>;

export const MatchingInput = z.discriminatedUnion('kind', [TradeLegRecord, SettlementResultRecord, SettlementRecordMessage]);
export type MatchingInput = z.infer<typeof MatchingInput>;

export const EgressInput = z.discriminatedUnion('kind', [OutboxEventRecord, NackRecord]);
export type EgressInput = z.infer<typeof EgressInput>;

export const StreamRecord = z.discriminatedUnion('kind', [
  InboundRecord,
  TradeLegRecord,
  SettlementResultRecord,
  SettlementRecordMessage,
  NackRecord,
  OutboxEventRecord,
  OutboundRecord,
]);
export type StreamRecord = z.infer<typeof StreamRecord>;

// ---- Ids ----------------------------------------------------------------------------------------------------

export const OutboundId = {
  response: (tradeId: string, status: string) => `response:${tradeId}:${status}`,
  allocation: (settlementId: string, status: string) => `allocation:${settlementId}:${status}`,
  settlement: (settlementId: string) => `settlement:${settlementId}`,
  result: (settlementId: string, status: string) => `result:${settlementId}:${status}`,
  nack: (messageId: string) => `nack:${messageId}`,
} as const;
