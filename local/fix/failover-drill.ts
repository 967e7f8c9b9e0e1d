import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/lib-dynamodb';
import { startTwin } from '#local/controller/controller.ts';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { DynamoDbLeaseStore } from '#shared/fix/dynamodb-lease-store.ts';
import { FIX_TABLES } from '#shared/topology/rotor.ts';
import { startFixFront } from './front.ts';
import { FixLoad } from './load.ts';

/**
 * `rotor drill fix-failover`: a fresh twin, two FIX gateway processes and the front, an investment manager and a
 * broker sending legs of matching trades steadily. The leader is SIGKILLed and the standby takes over; later the new
 * leader is SIGSTOPped until it has lost its lease, then SIGCONTed, and must write nothing: its writes are refused
 * by the epoch conditions and counted. Every acknowledged leg must reach SETTLED in trade matching, once.
 */

export interface FixFailoverOptions {
  readonly dataDir: string;
  /** Trade pairs per second (each pair is one IM and one broker leg). */
  readonly pairsPerSecond: number;
  readonly warmUpSeconds: number;
  readonly afterSeconds: number;
  readonly settleTimeoutSeconds: number;
  /** How long the stopped load waits for the last acknowledgements (default 90 s). */
  readonly ackTimeoutSeconds?: number;
  readonly progress: (message: string) => void;
}

export interface FixFailoverResult {
  readonly scenario: 'fix-failover';
  readonly ok: boolean;
  /** SIGKILL of the leader → both sessions logged on again, at the new leader. */
  readonly failover_ms: number | null;
  /** SIGKILL of the leader → both sessions have an acknowledgement from the new leader (the backlog's first). */
  readonly first_ack_ms: number | null;
  readonly lost: number;
  readonly duplicates: number;
  readonly fenced_writes_refused: number;
  /** The paused leader wrote nothing after it lost its lease, and stepped down when resumed. */
  readonly old_leader_fenced: boolean;
  readonly legs_sent: number;
  readonly legs_acked: number;
  readonly legs_rejected: number;
  readonly pause_takeover_ms: number | null;
  readonly duration_ms: number;
  readonly notes: readonly string[];
}

const GATEWAY_MAIN = fileURLToPath(new URL('./gateway-main.ts', import.meta.url));
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'AKIDROTORTWIN', AWS_SECRET_ACCESS_KEY: 'rotor-twin-secret' };
const LEASE_TTL_MS = 2_000;

interface GatewayProcess {
  readonly name: string;
  child: ChildProcess;
  readonly events: Array<Record<string, unknown>>;
}

