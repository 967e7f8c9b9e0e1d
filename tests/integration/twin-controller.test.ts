import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DescribeGlobalClustersCommand, RDSClient } from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '#cli/main.ts';
import { startTwin, type RunningTwin } from '#local/controller/controller.ts';
import type { TwinStatus } from '#local/controller/twin-status.ts';
import { ArcRoutingControls, parseClusterEndpoints } from '#shared/adapters/arc/arc-routing-controls.ts';
import { CachedRoutingControls } from '#shared/adapters/arc/cached-routing-controls.ts';
import { EdgeRouting } from '#shared/adapters/edge/active-broker.ts';
import { SafetyRuleViolationError } from '#shared/ports/routing-controls.ts';
import { capturedIO } from '#tests/helpers/captured-io.ts';
import { connectionOutcome, controllerStateExists, dynamoClient, hasItem, processAlive, putItem, TWIN_CREDENTIALS } from '#tests/support/twin-probes.ts';
import { waitFor } from '#tests/support/wait.ts';

// The two-region twin as `rotor up` runs it: real region processes, the global layer in the controller. The tests
// share one twin and run in order; each leaves it with both regions up.

const EAST = 'us-east-1';
const WEST = 'us-west-2';
const TABLE = 'tm-ingestion-store';
const LAG_MS = 200;

let dataDir: string;
let twin: RunningTwin;
const clients: { destroy(): void }[] = [];

const dynamo = (region: string) => {
  const client = dynamoClient(twin.dynamodbEndpoint(region));
  clients.push(client);
  return client;
};

async function statusJson(): Promise<TwinStatus & { running: boolean }> {
  const io = capturedIO();
  const code = await main(['status', '--json', '--data-dir', dataDir], io);
  expect(code, io.stderr()).toBe(0);
  return JSON.parse(io.stdout()) as TwinStatus & { running: boolean };
}

function arcAdapter(): ArcRoutingControls {
  const adapter = new ArcRoutingControls({
    endpoints: parseClusterEndpoints(JSON.stringify(twin.arc.endpoints.map((endpoint) => ({ Endpoint: endpoint.url, Region: endpoint.region })))),
    credentials: TWIN_CREDENTIALS,
    connectionTimeoutMs: 300,
    requestTimeoutMs: 500,
    random: () => 0,
  });
  clients.push(adapter);
  return adapter;
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'rotor-twin-'));
  twin = await startTwin({ dataDir, replicationLagMs: LAG_MS });
}, 180_000);

afterAll(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await twin?.stop();
  await rm(dataDir, { recursive: true, force: true });
}, 60_000);

