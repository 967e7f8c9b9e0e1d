import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TradeLeg } from '#domain/trade-leg.ts';
import { startFixFront, type RunningFixFront } from '#local/fix/front.ts';
import { startFixGateway, type RunningFixGateway } from '#local/fix/gateway-server.ts';
import { FixInitiator } from '#local/fix/initiator.ts';
import { startStompBroker, type RunningStompBroker } from '#local/mq/stomp-broker.ts';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { counterpartiesFrom } from '#shared/fix/counterparties.ts';
import { DynamoDbLeaseStore } from '#shared/fix/dynamodb-lease-store.ts';
import { DynamoDbSessionStore } from '#shared/fix/dynamodb-session-store.ts';
import { DynamoDbFixLegStore } from '#shared/fix/leg-store.ts';
import { responsesOutcomeReporter } from '#shared/fix/outcomes.ts';
import { MessageId } from '#shared/pipeline/message-id.ts';
import { startDynalite, type DynaliteHarness } from '#tests/support/dynalite-tables.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

let dynalite: DynaliteHarness;
let stomp: RunningStompBroker;
let brokerDir: string;
let run = 0;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  dynalite = await startDynalite();
  brokerDir = await mkdtemp(path.join(tmpdir(), 'fix-gateway-broker-'));
  stomp = await startStompBroker({ dataDir: brokerDir, port: 0 });
});
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(async () => {
  await stomp.close();
  await dynalite.close();
  await rm(brokerDir, { recursive: true, force: true });
});

const leg = (senderID: string, tradeID: string, overrides: Partial<TradeLeg> = {}): TradeLeg => ({
  senderID, imID: 'QAINS012', brokerID: 'QABRO010', tradeID, security: 'AMZN', transactionIndicator: 'B', price: '12.50', quantity: 1000,
  tradeDate: '2026-11-23', settlementDate: '2026-11-24', allocations: [{ allocationID: 1, quantity: 600, account: 'ACC1' }, { allocationID: 2, quantity: 400, account: 'ACC2' }], ...overrides,
});

/** Two gateway processes' worth of gateways on fresh tables and a fresh queue, and the front before them. */
async function gatewayPair() {
  const id = ++run;
  const names = { store: `fix-store-${id}`, sessions: `fix-sessions-${id}`, lease: `fix-lease-${id}`, queue: `tm.trades.${id}`, responses: `tm.responses.${id}` };
  for (const table of [names.store, names.sessions, names.lease]) await dynalite.createTable(table);
  const documents = documentClient(dynalite.client());
  const broker = new StompMessageBroker({ url: stomp.url });
  cleanups.push(() => broker.close());
  const legs = new DynamoDbFixLegStore(documents, names.store);
  const leases = new DynamoDbLeaseStore(documents, names.lease);
  const events: string[] = [];
  const counterparties = counterpartiesFrom(undefined);
  const start = (holder: string) =>
    startFixGateway({
      outcomes: (deps) => responsesOutcomeReporter({ ...deps, broker, queue: names.responses, legs, counterparties, log: () => undefined }),
      region: 'us-east-1', holder, host: '127.0.0.1', port: 0, counterparties: counterpartiesFrom(undefined),
      sessions: new DynamoDbSessionStore(documents, names.sessions), legs: new DynamoDbFixLegStore(documents, names.store), leases, broker,
      tradesQueue: names.queue, leaseTtlMs: 1_000, leaseRenewMs: 250, leasePollMs: 100,
      log: (event, fields) => events.push(`${holder} ${event} ${JSON.stringify(fields ?? {})}`),
    });
  const first = await start('gw-a');
  cleanups.push(() => first.stop());
  await until(() => first.election.epoch() !== undefined);
  const second = await start('gw-b');
  cleanups.push(() => second.stop());
  const front = await startFixFront({ leases, region: 'us-east-1', pollMs: 50 });
  cleanups.push(() => front.stop());
  await until(() => front.leader() !== undefined);
  return { first, second, front, legs, broker, names, events };
}

