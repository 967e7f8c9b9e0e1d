import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import type { RunningTwin } from '#local/controller/controller.ts';
import { loadRoleState } from '#local/global/aurora/role-state.ts';

/**
 * The failback path's missing-transaction report: every message an inbound gateway acknowledged in the old region
 * (it is in that region's in-gateway store) that the new active region does not hold — legs, settlements and
 * settlement results — written as JSON and CSV with the run's metadata, then replayed into the new region's queues,
 * where the gateways record them under the same message ids (a replay of a message already there is a no-op).
 *
 * It also itemises the old Aurora writer's unreplicated tail: every row change it committed after the promotion
 * point, which the promoted writer never received and never will (the old writer is rebuilt as a secondary).
 * Those trades and settlements come back through the acknowledged messages that produced them: reconciliation
 * compares each matching database with the in-gateway stores and replays what it lacks.
 */

export const INBOUND_STORES = ['tm-inbound-gateway-store', 'sm-inbound-gateway-store'] as const;

export interface InboundMessage {
  readonly table: string;
  readonly id: string;
  readonly queue: string;
  readonly body: string;
  readonly receivedAt: string;
}

export interface MissingTransactionReport {
  readonly generatedAt: string;
  readonly failedRegion: string;
  readonly activeRegion: string;
  readonly failedAt: string;
  readonly checkedInFailedRegion: number;
  readonly missing: readonly InboundMessage[];
  /** Messages missing at the moment of failover (before anything replicated late). */
  readonly missingAtFailover: number;
  /** Trade legs among them: RPO is the age, at the failure, of the newest (DESIGN §6). */
  readonly legsMissingAtFailover: number;
  readonly rpoMs: number;
  /** Row changes the old Aurora writer committed after the promotion point, per database. */
  readonly unreplicatedTail: readonly TailChange[];
  readonly files: { readonly json: string; readonly csv: string };
}

export interface TailChange {
  readonly database: string;
  readonly table: string;
  readonly op: string;
  /** The row's primary key (`id` for trades, settlements and outbox rows). */
  readonly key: string;
  /** The row's status or event type after the change, where it has one. */
  readonly state: string | null;
  readonly capturedAt: string;
}

/** The tails recorded for `failedRegion` since `failedAt`, read from the twin's Aurora role files. */
export async function unreplicatedTail(dataDir: string, databases: readonly { name: string }[], failedRegion: string, failedAt: number): Promise<TailChange[]> {
  const changes: TailChange[] = [];
  for (const database of databases) {
    const state = await loadRoleState(path.join(dataDir, 'aurora', `${database.name}.aurora-roles.json`));
    for (const tail of state?.unreplicatedTails ?? []) {
      if (tail.region !== failedRegion || Date.parse(tail.recordedAt) < failedAt) continue;
      for (const change of tail.changes) {
        const key = Object.keys(change.primaryKey).length === 1 ? String(Object.values(change.primaryKey)[0]) : JSON.stringify(change.primaryKey);
        const state = change.row?.status ?? change.row?.event_type ?? null;
        changes.push({ database: database.name, table: change.table, op: change.op, key, state: state === null ? null : String(state), capturedAt: change.capturedAt });
      }
    }
  }
  return changes;
}

/** Every message in a region's in-gateway stores, read from the region's own DynamoDB (not the replicating endpoint). */
export async function inboundMessages(twin: RunningTwin, region: string): Promise<InboundMessage[]> {
  const endpoint = twin.region(region).report?.endpoints.dynamodb;
  if (!endpoint) throw new Error(`region ${region} is not up; its stores cannot be read`);
  const documents = documentClient(new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' } }));
  const messages: InboundMessage[] = [];
  for (const table of INBOUND_STORES) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await documents.send(new ScanCommand({ TableName: table, ConsistentRead: true, ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
      for (const item of page.Items ?? []) {
        if (typeof item.body !== 'string' || String(item.id).startsWith('watermark:')) continue;
        messages.push({ table, id: String(item.id), queue: String(item.queue), body: item.body, receivedAt: String(item.receivedAt) });
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return messages;
}

export async function writeMissingTransactionReport(
  twin: RunningTwin,
  context: { failedRegion: string; activeRegion: string; failedAt: number; atFailover: ReadonlySet<string>; runId: string },
): Promise<MissingTransactionReport> {
  const [old, current] = await Promise.all([inboundMessages(twin, context.failedRegion), inboundMessages(twin, context.activeRegion)]);
  const present = new Set(current.map((message) => message.id));
  const missing = old.filter((message) => !present.has(message.id));
  const missingAtFailover = old.filter((message) => !context.atFailover.has(message.id) && Date.parse(message.receivedAt) <= context.failedAt);
  const legs = missingAtFailover.filter((message) => message.table === 'tm-inbound-gateway-store' && /(^|\.)tm\.trades$/.test(message.queue));
  const newest = Math.max(0, ...legs.map((message) => Date.parse(message.receivedAt)));
  const tail = await unreplicatedTail(twin.layout.dataDir, twin.topology.databases, context.failedRegion, context.failedAt);
  const directory = path.join(twin.layout.dataDir, 'reports');
  await mkdir(directory, { recursive: true });
  const base = path.join(directory, `missing-transactions-${context.runId}`);
  const report: MissingTransactionReport = {
    generatedAt: new Date().toISOString(),
    failedRegion: context.failedRegion,
    activeRegion: context.activeRegion,
    failedAt: new Date(context.failedAt).toISOString(),
    checkedInFailedRegion: old.length,
    missing,
    missingAtFailover: missingAtFailover.length,
    legsMissingAtFailover: legs.length,
    rpoMs: legs.length === 0 ? 0 : context.failedAt - newest,
    unreplicatedTail: tail,
    files: { json: `${base}.json`, csv: `${base}.csv` },
  };
  const csvField = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);
  await writeFile(report.files.json, `${JSON.stringify(report, null, 2)}\n`);
  const rows = [
    ...missing.map((message) => [message.table, message.id, message.queue, message.receivedAt]),
    // The Aurora tail in the same columns: `<database>.<table>` (op), the row's key, its state, when it was captured.
    ...tail.map((change) => [`${change.database}.${change.table} (${change.op})`, change.key, change.state ?? '', change.capturedAt]),
  ];
  await writeFile(report.files.csv, `${['source,id,queue_or_state,at', ...rows.map((row) => row.map(csvField).join(','))].join('\n')}\n`);
  return report;
}

/** Sends each missing message, exactly as received, to its queue in the active region. */
export async function replayMissing(twin: RunningTwin, activeRegion: string, missing: readonly InboundMessage[]): Promise<number> {
  if (missing.length === 0) return 0;
  const broker = new StompMessageBroker({ url: twin.brokers[activeRegion]! });
  try {
    for (const message of missing) {
      const baseQueue = message.queue.replace(/^.*?(?=(tm|sm)\.)/, '');
      await broker.send(twin.queueName(activeRegion, baseQueue), message.body);
    }
  } finally {
    await broker.close();
  }
  return missing.length;
}
