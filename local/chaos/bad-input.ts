import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import type { RunningTwin } from '#local/controller/controller.ts';
import { runLoad, sleep, startDrillTwin, stopLoad, verifyTwin, type DrillProgress } from '#local/drills/drill-twin.ts';
import { BAD_INPUT_QUEUE, badMessages, type BadMessage } from '#local/chaos/bad-messages.ts';
import { codeAndReason } from '#local/chaos/invariants.ts';

/**
 * `rotor drill bad-input`: a fresh twin with the generator's valid legs flowing, and `messages` adversarial bodies
 * (bad-messages.ts) sent into the active region's tm.trades beside them. Judged: every bad one answered by a NACK
 * with the code ingestion gives it and a reason; every valid leg terminal (verify); the regions' memory sampled
 * throughout. The rate the twin NACKs at is measured, not assumed.
 */

export interface BadInputOptions {
  readonly dataDir: string;
  readonly messages: number;
  readonly seed: number;
  /** Valid legs per second beside the bad ones. */
  readonly rate: number;
  /** How long to wait for the last NACK once everything is sent. */
  readonly drainTimeoutSeconds: number;
  readonly progress: DrillProgress;
}

export interface BadInputResult {
  readonly scenario: 'bad-input';
  readonly ok: boolean;
  readonly bad_sent: number;
  readonly bad_nacked: number;
  readonly bad_wrong_code: number;
  readonly bad_without_reason: number;
  readonly bad_unanswered: number;
  readonly codes: Record<string, number>;
  readonly nacks_per_minute: number;
  readonly send_ms: number;
  readonly drain_ms: number;
  readonly valid: { readonly legs_sent: number; readonly legs_acked: number; readonly lost: number; readonly duplicates: number; readonly unexpected: number; readonly ledger_balanced: boolean };
  readonly rss_mb: Record<string, { readonly start: number; readonly peak: number; readonly end: number }>;
  readonly duration_ms: number;
  readonly examples: { readonly unanswered: string[]; readonly wrong_code: string[] };
}

const SEND_CONCURRENCY = 20;

export async function badInputDrill(options: BadInputOptions): Promise<BadInputResult> {
  const began = Date.now();
  const messages = badMessages(options.messages, options.seed);
  options.progress(`${messages.length} bad messages generated (seed ${options.seed})`);
  const twin = await startDrillTwin({ dataDir: options.dataDir, rate: options.rate, progress: options.progress });
  const memory = new MemorySampler(twin);
  try {
    await memory.sample();
    await runLoad(5, 'valid load', options.progress);
    const region = twin.activeRegion('trade-matching');
    const sendStarted = Date.now();
    await sendAll(twin, region, messages, options.progress, () => memory.sample());
    const sendMs = Date.now() - sendStarted;
    const answered = await awaitNacks(twin, region, messages, options.drainTimeoutSeconds * 1000, options.progress, () => memory.sample());
    const drainMs = Date.now() - sendStarted;
    await stopLoad(twin);
    const verdict = await verifyTwin(twin, 300_000, options.progress);
    await memory.sample();
    const codes: Record<string, number> = {};
    for (const code of answered.codes.values()) codes[code] = (codes[code] ?? 0) + 1;
    const wrongCode = messages.filter((message) => answered.codes.has(message.messageId) && answered.codes.get(message.messageId) !== message.expectedCode);
    const unanswered = messages.filter((message) => !answered.codes.has(message.messageId) && !answered.withoutReason.has(message.messageId));
    const valid = { legs_sent: verdict.legs_sent, legs_acked: verdict.legs_acked, lost: verdict.lost, duplicates: verdict.duplicates, unexpected: verdict.unexpected, ledger_balanced: verdict.ledger_balanced };
    return {
      scenario: 'bad-input',
      ok: unanswered.length === 0 && wrongCode.length === 0 && answered.withoutReason.size === 0 && verdict.ok,
      bad_sent: messages.length,
      bad_nacked: answered.codes.size,
      bad_wrong_code: wrongCode.length,
      bad_without_reason: answered.withoutReason.size,
      bad_unanswered: unanswered.length,
      codes,
      nacks_per_minute: Math.round((answered.codes.size / Math.max(1, drainMs)) * 60_000),
      send_ms: sendMs,
      drain_ms: drainMs,
      valid,
      rss_mb: memory.summary(),
      duration_ms: Date.now() - began,
      examples: { unanswered: unanswered.slice(0, 5).map((message) => message.messageId), wrong_code: wrongCode.slice(0, 5).map((message) => `${message.messageId} expected ${message.expectedCode} got ${answered.codes.get(message.messageId)}`) },
    };
  } finally {
    await twin.stop();
  }
}

