// Rotor's FIX gateway process (local/fix/gateway-main.ts) against QuickFIX (C++), an independent FIX 4.4 engine
// that validates every message it receives against its own FIX 4.4 dictionary. The gateway runs as in production,
// a process configured by its environment, on a DynamoDB emulator and the embedded STOMP broker. Trade matching is
// played by the test on those queues: it reads the legs the gateway forwards, decides the match with the domain's
// own rule and answers on the responses queue, as TM's egress would.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradeStatusResponse } from '#domain/pipeline-messages.ts';
import { TradeLeg } from '#domain/trade-leg.ts';
import { decideMatch, newTradeRecord } from '#domain/trade-matching.ts';
import { startStompBroker, type RunningStompBroker } from '#local/mq/stomp-broker.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { startDynalite, TEST_CREDENTIALS, type DynaliteHarness } from '#tests/support/dynalite-tables.ts';
import { buildQuickFixInitiator, runQuickFixInitiator, type FixLine, type QuickFixLeg, type QuickFixRun } from '#tests/support/quickfix-initiator.ts';
import { waitFor } from '#tests/support/wait.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const TABLES = { store: 'interop-fix-store', sessions: 'interop-fix-sessions', lease: 'interop-fix-lease' };
const QUEUES = { trades: 'interop.tm.trades', responses: 'interop.tm.responses' };

let dynalite: DynaliteHarness;
let stomp: RunningStompBroker;
let brokerDir: string;
let gateway: ChildProcess;
let gatewayOutput = '';
let gatewayPort: number;
/** Each counterparty's QuickFIX store, kept across the tests as a real client keeps its sequence numbers. */
let storeDir: string;

beforeAll(async () => {
  const built = buildQuickFixInitiator();
  dynalite = await startDynalite();
  for (const table of Object.values(TABLES)) await dynalite.createTable(table);
  brokerDir = await mkdtemp(path.join(tmpdir(), 'rotor-quickfix-interop-broker-'));
  storeDir = await mkdtemp(path.join(tmpdir(), 'rotor-quickfix-interop-store-'));
  stomp = await startStompBroker({ dataDir: brokerDir, port: 0 });
  gateway = spawn(process.execPath, ['--import', 'tsx', 'local/fix/gateway-main.ts'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: dynalite.emulator.endpoint,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      FIX_BROKER_URL: stomp.url,
      FIX_TRADES_QUEUE: QUEUES.trades,
      FIX_RESPONSES_QUEUE: QUEUES.responses,
      FIX_HOST: '127.0.0.1',
      FIX_PORT: '0',
      FIX_GATEWAY_ID: 'interop-gateway',
      FIX_STORE_TABLE: TABLES.store,
      FIX_SESSIONS_TABLE: TABLES.sessions,
      FIX_LEASE_TABLE: TABLES.lease,
    },
  });
  gateway.stdout!.setEncoding('utf8').on('data', (chunk: string) => (gatewayOutput += chunk));
  gateway.stderr!.setEncoding('utf8').on('data', (chunk: string) => (gatewayOutput += chunk));
  await waitFor(() => /"event":"leading"/.test(gatewayOutput) || gateway.exitCode !== null, { timeoutMs: 60_000, intervalMs: 100, what: 'the FIX gateway to lead' });
  const leading = /"event":"leading".*"address":"[^"]*:(\d+)"/.exec(gatewayOutput);
  if (!leading) throw new Error(`the FIX gateway did not start:\n${gatewayOutput}`);
  gatewayPort = Number(leading[1]);
  await built;
}, 600_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((resolve) => gateway.once('exit', resolve));
    gateway.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    if (gateway.exitCode === null) gateway.kill('SIGKILL');
  }
  await stomp?.close();
  await dynalite?.close();
  for (const dir of [brokerDir, storeDir]) if (dir) await rm(dir, { recursive: true, force: true });
});

const IM = { senderCompId: 'IMQAINS012', password: 'im-secret' };
const BROKER = { senderCompId: 'BRQABRO010', password: 'broker-secret' };

function leg(allocId: string, execId: string, overrides: Partial<QuickFixLeg> = {}): QuickFixLeg {
  return {
    allocId, side: '1', symbol: 'AMZN', quantity: '1000', price: '12.5000', tradeDate: '20261123', settlDate: '20261125', execId,
    im: 'QAINS012', broker: 'QABRO010', text: 'DTC 0005',
    allocations: [{ account: 'ACC1', quantity: '600', allocationId: '1' }, { account: 'ACC2', quantity: '400', allocationId: '2' }],
    ...overrides,
  };
}

/** A counterparty's QuickFIX on its kept store; `fresh` starts from a new store with 141=Y instead (a refused logon). */
const quickFix = (who: { senderCompId: string; password: string }, legs: QuickFixLeg[], expect: number, fresh = false) =>
  runQuickFixInitiator({ port: gatewayPort, ...who, legs, expect, timeoutSeconds: 60, ...(fresh ? {} : { storeDir, resetOnLogon: false }) });

const acksOf = (run: QuickFixRun, allocId: string): FixLine[] => run.received.filter((message) => message.value(35) === 'P' && message.value(70) === allocId);
/** Session Rejects QuickFIX sent: each is a message of the gateway that FIX 4.4 (or the session protocol) does not allow. */
const rejectsSentBy = (run: QuickFixRun) => run.sent.filter((message) => message.value(35) === '3' || message.value(35) === 'j');