function client(front: RunningFixFront, compId: string, password: string) {
  const initiator = new FixInitiator({ host: '127.0.0.1', port: front.port, senderCompId: compId, password, heartbeatSeconds: 1, reconnectMs: 50 });
  initiator.start();
  cleanups.push(() => initiator.stop());
  return initiator;
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function drain(broker: StompMessageBroker, queue: string, count: number) {
  const consumer = await broker.consume(queue);
  const bodies: string[] = [];
  const deadline = Date.now() + 10_000;
  while (bodies.length < count && Date.now() < deadline) {
    for (const message of await consumer.receive({ maxMessages: 50, waitMs: 200 })) {
      bodies.push(message.body);
      await consumer.ack(message);
    }
  }
  // Anything more would be a duplicate: give it a moment to show up.
  for (const message of await consumer.receive({ maxMessages: 50, waitMs: 300 })) bodies.push(message.body);
  await consumer.close();
  return bodies;
}

describe('FIX gateway with hot standby', () => {
  it('acknowledges a valid leg only once stored, forwards its JSON body once, and rejects an invalid one with the NACK code', async () => {
    // Prepare
    const { front, legs, broker, names, first } = await gatewayPair();
    const im = client(front, 'IMQAINS012', 'im-secret');
    await until(() => im.loggedOn);

    // Act
    im.sendAllocation(leg('QAINS012', 'T1'), 'IM-1');
    im.sendAllocation(leg('QAINS012', 'T2', { quantity: 999 }), 'IM-2');
    im.sendAllocation(leg('QAINS012', 'T1'), 'IM-1');
    await until(() => im.acks.has('IM-1') && im.rejects.has('IM-2'));
    await first.forwarder.drained();
    const bodies = await drain(broker, names.queue, 1);

    // Assess
    expect(im.rejects.get('IM-2')?.text).toMatch(/^ALLOCATION_SUM_MISMATCH: /);
    const stored = await legs.get('fix:IMQAINS012:IM-1');
    expect(stored).toMatchObject({ tradeId: 'QAINS012-QAINS012-QABRO010-T1', forwarded: true });
    expect(bodies).toEqual([stored!.body]);
    expect(JSON.parse(bodies[0]!)).toEqual(leg('QAINS012', 'T1'));
    expect(MessageId.of(names.queue, bodies[0]!)).toMatch(/^msg:QAINS012-QAINS012-QABRO010-T1:/);
  });

  it('reports later outcomes from tm.responses on the sender\'s session, per trade and per allocation', async () => {
    // Prepare
    const { front, broker, names } = await gatewayPair();
    const im = client(front, 'IMQAINS012', 'im-secret');
    await until(() => im.loggedOn);
    im.sendAllocation(leg('QAINS012', 'O1'), 'IM-O1');
    await until(() => im.acks.has('IM-O1'));
    const tradeId = 'QAINS012-QAINS012-QABRO010-O1';

    // Act
    await broker.send(names.responses, JSON.stringify({ type: 'trade-status', tradeId, status: 'MATCHED', allocations: { 1: 'UNSETTLED', 2: 'UNSETTLED' } }));
    await broker.send(names.responses, JSON.stringify({ type: 'allocation-status', tradeId, allocationID: 2, status: 'MISMATCHED' }));
    await broker.send(names.responses, JSON.stringify({ type: 'trade-status', tradeId: 'QAINS012-QAINS012-QABRO010-NOTFIX', status: 'MATCHED', allocations: {} }));
    await until(() => im.outcomes.length >= 2);

    // Assess
    expect(im.outcomes.map((outcome) => [outcome.allocId, outcome.status, outcome.text])).toEqual([
      ['IM-O1', '0', 'MATCHED'],
      ['IM-O1', '1', 'ALLOCATION 2 MISMATCHED'],
    ]);
    // The response for a leg that did not come over FIX is taken off the queue too, and sent nowhere.
    await until(async () => (await broker.queueDepth(names.responses)) === 0);
    expect(im.outcomes).toHaveLength(2);
  });

  it('answers a different leg under a known AllocID with CONFLICTING_DUPLICATE', async () => {
    // Prepare
    const { front } = await gatewayPair();
    const broker = client(front, 'BRQABRO010', 'broker-secret');
    await until(() => broker.loggedOn);
    broker.sendAllocation(leg('QABRO010', 'T9'), 'BR-9');
    await until(() => broker.acks.has('BR-9'));

    // Act
    broker.sendAllocation(leg('QABRO010', 'T9', { price: '13' }), 'BR-9');
    await until(() => broker.rejects.has('BR-9'));

    // Assess
    expect(broker.rejects.get('BR-9')?.text).toMatch(/^CONFLICTING_DUPLICATE: /);
  });

  it('refuses a bad password and an unknown CompID with a Logout and a reason, never logging the password', async () => {
    // Prepare
    const { front, events } = await gatewayPair();

    // Act
    const wrong = client(front, 'IMQAINS012', 'not-the-password');
    const unknown = client(front, 'NOBODY1', 'x');
    await until(() => events.filter((event) => event.includes('logon refused')).length >= 2);

    // Assess
    expect(wrong.loggedOn || unknown.loggedOn).toBe(false);
    expect(events.join('\n')).toContain('bad Username or Password');
    expect(events.join('\n')).toContain('unknown SenderCompID NOBODY1');
    expect(events.join('\n')).not.toContain('not-the-password');
  });

  it('keeps every leg of a steady load acknowledged across a crash of the leader (both sessions, gaps on both sides)', async () => {
    // Prepare
    const { first, second, front, legs } = await gatewayPair();
    const { FixLoad } = await import('#local/fix/load.ts');
    const load = new FixLoad({ host: '127.0.0.1', port: front.port, pairsPerSecond: 10, pairs: 60, runId: `S${run}` });
    cleanups.push(() => load.abort());
    load.start();
    await until(() => load.acked() >= 30);

    // Act
    await first.crash();
    await until(() => load.done(), 40_000);

    // Assess
    expect(second.election.epoch()).toBe(2);
    expect(load.acked()).toBe(120);
    expect(load.rejected()).toBe(0);
    expect(await legs.all()).toHaveLength(120);
  }, 60_000);

  it('fails over to the standby when the leader dies: the session resumes, unacknowledged legs are acknowledged, nothing is forwarded twice', async () => {
    // Prepare
    const { first, second, front, legs, broker, names } = await gatewayPair();
    const im = client(front, 'IMQAINS012', 'im-secret');
    await until(() => im.loggedOn);
    for (let index = 0; index < 5; index++) im.sendAllocation(leg('QAINS012', `F${index}`), `IM-F${index}`);
    await until(() => im.acks.size === 5);

    // Act: the leader stops renewing and drops its connections, as a crash would, without giving the lease up
    await first.crash();
    for (let index = 5; index < 10; index++) im.sendAllocation(leg('QAINS012', `F${index}`), `IM-F${index}`);
    await until(() => second.election.epoch() !== undefined && im.acks.size === 10);
    await second.forwarder.drained();
    const bodies = await drain(broker, names.queue, 10);

    // Assess
    expect(second.election.epoch()).toBe(2);
    expect(im.logons.length).toBeGreaterThanOrEqual(2);
    expect((await legs.all()).filter((item) => item.forwarded)).toHaveLength(10);
    expect(new Set(bodies).size).toBe(10);
    expect(bodies).toHaveLength(10);
  });
});
