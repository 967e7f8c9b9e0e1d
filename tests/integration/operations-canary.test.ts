import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { TradeLeg } from '#domain/trade-leg.ts';
import { startStompBroker, type RunningStompBroker } from '#local/mq/stomp-broker.ts';
import { documentClient, DynamoDbSafeStore } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import type { ResourceNames } from '#shared/operations/app-resources.ts';
import { canary, CanaryNotSettledError, CanaryRequest, canaryTradeId, type CanaryDependencies, type CanarySubmitted } from '#shared/operations/canary.ts';
import { simulate } from '#shared/simulation/in-memory-pipeline.ts';
import { startDynalite, type DynaliteHarness } from '#tests/support/dynalite-tables.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const QUEUE = 'us-east-1.tm.trades';
/** The twin's names on a shared broker: `<region>.<queue>`. */
const names: ResourceNames = (kind, name) => (kind === 'queue' ? `us-east-1.${name}` : name);
const SUBMITTED_AT = '2026-11-23T10:00:00.000Z';

describe('ops-canary', () => {
  let dataDir: string;
  let server: RunningStompBroker;
  let broker: StompMessageBroker;
  let dynalite: DynaliteHarness;

  beforeAll(async () => {
    dynalite = await startDynalite();
    await dynalite.createTable('tm-matching-store');
  });

  afterAll(() => dynalite.close());

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rotor-canary-'));
    server = await startStompBroker({ dataDir, port: 0 });
    broker = new StompMessageBroker({ url: server.url });
  });

  afterEach(async () => {
    await broker.close();
    await server.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const deps = (now = SUBMITTED_AT): CanaryDependencies => ({ names, broker, documents: documentClient(dynalite.client()), now: () => new Date(now) });

  async function queuedBodies(count: number): Promise<string[]> {
    const consumer = await broker.consume(QUEUE);
    try {
      const bodies: string[] = [];
      for (let attempt = 0; attempt < 20 && bodies.length < count; attempt++) {
        for (const message of await consumer.receive({ maxMessages: count, waitMs: 200 })) {
          bodies.push(message.body);
          await consumer.ack(message);
        }
      }
      return bodies;
    } finally {
      await consumer.close();
    }
  }

  test('submit puts the two legs of one matching trade on this region’s tm.trades queue, the IM’s then the broker’s', async () => {
    // Prepare
    const request = CanaryRequest.parse({ action: 'submit', runId: 'rot-2026-11-23T10:00:00Z' });

    // Act
    const submitted = (await canary(request, deps())) as CanarySubmitted;

    // Assess
    const bodies = await queuedBodies(2);
    expect(bodies).toHaveLength(2);
    const [im, brokerLeg] = bodies.map((body) => TradeLeg.schema.parse(JSON.parse(body))) as [TradeLeg, TradeLeg];
    expect(TradeLeg.side(im)).toBe('IM');
    expect(TradeLeg.side(brokerLeg)).toBe('BROKER');
    expect(im).toMatchObject({ imID: 'CANARYIM', brokerID: 'CANARYBR', tradeID: canaryTradeId(request.runId), tradeDate: '2026-11-23' });
    expect(TradeLeg.matchKey(im)).toBe(TradeLeg.matchKey(brokerLeg));
    expect(TradeLeg.economicsAgree(im, brokerLeg)).toBe(true);
    expect(im.tradeID).toMatch(/^[A-Za-z0-9]{1,20}$/);
    expect(submitted).toEqual({ runId: request.runId, tradeIds: [TradeLeg.id(im), TradeLeg.id(brokerLeg)], submittedAt: SUBMITTED_AT });
    expect(submitted.tradeIds).toEqual([`CANARYIM-CANARYIM-CANARYBR-${im.tradeID}`, `CANARYBR-CANARYIM-CANARYBR-${im.tradeID}`]);
    // The domain takes the pair all the way: matched, settled, ledger balanced.
    const simulated = await simulate(bodies.map((body, index) => ({ index, body })));
    expect(simulated.trades).toEqual({ [submitted.tradeIds[0]]: 'SETTLED', [submitted.tradeIds[1]]: 'SETTLED' });
    expect(simulated.nacks).toEqual([]);
    expect(simulated.ledger.balanced).toBe(true);
  });

  test('a retried submit for the same run sends the same bodies; another run gets another trade id', async () => {
    // Prepare
    const submit = (runId: string) => canary(CanaryRequest.parse({ action: 'submit', runId }), deps());

    // Act
    await submit('rotation-1');
    await submit('rotation-1');
    await submit('rotation-2');

    // Assess
    const bodies = await queuedBodies(6);
    expect(bodies[2]).toBe(bodies[0]);
    expect(bodies[3]).toBe(bodies[1]);
    expect(bodies[4]).not.toBe(bodies[0]);
    expect(canaryTradeId('rotation1')).toBe('rotation1');
    expect(canaryTradeId('rotation-1')).toMatch(/^[0-9a-f]{20}$/);
    expect(canaryTradeId('rotation-1')).not.toBe(canaryTradeId('rotation-2'));
  });

  test('check throws CanaryNotSettledError with the statuses seen until both legs are SETTLED, then answers the time taken', async () => {
    // Prepare
    const submitted = (await canary(CanaryRequest.parse({ action: 'submit', runId: 'rot-check' }), deps())) as CanarySubmitted;
    const [imId, brokerId] = submitted.tradeIds;
    const check = CanaryRequest.parse({ action: 'check', ...submitted });
    const store = new DynamoDbSafeStore(documentClient(dynalite.client()), 'tm-matching-store');
    const record = (id: string, version: number, status: string) => store.putIfNewer({ id, version, eventType: `trade.${status.toLowerCase()}`, status, record: { status } });
    const attempt = () => canary(check, deps('2026-11-23T10:00:04.250Z')).catch((error: unknown) => error);

    // Act
    const nothingYet = await attempt();
    await record(imId, 1, 'UNMATCHED');
    await record(imId, 2, 'MATCHED');
    await record(brokerId, 2, 'MATCHED');
    const matched = await attempt();
    await record(imId, 5, 'SETTLED');
    const halfSettled = await attempt();
    await record(brokerId, 6, 'SETTLED');
    const settled = await attempt();

    // Assess
    expect(nothingYet).toBeInstanceOf(CanaryNotSettledError);
    expect((nothingYet as CanaryNotSettledError).statuses).toEqual({ [imId]: 'ABSENT', [brokerId]: 'ABSENT' });
    expect((matched as CanaryNotSettledError).statuses).toEqual({ [imId]: 'MATCHED', [brokerId]: 'MATCHED' });
    expect((halfSettled as Error).name).toBe('CanaryNotSettledError');
    expect((halfSettled as Error).message).toContain(`${imId} SETTLED, ${brokerId} MATCHED`);
    expect(settled).toEqual({ runId: 'rot-check', settled: true, tradeIds: [imId, brokerId], elapsedMs: 4_250 });
  });

  test.each([
    ['a check without its trade ids', { action: 'check', runId: 'r', submittedAt: SUBMITTED_AT }],
    ['a submittedAt that is no time', { action: 'check', runId: 'r', tradeIds: ['a', 'b'], submittedAt: 'yesterday' }],
    ['an unknown action', { action: 'cancel', runId: 'r' }],
  ])('the input schema refuses %s', (_case, input) => {
    // Act / Assess
    expect(CanaryRequest.safeParse(input).success).toBe(false);
  });
});