describe('the two-region twin', () => {
  it('runs each region in its own process, on its own data directory, with the first region active', async () => {
    // Act
    const status = await twin.status();

    // Assess
    const pids = status.regions.map((region) => region.pid);
    expect(status.regions.map((region) => [region.region, region.state])).toEqual([[EAST, 'up'], [WEST, 'up']]);
    expect(new Set([...pids, process.pid]).size).toBe(3);
    expect(pids.every((pid) => pid !== null && processAlive(pid))).toBe(true);
    expect(status.regions.map((region) => region.dataDir)).toEqual([path.join(dataDir, 'regions', EAST), path.join(dataDir, 'regions', WEST)]);
    expect(status.routingControls).toContainEqual({ name: `trade-matching-dns-${EAST}`, state: 'On' });
    expect(status.routingControls).toContainEqual({ name: `trade-matching-dns-${WEST}`, state: 'Off' });
    expect(status.replication.tables).toContainEqual({ name: 'tm-idempotency', mode: 'async' });
    expect(status.replication.tables.map((table) => table.name)).not.toContain('results');
  });

  it('hands the functions the replicating endpoint, so a write in one region appears in the other after the lag', async () => {
    // Prepare
    const east = dynamo(EAST);
    const west = dynamo(WEST);
    expect(twin.region(EAST).report?.endpoints.dynamodbForFunctions).toBe(twin.dynamodbEndpoint(EAST));

    // Act
    const began = Date.now();
    await putItem(east, TABLE, 'leg-1');
    await waitFor(() => hasItem(west, TABLE, 'leg-1'), { timeoutMs: 5_000, what: 'leg-1 in us-west-2' });
    const elapsedMs = Date.now() - began;

    // Assess
    expect(elapsedMs).toBeGreaterThanOrEqual(LAG_MS);
    const eastToWest = (await twin.status()).replication.directions.find((direction) => direction.from === EAST)!;
    expect(eastToWest.tables[TABLE]!.replicated).toBe(1);
    expect(eastToWest.tables[TABLE]!.lastLatencyMs).toBeGreaterThanOrEqual(LAG_MS);
    expect(eastToWest.backlog).toBe(0);
  });

  it('shows both regions, the routing controls and the replication lag in `rotor status --json`', async () => {
    // Act
    const status = await statusJson();

    // Assess
    expect(status.running).toBe(true);
    expect(status.regions.map((region) => region.region)).toEqual([EAST, WEST]);
    expect(status.regions.every((region) => region.rssMB! > 0 && region.startupMs! > 0)).toBe(true);
    expect(status.regions.map((region) => region.tableItems?.[TABLE])).toEqual([1, 1]);
    expect(status.routingControls).toHaveLength(13);
    expect(status.replication.lagMs).toBe(LAG_MS);
    expect(status.replication.directions.map((direction) => `${direction.from}>${direction.to}`)).toEqual([`${EAST}>${WEST}`, `${WEST}>${EAST}`]);
    expect(status.replication.directions[0]!.tables[TABLE]!.lastLatencyMs).toBeGreaterThanOrEqual(LAG_MS);
  });

  it('makes each app’s relational store an Aurora Global Database: writes in the first region reach the other’s read-only copy', async () => {
    // Prepare
    const query = async (region: string, sql: string, parameters: unknown[] = []) => {
      const response = await fetch(`${twin.region(region).report!.endpoints.aurora}/databases/tm-db/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ sql, parameters }),
      });
      return { status: response.status, body: (await response.json()) as { rows?: Array<{ n: string }>; error?: { code?: string } } };
    };
    const insert = `insert into outbox (aggregate_id, event_type, payload) values ($1, 'trade.MATCHED', '{}'::jsonb)`;

    // Act
    const written = await query(EAST, insert, ['aurora-probe']);
    const refused = await query(WEST, insert, ['written-in-the-standby']);
    await waitFor(async () => (await query(WEST, `select count(*) as n from outbox where aggregate_id = 'aurora-probe'`)).body.rows?.[0]?.n === '1', {
      timeoutMs: 10_000,
      what: 'the outbox row to reach the standby region',
    });
    await waitFor(async () => Object.keys((await statusJson()).components.aurora ?? {}).length === 2, { timeoutMs: 5_000, what: 'Aurora status' });
    const status = await statusJson();

    // Assess
    expect(written.status).toBe(200);
    expect(refused.body.error?.code).toBe('25006');
    expect(status.components.aurora).toMatchObject({
      'tm-db': { writer: EAST, secondaries: [WEST] },
      'sm-db': { writer: EAST, secondaries: [WEST] },
    });
  }, 60_000);

  it('serves the global databases through the RDS API, which functions reach through AWS_ENDPOINT_URL_RDS', async () => {
    // Prepare
    const rds = new RDSClient({ endpoint: `http://127.0.0.1:${twin.ports.rds}`, region: WEST, credentials: TWIN_CREDENTIALS, maxAttempts: 1 });
    clients.push(rds);

    // Act
    const { GlobalClusters } = await rds.send(new DescribeGlobalClustersCommand({}));
    const checked = await twin.invoke('ops-switchover', { app: 'settlement', toRegion: EAST, mode: 'switchover', check: true }, { region: WEST });

    // Assess
    expect(GlobalClusters?.map((cluster) => [cluster.GlobalClusterIdentifier, cluster.Status])).toEqual([['rotor-tm-db', 'available'], ['rotor-sm-db', 'available']]);
    expect(checked).toEqual({ app: 'settlement', database: 'sm-db', mode: 'switchover', fromRegion: EAST, toRegion: EAST, status: 'DONE' });
  });

  it('takes a killed region off the network while the other keeps working, and catches it up when it restarts', async () => {
    // Prepare
    const east = dynamo(EAST);
    const westEndpoints = twin.region(WEST).report!.endpoints;
    const westUrls = [twin.dynamodbEndpoint(WEST), westEndpoints.dynamodb, westEndpoints.kinesis, westEndpoints.broker, westEndpoints.status];
    const killed = capturedIO();

    // Act: kill
    const killCode = await main(['region', 'kill', WEST, '--data-dir', dataDir], killed);
    const outcomes = await Promise.all(westUrls.map(connectionOutcome));
    for (let index = 0; index < 20; index++) await putItem(east, TABLE, `during-outage-${index}`);
    await new Promise((resolve) => setTimeout(resolve, LAG_MS * 3));
    const duringOutage = await statusJson();

    // Assess: outage
    expect(killCode, killed.stderr()).toBe(0);
    expect(outcomes).toEqual(['refused', 'refused', 'refused', 'refused', 'refused']);
    expect(duringOutage.regions.find((region) => region.region === WEST)).toMatchObject({ state: 'down', pid: null, lastExit: { signal: 'SIGKILL' } });
    const backlog = duringOutage.replication.directions.find((direction) => direction.from === EAST)!;
    expect(backlog.backlog).toBe(20);
    expect(backlog.tables[TABLE]!.backlog).toBe(20);
    expect(backlog.oldestPendingAgeMs).toBeGreaterThanOrEqual(LAG_MS);

    // Act: restart
    const started = capturedIO();
    const startCode = await main(['region', 'start', WEST, '--data-dir', dataDir], started);
    const west = dynamo(WEST);
    await waitFor(async () => (await twin.status()).replication.directions.every((direction) => direction.backlog === 0), { timeoutMs: 10_000, what: 'the backlog to drain' });

    // Assess: caught up, and what it had before the kill survived on disk
    expect(startCode, started.stderr()).toBe(0);
    expect(started.stdout()).toContain(`${WEST} is up again`);
    expect(await hasItem(west, TABLE, 'leg-1')).toBe(true);
    for (let index = 0; index < 20; index++) expect(await hasItem(west, TABLE, `during-outage-${index}`)).toBe(true);
    expect((await twin.status()).regions.find((region) => region.region === WEST)!.tableItems?.[TABLE]).toBe(21);
  }, 120_000);

  it('refuses, through a safety rule, to turn both trade-matching dns controls Off', async () => {
    // Prepare
    const controls = arcAdapter();

    // Act
    const attempt = controls.updateMany([
      { name: `trade-matching-dns-${EAST}`, state: 'Off' },
      { name: `trade-matching-dns-${WEST}`, state: 'Off' },
    ]);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(SafetyRuleViolationError);
    await expect(attempt).rejects.toThrow(/trade-matching-dns-at-least-one-on/);
    expect(twin.arc.states()[`trade-matching-dns-${EAST}`]).toBe('On');
  });

  it('routes trade-matching clients to the active region even with one ARC endpoint lost', async () => {
    // Prepare
    const routing = new EdgeRouting({ controls: new CachedRoutingControls(arcAdapter()), brokers: twin.brokers });
    const requestsBefore = twin.arc.endpointRequestCount(1);
    await twin.arc.stopEndpoint(0);

    try {
      // Act
      const active = await routing.resolveActiveBroker('trade-matching');

      // Assess
      expect(active).toMatchObject({ region: EAST, brokerUrl: twin.brokers[EAST], stale: false });
      expect(active.brokerUrl).toBe(twin.region(EAST).report!.endpoints.broker);
      expect(twin.arc.endpointRequestCount(1)).toBeGreaterThan(requestsBefore);
    } finally {
      await twin.arc.startEndpoint(0);
    }
  });

  it('follows a dns flip, and keeps the last routing (marked stale) while no ARC endpoint answers', async () => {
    // Prepare
    const controls = arcAdapter();
    const routing = new EdgeRouting({ controls: new CachedRoutingControls(controls), brokers: twin.brokers });
    expect((await routing.resolveActiveBroker('trade-matching')).region).toBe(EAST);

    // Act
    await controls.updateMany([
      { name: `trade-matching-dns-${EAST}`, state: 'Off' },
      { name: `trade-matching-dns-${WEST}`, state: 'On' },
    ]);
    const afterFlip = await routing.resolveActiveBroker('trade-matching');
    await Promise.all(twin.arc.endpoints.map((_, index) => twin.arc.stopEndpoint(index)));
    const clusterDown = await routing.resolveActiveBroker('trade-matching').finally(() =>
      Promise.all(twin.arc.endpoints.map((_, index) => twin.arc.startEndpoint(index))),
    );

    // Assess
    expect(afterFlip).toMatchObject({ region: WEST, brokerUrl: twin.brokers[WEST], stale: false });
    expect(clusterDown).toMatchObject({ region: WEST, stale: true });
    expect((await statusJson()).routingControls).toContainEqual({ name: `trade-matching-dns-${WEST}`, state: 'On' });
  });

  it('stops cleanly and comes back on the same directory with its data, ports and routing state', async () => {
    // Prepare
    const portsBefore = twin.ports;
    const dynamoEndpointBefore = twin.dynamodbEndpoint(WEST);
    for (const client of clients.splice(0)) client.destroy();

    // Act
    await twin.stop();
    const stateFileAfterStop = await controllerStateExists(dataDir);
    const noTwin = capturedIO();
    const statusCode = await main(['status', '--data-dir', dataDir], noTwin);
    twin = await startTwin({ dataDir, replicationLagMs: LAG_MS });

    // Assess
    expect(stateFileAfterStop).toBe(false);
    expect(statusCode).toBe(1);
    expect(noTwin.stderr()).toContain('no twin is running');
    expect(twin.ports).toEqual(portsBefore);
    expect(twin.dynamodbEndpoint(WEST)).toBe(dynamoEndpointBefore);
    expect(await hasItem(dynamo(EAST), TABLE, 'during-outage-19')).toBe(true);
    expect(await hasItem(dynamo(WEST), TABLE, 'during-outage-19')).toBe(true);
    expect(twin.arc.states()[`trade-matching-dns-${WEST}`]).toBe('On');
  }, 120_000);
});
