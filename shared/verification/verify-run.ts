import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { batchGetById } from '#shared/adapters/dynamodb/batch-get.ts';
import type { Kysely } from 'kysely';
import { TradeLeg } from '#domain/trade-leg.ts';
import { PostgresLedgerRepository } from '#shared/adapters/postgres/ledger-repository.ts';
import type { SettlementDatabase } from '#shared/adapters/postgres/migrations/settlement.ts';
import type { TradeMatchingDatabase } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import type { GeneratedLeg } from '#domain/generator.ts';
import { legBody, legsOfRun, type GeneratorRun, type GeneratorRunStore } from '#shared/load/generator-run.ts';
import { MessageId } from '#shared/pipeline/message-id.ts';
import { simulate } from '#shared/simulation/in-memory-pipeline.ts';
import { judge, responseId, resultId, TRADE_STATUSES, type Observed, type SentLeg, type TradeState, type VerifyReport } from '#shared/verification/judge.ts';

/**
 * Gathers what `judge` needs from one region: the generator's runs, the matching databases of both apps and the
 * safe stores along each leg's path, reading only the ids the sent legs concern.
 */

export interface VerificationSources {
  readonly runs: GeneratorRunStore;
  readonly documents: DynamoDBDocumentClient;
  readonly tables: { tmInbound: string; tmMatching: string; tmOutbound: string; smMatching: string; smOutbound: string };
  readonly tradeMatching: Kysely<TradeMatchingDatabase>;
  readonly settlement: Kysely<SettlementDatabase>;
}

export interface VerifyRequest {
  /** Judge only the first N legs of each run (run id → N): the legs sent when verification began. */
  readonly cutoff?: Readonly<Record<string, number>>;
}

export interface VerifyResult extends VerifyReport {
  readonly cutoff: Record<string, number>;
  readonly runs: number;
}

const SQL_IN_LIMIT = 1_000;

/** How far the judged legs have got, from two stores only: what `rotor verify` polls while legs are in flight. */
export interface VerifyProgress {
  readonly cutoff: Record<string, number>;
  readonly legs_sent: number;
  readonly legs_acked: number;
  /** Judged legs whose trade the matching store shows in its expected final status. */
  readonly legs_terminal: number;
}

/**
 * How far past its recorded count an unfinished run's legs are looked for. A run records its progress about once a
 * second, so one that died with its region (or is still sending) may have sent more than it recorded.
 */
export const UNRECORDED_LEGS_LOOKAHEAD = 1_000;

/**
 * The legs each run has sent, in its order: the first `legsSent`, and, for a run that did not finish, every later
 * leg within the look-ahead that the gateway acknowledged — an acknowledgement proves the leg was sent, where the
 * run's record may lag behind. Left out, such a leg would still be processed, and its counterpart judged against a
 * ground truth without it. A later leg not acknowledged stays out: nothing says it was ever sent.
 */
async function legsSentBy(run: GeneratorRun, sources: VerificationSources): Promise<GeneratedLeg[]> {
  if (run.status !== 'running' && run.status !== 'failed') return legsOfRun(run);
  const legs = legsOfRun({ ...run, legsSent: run.legsSent + UNRECORDED_LEGS_LOOKAHEAD });
  const beyond = legs.slice(run.legsSent).map((generated) => ({ generated, id: MessageId.of(run.queue, legBody(generated)) }));
  if (beyond.length === 0) return legs;
  const acked = await batchGet(sources.documents, sources.tables.tmInbound, beyond.map(({ id }) => id));
  return [...legs.slice(0, run.legsSent), ...beyond.filter(({ id }) => acked.has(id)).map(({ generated }) => generated)];
}

/** What verification judges: the legs each run had sent when it began, and the ground truth of every leg sent. */
async function judgedLegs(request: VerifyRequest, sources: VerificationSources) {
  const runs = await sources.runs.all();
  const sent = new Map(await Promise.all(runs.map(async (run) => [run.id, await legsSentBy(run, sources)] as const)));
  const cutoff: Record<string, number> = {};
  // Judged: the legs each run had sent when verification began. Expected: what every leg sent by now makes of
  // them — a counterpart sent after the cutoff still matches a judged leg, so it must count in the ground truth.
  const judged: SentLeg[] = [];
  const everySent = runs.flatMap((run) => {
    const legs = sent.get(run.id)!;
    const judgedCount = Math.min(legs.length, request.cutoff?.[run.id] ?? (request.cutoff ? 0 : legs.length));
    cutoff[run.id] = judgedCount;
    return legs.map((generated, index) => {
      const body = legBody(generated);
      if (index < judgedCount) judged.push({ messageId: MessageId.of(run.queue, body), tradeId: TradeLeg.id(generated.leg) });
      return body;
    });
  });
  return { runs, cutoff, judged, expected: await expectedOutcome(runs.map((run) => ({ ...run, legsSent: sent.get(run.id)!.length })), everySent) };
}

/**
 * A sixth of a verdict's reads: the gateway's acknowledgements and the matching store's trade statuses. A leg whose
 * trade is in its expected final status there may still have settlements on their way, so only a full verdict
 * says ok; this says when one is worth asking for.
 */