export async function fixFailoverDrill(options: FixFailoverOptions): Promise<FixFailoverResult> {
  const began = Date.now();
  const { progress } = options;
  const notes: string[] = [];
  progress(`starting a fresh twin in ${options.dataDir}`);
  const twin = await startTwin({ dataDir: options.dataDir, fresh: true, onEvent: (message) => progress(`twin: ${message}`) });
  const region = twin.activeRegion('trade-matching');
  const endpoint = twin.dynamodbEndpoint(region);
  const documents = documentClient(new DynamoDBClient({ endpoint, region, credentials: { accessKeyId: CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: CREDENTIALS.AWS_SECRET_ACCESS_KEY } }));
  const leases = new DynamoDbLeaseStore(documents, FIX_TABLES.lease);
  const gateways: GatewayProcess[] = [];
  // Every gateway's log lines, in one file next to the twin's, for whoever reads the drill afterwards.
  const gatewayLog = createWriteStream(path.join(options.dataDir, 'fix-gateways.log'), { flags: 'a' });
  const spawnGateway = (name: string): GatewayProcess => {
    const child = spawn(process.execPath, ['--import', 'tsx', GATEWAY_MAIN], {
      env: {
        ...process.env,
        ...CREDENTIALS,
        AWS_REGION: region,
        AWS_ENDPOINT_URL_DYNAMODB: endpoint,
        FIX_BROKER_URL: twin.brokers[region]!,
        FIX_TRADES_QUEUE: twin.queueName(region, 'tm.trades'),
        FIX_RESPONSES_QUEUE: twin.queueName(region, 'tm.responses'),
        FIX_HOST: '127.0.0.1',
        FIX_PORT: '0',
        FIX_GATEWAY_ID: name,
        FIX_LEASE_TTL_MS: String(LEASE_TTL_MS),
        FIX_TRACE: process.env.FIX_TRACE ?? '',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const gateway: GatewayProcess = { name, child, events: [] };
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        gatewayLog.write(`${line}\n`);
        try {
          gateway.events.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not a log line
        }
      }
    });
    return gateway;
  };
  const byHolder = (holder: string | undefined) => gateways.find((gateway) => gateway.name === holder);

  let load: FixLoad | undefined;
  let front: Awaited<ReturnType<typeof startFixFront>> | undefined;
  try {
    gateways.push(spawnGateway('fix-gw-1'));
    await waitFor(async () => (await leases.current(region))?.holder === 'fix-gw-1', 60_000, 'the first gateway to lead');
    gateways.push(spawnGateway('fix-gw-2'));
    await waitFor(() => gateways[1]!.events.some((event) => event.event === 'listening'), 60_000, 'the standby to listen');
    front = await startFixFront({ leases, region, pollMs: 100 });
    progress(`gateways up; the front listens on ${front.address}`);

    load = new FixLoad({ host: '127.0.0.1', port: front.port, pairsPerSecond: options.pairsPerSecond, runId: `D${Date.now().toString(36).toUpperCase()}`,
      log: (event, fields) => gatewayLog.write(`${JSON.stringify({ at: new Date().toISOString(), gateway: 'client', event, ...fields })}\n`),
    });
    load.start();
    await waitFor(() => load!.loggedOn(), 30_000, 'both counterparties to log on');
    await sleepProgress(options.warmUpSeconds, 'load before the kill', progress);

    // 1. SIGKILL the leader: the standby takes over once the lease expires.
    const first = (await leases.current(region))!;
    const killed = byHolder(first.holder)!;
    const killedAt = Date.now();
    killed.child.kill('SIGKILL');
    progress(`SIGKILL ${killed.name} (epoch ${first.epoch})`);
    await waitFor(() => load!.ackedSince(killedAt), 30_000, 'an acknowledgement from the new leader');
    const failoverMs = load.loggedOnSince(killedAt)! - killedAt;
    const firstAckMs = load.firstAckSince(killedAt)! - killedAt;
    progress(`failover: sessions back at the new leader after ${failoverMs} ms, first acknowledgement after ${firstAckMs} ms`);
    const restarted = spawnGateway(`${killed.name}-restarted`);
    gateways.push(restarted);
    await waitFor(() => restarted.events.some((event) => event.event === 'listening'), 60_000, 'the restarted gateway to stand by');
    await sleepProgress(options.afterSeconds, 'load after the kill', progress);

    // 2. SIGSTOP the leader past its lease, then SIGCONT: it must be fenced.
    const second = (await leases.current(region))!;
    const paused = byHolder(second.holder)!;
    const pausedAt = Date.now();
    paused.child.kill('SIGSTOP');
    progress(`SIGSTOP ${paused.name} (epoch ${second.epoch})`);
    await waitFor(async () => ((await leases.current(region))?.epoch ?? 0) > second.epoch, 30_000, 'the standby to take the lease');
    const takeoverMs = Date.now() - pausedAt;
    await waitFor(() => load!.ackedSince(pausedAt + takeoverMs), 30_000, 'an acknowledgement after the takeover');
    const resumedAt = Date.now();
    paused.child.kill('SIGCONT');
    progress(`SIGCONT ${paused.name} after ${resumedAt - pausedAt} ms`);
    await waitFor(() => paused.events.some((event) => event.event === 'deposed' && Date.parse(String(event.at)) >= resumedAt - 50), 15_000, 'the resumed gateway to step down');
    await sleepProgress(options.afterSeconds, 'load after the pause', progress);

    progress('stopping the load; waiting for every leg to be acknowledged');
    await load.stop((options.ackTimeoutSeconds ?? 90) * 1_000);
    const refused = Math.max(0, ...paused.events.filter((event) => event.event === 'write refused').map((event) => Number(event.refused ?? 0)));
    const staleWrites = await writesOfEpochAfter(documents, second.epoch, resumedAt - 50);
    if (staleWrites > 0) notes.push(`${staleWrites} item(s) written with the paused leader's epoch ${second.epoch} after it resumed`);

    progress(`waiting up to ${options.settleTimeoutSeconds} s for every acknowledged leg to settle`);
    const judged = await judgeTrades(documents, load.acknowledgedTradeIds(), load.acknowledgedAlone(), options.settleTimeoutSeconds * 1_000, progress);
    const fenced = staleWrites === 0 && paused.events.some((event) => event.event === 'deposed');
    const ok = judged.lost === 0 && judged.duplicates === 0 && fenced && failoverMs < 5_000 && load.rejected() === 0;
    return {
      scenario: 'fix-failover',
      ok,
      failover_ms: failoverMs,
      first_ack_ms: firstAckMs,
      lost: judged.lost,
      duplicates: judged.duplicates,
      fenced_writes_refused: refused,
      old_leader_fenced: fenced,
      legs_sent: load.sent(),
      legs_acked: load.acked(),
      legs_rejected: load.rejected(),
      pause_takeover_ms: takeoverMs,
      duration_ms: Date.now() - began,
      notes: [...notes, ...judged.examples.map((example) => `not settled: ${example}`)],
    };
  } finally {
    load?.abort();
    await front?.stop();
    for (const gateway of gateways) {
      gateway.child.kill('SIGCONT');
      gateway.child.kill('SIGKILL');
    }
    await twin.stop();
    gatewayLog.end();
  }
}

