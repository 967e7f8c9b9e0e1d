import { publishForwards, type Forward } from '#shared/pipeline/forward.ts';
import type { MessageBroker } from '#shared/ports/message-broker.ts';
import type { StreamPublisher } from '#shared/ports/stream-publisher.ts';
import type { AppName } from '#shared/topology/schema.ts';
import type { AuditTrail, PairReplay } from './audit-trail.ts';
import { selectPairs, type PairSpec, type ReplayAction } from './pair-graph.ts';
import type { ReconciliationReads } from './reads.ts';
import type { ReplayInput, ReplayOutput } from './schemas.ts';

/**
 * One replay (ops-replay): re-reads each missing source item by id, sends it downstream again as the graph says,
 * and records every id it sent in the audit trail. Safe to repeat: every stage keys its effect by the record's id,
 * so a record that was not missing after all, or is replayed twice, meets its own id and takes no second effect.
 *
 * Pairs are replayed upstream first and each pair's sends complete before the next pair's begin, so a trade leg
 * is back on its stream before the settlement result that reports on it. The same record asked for by two pairs
 * (a message missing at ingestion is missing at matching too) is sent once.
 */

export interface ReplayDependencies {
  readonly graph: (app: AppName) => readonly PairSpec[];
  readonly reads: ReconciliationReads;
  readonly publisher: StreamPublisher;
  readonly broker: Pick<MessageBroker, 'send'>;
  readonly audit: AuditTrail;
  readonly now?: () => Date;
}

/** Header on replayed queue messages: which run sent it, for whoever reads the queue. */
export const REPLAY_HEADER = 'rotor-replay-run';

const actionKey = (action: ReplayAction) =>
  action.kind === 'stream' ? `stream\n${action.stream}\n${action.record.kind}\n${action.record.id}` : `queue\n${action.queue}\n${action.body}`;

export async function replay(input: ReplayInput, deps: ReplayDependencies): Promise<ReplayOutput> {
  const now = deps.now ?? (() => new Date());
  const requested = new Map<string, string[]>();
  for (const entry of input.pairs) requested.set(entry.pair, [...(requested.get(entry.pair) ?? []), ...entry.missingIds]);
  const pairs = selectPairs(deps.graph(input.app), [...requested.keys()]);

  const sent = new Set<string>();
  const done: PairReplay[] = [];
  for (const pair of pairs) {
    const ids = [...new Set(requested.get(pair.name) ?? [])];
    const items = ids.length > 0 ? await deps.reads.read(pair.source, ids) : new Map();
    const replayedIds: string[] = [];
    const forwards: Array<Forward & { last: boolean }> = [];
    const messages: Array<{ queue: string; body: string; id: string }> = [];
    for (const id of ids) {
      const item = items.get(id);
      const action = item && pair.replay(item);
      if (!action) continue;
      replayedIds.push(id);
      const key = actionKey(action);
      if (sent.has(key)) continue;
      sent.add(key);
      if (action.kind === 'stream') forwards.push({ stream: action.stream, partitionKey: action.partitionKey, record: action.record, last: action.last ?? false });
      else messages.push({ queue: action.queue, body: action.body, id });
    }
    // A result put before its trade's legs would fail in matching and hold the trade's lane until they arrive.
    await publishForwards(deps.publisher, forwards.filter((forward) => !forward.last));
    await publishForwards(deps.publisher, forwards.filter((forward) => forward.last));
    for (const message of messages) {
      await deps.broker.send(message.queue, message.body, { 'rotor-message-id': message.id, [REPLAY_HEADER]: input.runId });
    }
    done.push({ pair: pair.name, replayed: replayedIds.length, skipped: ids.length - replayedIds.length, ids: replayedIds });
  }

  await deps.audit.replayed({ app: input.app, runId: input.runId, pass: input.pass, replayedAt: now().toISOString(), pairs: done });
  return {
    app: input.app,
    runId: input.runId,
    pass: input.pass,
    replayed: done.reduce((sum, pair) => sum + pair.replayed, 0),
    pairs: done.map(({ pair, replayed, skipped }) => ({ pair, replayed, skipped })),
  };
}