export async function verifyProgress(request: VerifyRequest, sources: VerificationSources): Promise<VerifyProgress> {
  const { cutoff, judged, expected } = await judgedLegs(request, sources);
  const [acked, tradesInStore] = await Promise.all([
    batchGet(sources.documents, sources.tables.tmInbound, judged.map((leg) => leg.messageId)),
    batchGet(sources.documents, sources.tables.tmMatching, [...new Set(judged.map((leg) => leg.tradeId))]),
  ]);
  const terminal = judged.filter((leg) => {
    const wanted = expected.trades[leg.tradeId];
    return wanted !== undefined && String(tradesInStore.get(leg.tradeId)?.status) === wanted;
  });
  return { cutoff, legs_sent: judged.length, legs_acked: judged.filter((leg) => acked.has(leg.messageId)).length, legs_terminal: terminal.length };
}

export async function verifyRuns(request: VerifyRequest, sources: VerificationSources): Promise<VerifyResult> {
  const { runs, cutoff, judged, expected } = await judgedLegs(request, sources);

  const tradeIds = [...new Set(judged.map((leg) => leg.tradeId))];
  const judgedTrades = new Set(tradeIds);
  const settlementIds = Object.keys(expected.settlements).filter((id) => judgedTrades.has(id.slice(0, id.lastIndexOf('-'))));
  const [acked, tradesInStore, deliveriesTm, settlementsInStore, deliveriesSm, tradesInDatabase, settlementsInDatabase, balances] = await Promise.all([
    batchGet(sources.documents, sources.tables.tmInbound, judged.map((leg) => leg.messageId)),
    batchGet(sources.documents, sources.tables.tmMatching, tradeIds),
    batchGet(sources.documents, sources.tables.tmOutbound, tradeIds.flatMap((id) => TRADE_STATUSES.map((status) => responseId(id, status)))),
    batchGet(sources.documents, sources.tables.smMatching, settlementIds),
    batchGet(sources.documents, sources.tables.smOutbound, settlementIds.flatMap((id) => ['SETTLED', 'MISMATCHED'].map((status) => resultId(id, status)))),
    tradesOf(sources.tradeMatching, tradeIds),
    settlementsOf(sources.settlement, settlementIds),
    new PostgresLedgerRepository(sources.settlement).balances(),
  ]);
  const deliveries = new Map<string, number>();
  for (const [id, item] of [...deliveriesTm, ...deliveriesSm]) deliveries.set(id, Number(item.deliveries ?? 0));
  const observed: Observed = {
    acked: new Set(acked.keys()),
    tradesInStore: statusesOf(tradesInStore),
    settlementsInStore: statusesOf(settlementsInStore),
    deliveries,
    tradesInDatabase,
    settlementsInDatabase,
    ledgerBalanced: balances.toJSON().balanced,
  };
  return { ...judge(judged, expected, observed), cutoff, runs: runs.length };
}

/**
 * The simulated ground truth of every leg sent, kept for the next call while no run sent more: `rotor verify` polls
 * while legs are in flight, and re-simulating an unchanged load each time would cost the region it judges.
 */
let lastExpected: { key: string; outcome: ReturnType<typeof simulate> } | undefined;

function expectedOutcome(runs: readonly GeneratorRun[], everySent: readonly string[]): ReturnType<typeof simulate> {
  const key = JSON.stringify(runs.map((run) => [run.id, run.seed, run.pairs, run.mix, run.legsSent]));
  if (lastExpected?.key === key) return lastExpected.outcome;
  const outcome = simulate(everySent.map((body, index) => ({ index, body })));
  lastExpected = { key, outcome };
  outcome.catch(() => {
    if (lastExpected?.outcome === outcome) lastExpected = undefined;
  });
  return outcome;
}

const statusesOf = (items: Map<string, Record<string, unknown>>) => new Map([...items].map(([id, item]) => [id, String(item.status)]));

const batchGet = (documents: DynamoDBDocumentClient, table: string, ids: readonly string[]) => batchGetById(documents, table, ids);

async function tradesOf(db: Kysely<TradeMatchingDatabase>, ids: readonly string[]): Promise<Map<string, TradeState>> {
  const trades = new Map<string, { status: string; allocations: Record<string, string> }>();
  for (let start = 0; start < ids.length; start += SQL_IN_LIMIT) {
    const chunk = ids.slice(start, start + SQL_IN_LIMIT);
    const [rows, allocations] = await Promise.all([
      db.selectFrom('trades').select(['id', 'status']).where('id', 'in', chunk).execute(),
      db.selectFrom('allocations').select(['trade_id', 'allocation_id', 'status']).where('trade_id', 'in', chunk).execute(),
    ]);
    for (const row of rows) trades.set(row.id, { status: row.status, allocations: {} });
    for (const allocation of allocations) {
      const trade = trades.get(allocation.trade_id);
      if (trade) trade.allocations[String(allocation.allocation_id)] = allocation.status;
    }
  }
  return trades;
}

async function settlementsOf(db: Kysely<SettlementDatabase>, ids: readonly string[]): Promise<Map<string, string>> {
  const settlements = new Map<string, string>();
  for (let start = 0; start < ids.length; start += SQL_IN_LIMIT) {
    const rows = await db.selectFrom('settlements').select(['id', 'status']).where('id', 'in', ids.slice(start, start + SQL_IN_LIMIT)).execute();
    for (const row of rows) settlements.set(row.id, row.status);
  }
  return settlements;
}
