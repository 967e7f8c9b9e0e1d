import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { startStompBroker, type RunningStompBroker } from '#local/mq/stomp-broker.ts';
import type { RunningArcEmulator } from '#local/global/arc/emulator.ts';
import { functionEnvironment } from '#local/region/function-environment.ts';
import { closeSharedDatabases, pgliteConnectionString } from '#shared/adapters/postgres/database-registry.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import { topology } from '#shared/topology/index.ts';
import { ArcTestBench } from '#tests/support/arc-cluster.ts';
import { startDynalite, type DynaliteHarness } from '#tests/support/dynalite-tables.ts';

/**
 * The four handlers as the twin runs them: each module loaded with the environment the twin derives from its
 * manifest entry (resources resolved, queues prefixed for a shared broker, the emulators' endpoints), then invoked
 * with a workflow's input. The use cases themselves are tested in operations-*.test.ts.
 */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const REGION = 'us-east-1';
const arcBench = new ArcTestBench();
let arc: RunningArcEmulator;
let dynalite: DynaliteHarness;
let server: RunningStompBroker;
let directory: string;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'rotor-ops-handlers-'));
  arc = await arcBench.start();
  dynalite = await startDynalite();
  for (const table of topology.tables.filter((spec) => spec.purpose === 'safe-store' && spec.app === 'trade-matching')) await dynalite.createTable(table.name);
  server = await startStompBroker({ dataDir: join(directory, 'broker'), port: 0 });
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await closeSharedDatabases(directory);
  await server.close();
  await dynalite.close();
  await arcBench.cleanUp();
  await rm(directory, { recursive: true, force: true });
});

/** Loads `functions/operations/<task>.ts` afresh, under the environment the twin gives `ops-<task>` in REGION. */
async function handlerOf(task: string): Promise<(event: unknown) => Promise<unknown>> {
  const spec = topology.functions.find((fn) => fn.name === `ops-${task}`)!;
  const env = functionEnvironment(
    spec,
    { region: REGION, kinesis: 'http://127.0.0.1:9', dynamodb: dynalite.emulator.endpoint, broker: server.url, routingControlEndpoints: arc.clusterEndpointsJson },
    {
      databaseConnectionStrings: new Map(topology.databases.map((database) => [database.name, pgliteConnectionString(join(directory, database.name))])),
      queuePrefix: `${REGION}.`,
    },
  );
  vi.unstubAllEnvs();
  for (const [variable, value] of Object.entries({ ...env, AWS_REGION: REGION, POWERTOOLS_LOG_LEVEL: 'WARN' })) vi.stubEnv(variable, value);
  vi.resetModules();
  const module = (await import(`#functions/operations/${task}.ts`)) as { handler: (event: unknown) => Promise<unknown> };
  return module.handler;
}

describe('the rotation task handlers, wired as the twin wires them', () => {
  test('ops-routing describes the app from the cluster the environment names', async () => {
    // Prepare
    const handler = await handlerOf('routing');

    // Act
    const result = await handler({ action: 'describe', app: 'trade-matching' });

    // Assess
    expect(result).toMatchObject({ app: 'trade-matching', activeRegion: REGION, regions: [REGION, 'us-west-2'] });
  });

  test('ops-canary submits to the region’s prefixed tm.trades queue, which ops-drain-check then finds not drained', async () => {
    // Prepare
    const canary = await handlerOf('canary');
    const drainCheck = await handlerOf('drain-check');
    const probe = new StompMessageBroker({ url: server.url });

    // Act
    const submitted = await canary({ action: 'submit', runId: 'handlers1' });
    const depth = await probe.queueDepth(`${REGION}.tm.trades`);
    const drained = await drainCheck({ check: 'queues', app: 'trade-matching', runId: 'handlers1' }).catch((error: unknown) => error);
    await probe.close();

    // Assess
    expect(submitted).toMatchObject({ runId: 'handlers1', tradeIds: ['CANARYIM-CANARYIM-CANARYBR-handlers1', 'CANARYBR-CANARYIM-CANARYBR-handlers1'] });
    expect(depth).toBe(2);
    expect(drained).toMatchObject({ name: 'DrainNotCompleteError', message: expect.stringContaining('tm.trades=2, tm.settlements=0') });
  });

  test('ops-drain-check writes its watermark to the safe stores the environment names', async () => {
    // Prepare
    const handler = await handlerOf('drain-check');

    // Act
    const written = await handler({ check: 'watermark-write', app: 'trade-matching', runId: 'handlers2' });
    const read = await handler({ check: 'watermark-read', app: 'trade-matching', runId: 'handlers2' });

    // Assess
    expect(written).toMatchObject({ region: REGION, watermark: 'watermark:handlers2', tables: expect.arrayContaining(['tm-matching-store']) });
    expect(read).toMatchObject({ drained: true });
  });

  test('ops-digest digests the safe stores and a database the stages have not created tables in yet', async () => {
    // Prepare
    const handler = await handlerOf('digest');

    // Act
    const result = await handler({ app: 'trade-matching', runId: 'handlers3' });

    // Assess
    expect(result).toMatchObject({
      app: 'trade-matching',
      region: REGION,
      digest: expect.stringMatching(/^[0-9a-f]{64}$/),
      databases: { 'tm-db': { rows: 0 } },
      tables: { 'tm-matching-store': { items: 0 } },
    });
  }, 60_000);
});
