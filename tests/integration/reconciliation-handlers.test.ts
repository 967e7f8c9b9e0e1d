import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TradeLeg } from '#domain/trade-leg.ts';
import { resolveEnvValue } from '#local/region/function-environment.ts';
import { MessageId } from '#shared/pipeline/message-id.ts';
import { AuditId } from '#shared/reconciliation/audit-trail.ts';
import type { ReconcileOutput, ReplayOutput, ReportOutput } from '#shared/reconciliation/schemas.ts';
import { topology } from '#shared/topology/index.ts';
import { aBrokerLeg, anImLeg, bodyOf } from '#tests/factories/trade-legs.ts';
import { TEST_CREDENTIALS } from '#tests/support/dynalite-tables.ts';
import { startReconciliationHarness, type ReconciliationHarness } from './reconciliation-harness.ts';

// The three task functions as the reconciliation workflow calls them: built from the environment the manifest gives
// them, over real emulators. A run of two passes with a replay between them, then the report built from the audit
// table alone.

type Handler<T> = (event: unknown) => Promise<T>;

let h: ReconciliationHarness;
let reconcileHandler: Handler<ReconcileOutput>;
let replayHandler: Handler<ReplayOutput>;
let reportHandler: Handler<ReportOutput>;

const im = anImLeg({ tradeID: 'H1' });
const broker = aBrokerLeg({ tradeID: 'H1' });

beforeAll(async () => {
  h = await startReconciliationHarness({ databases: 'registry' });
  const resources = { databaseConnectionStrings: new Map([['tm-db', h.databaseUrls['trade-matching']], ['sm-db', h.databaseUrls.settlement]]), queuePrefix: '' };
  const env: Record<string, string> = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: h.dynalite.emulator.endpoint,
    AWS_ENDPOINT_URL_KINESIS: h.kinesalite.endpoint,
    MQ_BROKER_URL: h.brokerUrl,
  };
  for (const name of ['ops-reconcile', 'ops-replay', 'ops-report']) {
    for (const [variable, value] of Object.entries(topology.functions.find((fn) => fn.name === name)!.env)) env[variable] = resolveEnvValue(value, resources);
  }
  Object.assign(process.env, env);
  ({ handler: reconcileHandler } = await import('#functions/operations/reconcile.ts'));
  ({ handler: replayHandler } = await import('#functions/operations/replay.ts'));
  ({ handler: reportHandler } = await import('#functions/operations/report.ts'));

  await h.accept('trade-matching', [im, broker].map((leg) => ({ queue: 'tm.trades', body: bodyOf(leg) })));
  await h.flow();
}, 180_000);

afterAll(async () => {
  await h?.close();
}, 60_000);