async function sendAll(twin: RunningTwin, region: string, messages: readonly BadMessage[], progress: DrillProgress, tick: () => Promise<void>): Promise<void> {
  const broker = new StompMessageBroker({ url: twin.brokers[region]! });
  const queue = twin.queueName(region, BAD_INPUT_QUEUE);
  try {
    for (let start = 0; start < messages.length; start += SEND_CONCURRENCY) {
      await Promise.all(messages.slice(start, start + SEND_CONCURRENCY).map((message) => broker.send(queue, message.body)));
      if ((start / SEND_CONCURRENCY) % 50 === 0) {
        progress(`sent ${Math.min(messages.length, start + SEND_CONCURRENCY)} of ${messages.length} bad messages`);
        await tick();
      }
    }
  } finally {
    await broker.close();
  }
}

/** Polls the region's egress store for each bad message's NACK (`nack:<message id>`) until all are there or time is up. */
async function awaitNacks(
  twin: RunningTwin,
  region: string,
  messages: readonly BadMessage[],
  timeoutMs: number,
  progress: DrillProgress,
  tick: () => Promise<void>,
): Promise<{ codes: Map<string, string>; withoutReason: Set<string> }> {
  const client = new DynamoDBClient({ endpoint: twin.region(region).report!.endpoints.dynamodb, region, credentials: { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' } });
  const documents = documentClient(client);
  const codes = new Map<string, string>();
  const withoutReason = new Set<string>();
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const waiting = messages.filter((message) => !codes.has(message.messageId) && !withoutReason.has(message.messageId));
      if (waiting.length === 0 || Date.now() >= deadline) break;
      for (let start = 0; start < waiting.length; start += 100) {
        const keys = waiting.slice(start, start + 100).map((message) => ({ id: `nack:${message.messageId}` }));
        const page = await documents.send(new BatchGetCommand({ RequestItems: { 'tm-egress-store': { Keys: keys, ConsistentRead: true } } }));
        for (const item of page.Responses?.['tm-egress-store'] ?? []) {
          const messageId = String(item.id).slice('nack:'.length);
          const found = codeAndReason(item);
          if (found) codes.set(messageId, found.code);
          else withoutReason.add(messageId);
        }
      }
      progress(`NACKs: ${codes.size + withoutReason.size} of ${messages.length}`);
      await tick();
      await sleep(3_000);
    }
  } finally {
    client.destroy();
  }
  return { codes, withoutReason };
}

class MemorySampler {
  private readonly samples = new Map<string, number[]>();

  constructor(private readonly twin: RunningTwin) {}

  async sample(): Promise<void> {
    const status = await this.twin.status().catch(() => undefined);
    for (const region of status?.regions ?? []) {
      if (region.rssMB === undefined || region.rssMB === null) continue;
      this.samples.set(region.region, [...(this.samples.get(region.region) ?? []), region.rssMB]);
    }
  }

  summary(): Record<string, { start: number; peak: number; end: number }> {
    return Object.fromEntries([...this.samples].map(([region, values]) => [region, { start: values[0]!, peak: Math.max(...values), end: values.at(-1)! }]));
  }
}