/** Items in the FIX tables stamped with `epoch` and written after `since` (ms). */
async function writesOfEpochAfter(documents: ReturnType<typeof documentClient>, epoch: number, since: number): Promise<number> {
  let count = 0;
  for (const table of [FIX_TABLES.store, FIX_TABLES.sessions]) {
    for (const item of await scanAll(documents, table)) {
      if (item.epoch !== epoch) continue;
      const writtenAt = Date.parse(String(item.recordedAt ?? item.forwardedAt ?? ''));
      if (table === FIX_TABLES.sessions && String(item.id).startsWith('session:')) count += 1; // claimed by the newer leader, so any left is stale
      else if (writtenAt >= since) count += 1;
    }
  }
  return count;
}

/**
 * Acknowledged legs whose counterpart was acknowledged too must reach SETTLED (the trade, and its response sent);
 * one whose counterpart's acknowledgement never arrived (the load stopped first) must be there, UNMATCHED — or
 * SETTLED, when the gateway had stored and forwarded the counterpart all the same.
 */
async function judgeTrades(documents: ReturnType<typeof documentClient>, tradeIds: readonly string[], alone: ReadonlySet<string>, timeoutMs: number, progress: (message: string) => void) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const matching = new Map((await scanAll(documents, 'tm-matching-store')).map((item) => [String(item.id), String(item.status)]));
    const outbound = new Map((await scanAll(documents, 'tm-outbound-gateway-store')).map((item) => [String(item.id), Number(item.deliveries ?? 0)]));
    const inbound = await scanAll(documents, 'tm-inbound-gateway-store');
    const unsettled = tradeIds.filter((id) =>
      alone.has(id) && matching.get(id) === 'UNMATCHED' ? false : matching.get(id) !== 'SETTLED' || (outbound.get(`response:${id}:SETTLED`) ?? 0) < 1,
    );
    const inboundPerTrade = new Map<string, number>();
    for (const item of inbound) {
      const tradeId = /^msg:([^:]+):/.exec(String(item.id))?.[1];
      if (tradeId) inboundPerTrade.set(tradeId, (inboundPerTrade.get(tradeId) ?? 0) + 1);
    }
    const duplicates =
      tradeIds.filter((id) => (inboundPerTrade.get(id) ?? 0) > 1).length +
      [...outbound.entries()].filter(([id, deliveries]) => deliveries > 1 && tradeIds.some((tradeId) => id.includes(tradeId))).length;
    if (unsettled.length === 0 || Date.now() > deadline) return { lost: unsettled.length, duplicates, examples: unsettled.slice(0, 5) };
    progress(`  ${tradeIds.length - unsettled.length} of ${tradeIds.length} legs settled`);
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
}

async function scanAll(documents: ReturnType<typeof documentClient>, table: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page: ScanCommandOutput = await documents.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start, ConsistentRead: true }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function sleepProgress(seconds: number, label: string, progress: (message: string) => void): Promise<void> {
  for (let elapsed = 0; elapsed < seconds; elapsed += 5) {
    progress(`${label}: ${elapsed} of ${seconds} s`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(5, seconds - elapsed) * 1_000));
  }
}

export const FIX_GATEWAY_MAIN = path.resolve(GATEWAY_MAIN);