describe('a reconciliation run through the task functions', () => {
  it('finds what is missing, replays it, converges on the next pass, and reports the run from its audit trail', async () => {
    // Prepare
    const messageId = MessageId.of('tm.trades', bodyOf(im));
    const response = `response:${TradeLeg.id(broker)}:SETTLED`;
    await h.remove('trade-matching', 'ingestion', messageId);
    await h.remove('trade-matching', 'outboundGateway', response);
    const runId = 'exec-1';

    // Act
    const first = await reconcileHandler({ app: 'trade-matching', runId, pass: 1 });
    const replayed = await replayHandler({ ...first, extra: 'ignored' });
    await h.flow();
    const second = await reconcileHandler({ app: 'trade-matching', runId, pass: 2, until: first.until });
    const report = await reportHandler({ app: 'trade-matching', runId, outcome: 'CONVERGED' });
    const runItem = (await h.scan('tm-reconciliation-audit')).find((item) => item.id === AuditId.run(runId));

    // Assess
    expect(first).toMatchObject({ app: 'trade-matching', runId, pass: 1, missing: 2 });
    expect(first.pairs.filter((pair) => pair.missing > 0).map((pair) => [pair.pair, pair.missingIds])).toEqual([
      ['tm:inbound-gateway→ingestion', [messageId]],
      ['tm:egress→outbound-gateway', [response]],
    ]);
    expect(replayed).toEqual({
      app: 'trade-matching',
      runId,
      pass: 1,
      replayed: 2,
      pairs: [
        { pair: 'tm:fix-gateway→inbound-gateway', replayed: 0, skipped: 0 },
        { pair: 'tm:inbound-gateway→ingestion', replayed: 1, skipped: 0 },
        { pair: 'tm:ingestion→matching', replayed: 0, skipped: 0 },
        { pair: 'tm:matching→egress', replayed: 0, skipped: 0 },
        { pair: 'tm:egress→outbound-gateway', replayed: 1, skipped: 0 },
        { pair: 'sm→tm', replayed: 0, skipped: 0 },
      ],
    });
    expect(second).toMatchObject({ pass: 2, until: first.until, missing: 0, checked: first.checked });
    expect(report).toMatchObject({ app: 'trade-matching', runId, outcome: 'CONVERGED', passes: 2, replayed: 2, missingAtEnd: 0 });
    expect(report.pairs).toEqual(second.pairs.map(({ pair, checked }) => ({ pair, checked, missing: 0, replayed: pair === 'tm:inbound-gateway→ingestion' || pair === 'tm:egress→outbound-gateway' ? 1 : 0 })));
    expect(report.replayedIds).toEqual([
      { pair: 'tm:inbound-gateway→ingestion', id: messageId, pass: 1 },
      { pair: 'tm:egress→outbound-gateway', id: response, pass: 1 },
    ]);
    expect(report).not.toHaveProperty('replayedIdsTruncated');
    expect(Date.parse(report.startedAt)).toBeLessThanOrEqual(Date.parse(report.finishedAt));
    expect(runItem).toMatchObject({ app: 'trade-matching', outcome: 'CONVERGED', passes: 2, startedAt: report.startedAt, finishedAt: report.finishedAt });
    expect(await h.item('trade-matching', 'outboundGateway', response)).toMatchObject({ deliveries: 1 });
  });

  it('skips ids whose source item is gone, and refuses pairs the app does not have', async () => {
    // Act
    const replayed = await replayHandler({ app: 'settlement', runId: 'exec-2', pass: 1, pairs: [{ pair: 'tm→sm', missingIds: ['settlement:nothing-1'] }] });
    const unknown = await replayHandler({ app: 'settlement', runId: 'exec-2', pass: 1, pairs: [{ pair: 'sm→tm', missingIds: ['x'] }] }).catch((error: unknown) => error);
    const invalid = await reconcileHandler({ app: 'billing', runId: 'exec-2', pass: 1 }).catch((error: unknown) => error);

    // Assess
    expect(replayed).toEqual({ app: 'settlement', runId: 'exec-2', pass: 1, replayed: 0, pairs: [{ pair: 'tm→sm', replayed: 0, skipped: 1 }] });
    expect(unknown).toMatchObject({ name: 'UnknownPairError', pair: 'sm→tm' });
    expect(invalid).toMatchObject({ name: 'ZodError' });
  });

  it('reports a run that failed before any pass, keeping the error', async () => {
    // Act
    const report = await reportHandler({ app: 'settlement', runId: 'exec-3', outcome: 'FAILED', error: { Error: 'States.Timeout', Cause: 'ops-reconcile timed out' } });
    const runItem = (await h.scan('sm-reconciliation-audit')).find((item) => item.id === AuditId.run('exec-3'));

    // Assess
    expect(report).toMatchObject({ app: 'settlement', runId: 'exec-3', outcome: 'FAILED', passes: 0, replayed: 0, missingAtEnd: 0, pairs: [], replayedIds: [] });
    expect(runItem).toMatchObject({ outcome: 'FAILED', error: { Error: 'States.Timeout', Cause: 'ops-reconcile timed out' } });
  });
});

describe('the audit trail', () => {
  it('keeps every replayed id of a large replay, across chunks each well under the item limit', async () => {
    // Prepare
    const ids = Array.from({ length: 3_000 }, (_, index) => `msg:QAINS012-QAINS012-QABRO010-${index}:${index.toString(16).padStart(32, '0')}`);
    await h.audit.runStarted('trade-matching', 'exec-4', '2026-11-23T10:00:00.000Z');
    await h.audit.passChecked({ app: 'trade-matching', runId: 'exec-4', pass: 1, until: '2026-11-23T10:00:00.000Z', checkedAt: '2026-11-23T10:00:01.000Z', checked: 3_000, missing: 3_000, pairs: [] });

    // Act
    await h.audit.replayed({ app: 'trade-matching', runId: 'exec-4', pass: 1, replayedAt: '2026-11-23T10:00:02.000Z', pairs: [{ pair: 'tm:inbound-gateway→ingestion', replayed: 3_000, skipped: 0, ids }] });
    const history = await h.audit.history('trade-matching', 'exec-4');
    const chunks = (await h.scan('tm-reconciliation-audit')).filter((item) => String(item.id).startsWith('run:exec-4:replay:1:'));

    // Assess
    expect(history.replays[0]?.pairs[0]?.ids).toEqual(ids);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(Buffer.byteLength(JSON.stringify(chunk))).toBeLessThan(100 * 1024);
  });
});
