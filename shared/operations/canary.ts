import { createHash } from 'node:crypto';
import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { TradeLeg } from '#domain/trade-leg.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import type { ResourceNames } from './app-resources.ts';

/**
 * The canary that proves a region serves again after a rotation or a recovery (DESIGN §6, RTO): a synthetic
 * trade pair that matches, sent to this region's `tm.trades` queue (the workflows invoke it in trade matching's
 * active region), then watched until both legs are SETTLED in
 * this region's `tm-matching-store`, i.e. it went through trade matching, settlement and back.
 *
 * The pair's parties (`CANARYIM`, `CANARYBR`) are names the generator never uses, so a canary cannot meet a
 * generated leg, and its trade id derives from the run: submitting again for the same run (a retried task) sends
 * the same bodies, which the inbound gateway takes as the same messages. The verifier judges generator runs only,
 * so a canary never counts against one; its ledger postings balance like any other.
 */

export const CANARY_IM = 'CANARYIM';
export const CANARY_BROKER = 'CANARYBR';
/** The manifest queue and table the canary uses. */
export const CANARY_QUEUE = 'tm.trades';
export const CANARY_STORE = 'tm-matching-store';

const RunId = z.string().min(1).max(200);

export const CanaryRequest = z.discriminatedUnion('action', [
  z.strictObject({ action: z.literal('submit'), runId: RunId }),
  z.strictObject({
    action: z.literal('check'),
    runId: RunId,
    tradeIds: z.tuple([z.string().min(1), z.string().min(1)]),
    /** As `submit` answered it (ISO 8601); epoch milliseconds are accepted too. */
    submittedAt: z.union([z.iso.datetime({ offset: true }), z.number().int().nonnegative()]),
  }),
]);
export type CanaryRequest = z.infer<typeof CanaryRequest>;

export interface CanarySubmitted {
  readonly runId: string;
  /** The IM leg's trade id, then the broker leg's. */
  readonly tradeIds: [string, string];
  readonly submittedAt: string;
}

export interface CanarySettled {
  readonly runId: string;
  readonly settled: true;
  readonly tradeIds: [string, string];
  readonly elapsedMs: number;
}

/** Not both legs are SETTLED yet (`ABSENT`: not in the matching store at all). Transient: the workflow retries. */
export class CanaryNotSettledError extends Error {
  override readonly name = 'CanaryNotSettledError';
  readonly transient = true;
  constructor(readonly statuses: Readonly<Record<string, string>>) {
    super(`the canary has not settled yet: ${Object.entries(statuses).map(([tradeId, status]) => `${tradeId} ${status}`).join(', ')}`);
  }
}

export interface CanaryDependencies {
  readonly names: ResourceNames;
  readonly broker: Pick<MessageBroker, 'send'>;
  /** From `documentClient()`. */
  readonly documents: DynamoDBDocumentClient;
  readonly now?: () => Date;
}

const PARTY_ID = /^[A-Za-z0-9]{1,20}$/;

/** The run id itself when it is a valid trade id (`[A-Za-z0-9]{1,20}`), otherwise 20 hex digits of its SHA-256. */
export function canaryTradeId(runId: string): string {
  return PARTY_ID.test(runId) ? runId : createHash('sha256').update(runId).digest('hex').slice(0, 20);
}

/** The two legs of the canary trade, the IM's first: equal economics, one allocation, trade date `day`. */
export function canaryLegs(runId: string, day: string): [TradeLeg, TradeLeg] {
  const im = TradeLeg.schema.parse({
    senderID: CANARY_IM,
    imID: CANARY_IM,
    brokerID: CANARY_BROKER,
    tradeID: canaryTradeId(runId),
    security: 'CANARY',
    transactionIndicator: 'B',
    price: '1.00',
    quantity: 1,
    tradeDate: day,
    settlementDate: day,
    deliveryInstructions: `rotor canary ${canaryTradeId(runId)}`,
    allocations: [{ allocationID: 1, quantity: 1, account: 'CANARYACCOUNT' }],
  });
  return [im, TradeLeg.schema.parse({ ...im, senderID: CANARY_BROKER })];
}

export async function canary(request: CanaryRequest, deps: CanaryDependencies): Promise<CanarySubmitted | CanarySettled> {
  return request.action === 'submit' ? submitCanary(request.runId, deps) : checkCanary(request, deps);
}

async function submitCanary(runId: string, deps: CanaryDependencies): Promise<CanarySubmitted> {
  const now = (deps.now ?? (() => new Date()))();
  const legs = canaryLegs(runId, now.toISOString().slice(0, 10));
  const queue = deps.names('queue', CANARY_QUEUE);
  // One after the other: the second leg finds the first waiting, as a real pair usually arrives.
  for (const leg of legs) await deps.broker.send(queue, JSON.stringify(leg));
  return { runId, tradeIds: [TradeLeg.id(legs[0]), TradeLeg.id(legs[1])], submittedAt: now.toISOString() };
}

async function checkCanary(request: Extract<CanaryRequest, { action: 'check' }>, deps: CanaryDependencies): Promise<CanarySettled> {
  const table = deps.names('table', CANARY_STORE);
  const statuses = Object.fromEntries(
    await Promise.all(
      request.tradeIds.map(async (tradeId) => {
        const output = await deps.documents.send(new GetCommand({ TableName: table, Key: { id: tradeId }, ConsistentRead: true }));
        const status = output.Item?.status;
        return [tradeId, typeof status === 'string' ? status : 'ABSENT'] as const;
      }),
    ),
  );
  if (!Object.values(statuses).every((status) => status === 'SETTLED')) throw new CanaryNotSettledError(statuses);
  const submittedAt = typeof request.submittedAt === 'number' ? request.submittedAt : Date.parse(request.submittedAt);
  const now = (deps.now ?? (() => new Date()))().getTime();
  return { runId: request.runId, settled: true, tradeIds: request.tradeIds, elapsedMs: Math.max(0, now - submittedAt) };
}