/** Reads forwarded legs off the trades queue until `wanted` holds them all (by their trade ids). */
async function forwardedLegs(broker: StompMessageBroker, wanted: readonly string[]): Promise<Map<string, TradeLeg>> {
  const consumer = await broker.consume(QUEUES.trades);
  const found = new Map<string, TradeLeg>();
  try {
    const deadline = Date.now() + 60_000;
    while (wanted.some((id) => !found.has(id)) && Date.now() < deadline) {
      for (const message of await consumer.receive({ maxMessages: 50, waitMs: 500 })) {
        const forwarded = TradeLeg.schema.parse(JSON.parse(message.body));
        found.set(TradeLeg.id(forwarded), forwarded);
        await consumer.ack(message);
      }
    }
  } finally {
    await consumer.close();
  }
  return found;
}

describe('QuickFIX (C++) against the FIX gateway process', () => {
  it('gets each valid leg acknowledged as received and an invalid one rejected with its NACK code, every answer valid FIX 4.4', { timeout: 180_000 }, async () => {
    // Prepare
    const legs = [leg('IM-1', 'T1'), leg('IM-2', 'T2', { symbol: 'IBM', lastQty: '1000' }), leg('IM-3', 'T3', { allocations: [{ account: 'ACC1', quantity: '999', allocationId: '1' }] })];

    // Act
    const run = await quickFix(IM, legs, 3);

    // Assess
    expect(run.status, run.stdout + run.stderr + gatewayOutput).toBe(0);
    expect(run.events).toEqual(['LOGON', 'LOGOUT', 'DONE']);
    expect(rejectsSentBy(run).map((message) => message.raw)).toEqual([]);
    for (const allocId of ['IM-1', 'IM-2']) {
      const [ack, ...more] = acksOf(run, allocId);
      expect(more).toEqual([]);
      expect([ack?.value(87), ack?.value(88)], allocId).toEqual(['3', undefined]);
      expect(ack?.value(60)).toMatch(/^\d{8}-\d{2}:\d{2}:\d{2}/);
    }
    const [reject] = acksOf(run, 'IM-3');
    expect([reject?.value(87), reject?.value(88)]).toEqual(['1', '7']);
    expect(reject?.value(58)).toMatch(/^ALLOCATION_SUM_MISMATCH: /);
  });

  it('reports MATCHED on both counterparties’ sessions once the broker’s leg matches the investment manager’s', { timeout: 240_000 }, async () => {
    // Prepare: the IM's leg of trade T4 is acknowledged, and the IM stays logged on for its outcome
    const tm = new StompMessageBroker({ url: stomp.url });
    const imRun = quickFix(IM, [leg('IM-4', 'T4')], 2);
    // Both legs state the trade's direction as the investment manager's (DESIGN §3.3); the broker prices it to more places.
    const brokerLeg = leg('BR-4', 'T4', { price: '12.50' });

    // Act: the broker sends its leg; trade matching, played here, matches the two legs and answers
    const brokerRun = quickFix(BROKER, [brokerLeg], 2);
    const imId = 'QAINS012-QAINS012-QABRO010-T4';
    const brokerId = 'QABRO010-QAINS012-QABRO010-T4';
    const forwarded = await forwardedLegs(tm, [imId, brokerId]);
    expect([...forwarded.keys()]).toEqual(expect.arrayContaining([imId, brokerId]));
    const decision = decideMatch(forwarded.get(brokerId)!, undefined, newTradeRecord(forwarded.get(imId)!));
    expect(decision.kind).toBe('matched');
    if (decision.kind !== 'matched') throw new Error('unreachable');
    for (const trade of [decision.trade, decision.counterpart]) {
      const response = TradeStatusResponse.parse({ type: 'trade-status', tradeId: trade.id, status: trade.status, allocations: trade.allocations });
      await tm.send(QUEUES.responses, JSON.stringify(response));
    }
    const [im, broker] = await Promise.all([imRun, brokerRun]);
    await tm.close();

    // Assess
    for (const [run, allocId] of [[im, 'IM-4'], [broker, 'BR-4']] as const) {
      expect(run.status, run.stdout + run.stderr + gatewayOutput).toBe(0);
      expect(rejectsSentBy(run).map((message) => message.raw)).toEqual([]);
      expect(acksOf(run, allocId).map((message) => [message.value(87), message.value(58)])).toEqual([['3', undefined], ['0', 'MATCHED']]);
    }
    expect(forwarded.get(brokerId)).toMatchObject({ senderID: 'QABRO010', transactionIndicator: 'B', price: '12.50', tradeDate: '2026-11-23', settlementDate: '2026-11-25' });
  });

  it('is refused at logon with a bad password or an unknown CompID, and the gateway logs neither password', { timeout: 120_000 }, async () => {
    // Act
    const badPassword = await quickFix({ senderCompId: 'IMQAINS012', password: 'not-the-im-secret' }, [leg('IM-9', 'T9')], 1, true);
    const unknown = await quickFix({ senderCompId: 'IMNOBODY01', password: 'whatever-secret' }, [leg('IM-9', 'T9')], 1, true);

    // Assess
    for (const run of [badPassword, unknown]) {
      expect(run.status, run.stdout).toBe(3);
      expect(run.events.some((event) => event.startsWith('REFUSED'))).toBe(true);
      const logout = run.received.find((message) => message.value(35) === '5');
      expect(logout?.value(58)).toBeTruthy();
      expect(run.sent.some((message) => message.value(35) === 'J')).toBe(false);
    }
    expect(gatewayOutput).not.toContain('not-the-im-secret');
    expect(gatewayOutput).not.toContain('whatever-secret');
  });
});
