import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { DynamoDbGeneratorRuns } from '#shared/load/dynamodb-generator-runs.ts';
import { DEFAULT_MIX } from '#domain/generator.ts';
import { legBody, legsOfRun, type GeneratorRun } from '#shared/load/generator-run.ts';
import { MessageId } from '#shared/pipeline/message-id.ts';
import { verifyProgress, type VerificationSources } from '#shared/verification/verify-run.ts';
import { startDynalite, type DynaliteHarness } from '#tests/support/dynalite-tables.ts';
import { POSTGRES_TEST_BACKENDS, type AppDatabases } from '#tests/support/postgres-app-databases.ts';

// A generator that dies with its region has sent legs it never recorded (it records about once a second). Verify
// counts them once the gateway has acknowledged them, so their counterparts are judged against the right truth.
// A later leg nothing acknowledged may never have been sent, so it stays out.

const TABLES = { tmInbound: 'tm-inbound-gateway-store', tmMatching: 'tm-matching-store', tmOutbound: 'tm-outbound-gateway-store', smMatching: 'sm-matching-store', smOutbound: 'sm-outbound-gateway-store' };

let dynalite: DynaliteHarness;
let databases: AppDatabases;
let sources: VerificationSources;

beforeAll(async () => {
  dynalite = await startDynalite();
  await Promise.all([...Object.values(TABLES), 'generator-runs'].map((table) => dynalite.createTable(table)));
  databases = await POSTGRES_TEST_BACKENDS[0]!.open!();
  const documents = documentClient(dynalite.client());
  sources = { runs: new DynamoDbGeneratorRuns(documents, 'generator-runs'), documents, tables: TABLES, tradeMatching: databases.tradeMatching, settlement: databases.settlement };
}, 60_000);

afterAll(async () => {
  await databases?.close();
  await dynalite?.close();
});

const run = (id: string, status: GeneratorRun['status']): GeneratorRun => ({
  id, seed: id.length * 7919, pairs: 10, mix: DEFAULT_MIX, rate: 4, queue: 'tm.trades', startedAt: '2026-12-07T14:43:00.000Z', legsSent: 4, status,
});

async function acknowledge(of: GeneratorRun, count: number, except: readonly number[] = []): Promise<void> {
  for (const generated of legsOfRun({ ...of, legsSent: count }).filter((_, index) => !except.includes(index))) {
    const body = legBody(generated);
    await sources.documents.send(new PutCommand({ TableName: TABLES.tmInbound, Item: { id: MessageId.of(of.queue, body), queue: of.queue, body } }));
  }
}

describe('verify and the legs a run did not record', () => {
  it('counts the legs of an unfinished run that the gateway acknowledged beyond its record, and no others; a finished run keeps its record', async () => {
    // Prepare: both runs recorded 4 legs; the gateway acknowledged the first 7 of each but the fifth.
    const killed = run('run-killed-with-its-region', 'running');
    const finished = run('run-stopped', 'stopped');
    await Promise.all([sources.runs.save(killed), sources.runs.save(finished)]);
    await Promise.all([acknowledge(killed, 7, [4]), acknowledge(finished, 7, [4])]);

    // Act
    const progress = await verifyProgress({}, sources);

    // Assess
    expect(progress.cutoff).toEqual({ 'run-killed-with-its-region': 6, 'run-stopped': 4 });
    expect(progress.legs_sent).toBe(10);
    expect(progress.legs_acked).toBe(10);
  });
});
