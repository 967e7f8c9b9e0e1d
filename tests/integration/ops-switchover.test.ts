import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { RDSClient } from '@aws-sdk/client-rds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuroraGlobalDatabase } from '#local/global/aurora/index.ts';
import { RdsGlobalDatabaseControl } from '#shared/adapters/rds/rds-global-database-control.ts';
import type { DatabaseSwitchoverResult } from '#shared/operations/database-switchover.ts';
import { startRdsApiBench, TWIN_CREDENTIALS, type RdsApiBench } from '#tests/support/rds-api.ts';
import { waitFor } from '#tests/support/wait.ts';

/**
 * `ops-switchover` as a workflow task runs it: the handler module, configured only by its environment
 * (AWS_ENDPOINT_URL_RDS, AWS_REGION), against the twin's RDS API over trade matching's global database `tm-db`
 * (both regions' databases in this process, so a region can be lost without a region process).
 */

const EAST = 'us-east-1';
const WEST = 'us-west-2';

interface EntryTables {
  entry: { id: string; amount: string };
}

type Handler = (event: unknown) => Promise<DatabaseSwitchoverResult>;

describe('ops-switchover against the twin RDS API', () => {
  let scratch: string;
  let global: AuroraGlobalDatabase;
  let bench: RdsApiBench;
  let handler: Handler;
  const savedEnvironment = { ...process.env };
  let sequence = 0;

  const nextId = () => `OPS-${(sequence += 1)}`;
  const db = (region: string): Kysely<EntryTables> => global.connection<EntryTables>(region);
  const insertEntry = (region: string, id: string) => db(region).insertInto('entry').values({ id, amount: '1.25' }).execute();
  const has = async (region: string, id: string) => (await db(region).selectFrom('entry').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;

  /** Polls the check, as the workflow does, until DONE; every answer seen is returned. */
  async function checkUntilDone(event: Record<string, unknown>): Promise<DatabaseSwitchoverResult[]> {
    const seen: DatabaseSwitchoverResult[] = [];
    await waitFor(
      async () => {
        seen.push(await handler({ ...event, check: true }));
        return seen.at(-1)!.status === 'DONE';
      },
      { timeoutMs: 20_000, intervalMs: 25, what: 'the check to report DONE' },
    );
    return seen;
  }

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(tmpdir(), 'rotor-ops-switchover-'));
    global = new AuroraGlobalDatabase({
      name: 'tm-db',
      // In memory: this suite is about the control plane, not about durability.
      regions: { [EAST]: { backend: 'pglite' }, [WEST]: { backend: 'pglite' } },
      writer: EAST,
      tables: ['public.entry'],
      stateDir: path.join(scratch, 'global'),
      lagMs: 200,
      pollMs: 20,
      prepare: async (opened) => {
        await sql`create table if not exists entry (id text primary key, amount numeric not null)`.execute(opened);
      },
    });
    await global.start();
    bench = await startRdsApiBench([{ database: 'tm-db', model: global }]);
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_RDS: bench.server.url,
      AWS_REGION: WEST,
      AWS_ACCESS_KEY_ID: TWIN_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TWIN_CREDENTIALS.secretAccessKey,
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    });
    ({ handler } = (await import('#functions/operations/switchover.ts')) as { handler: Handler });
  }, 60_000);

  afterAll(async () => {
    process.env = savedEnvironment;
    await bench?.close();
    await global?.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('refuses an unknown app, a database without a global cluster and a region without a member, moving nothing', async () => {
    // Act
    const unknownApp = handler({ app: 'payments', toRegion: WEST, mode: 'switchover' });
    const unknownDatabase = handler({ app: 'settlement', database: 'nope-db', toRegion: WEST, mode: 'switchover' });
    const noMember = handler({ app: 'trade-matching', toRegion: 'eu-west-1', mode: 'failover' });

    // Assess
    await expect(unknownApp).rejects.toMatchObject({ name: 'ZodError' });
    await expect(unknownDatabase).rejects.toMatchObject({ name: 'GlobalDatabaseNotFoundError', transient: false });
    await expect(noMember).rejects.toMatchObject({ name: 'GlobalDatabaseMemberNotFoundError' });
    expect(global.writerRegion).toBe(EAST);
  });

  it("starts a switchover of the app's database, is idempotent while it runs and once it is done, and its check reports DONE", async () => {
    // Prepare
    const id = nextId();
    await insertEntry(EAST, id);
    const event = { app: 'trade-matching', toRegion: WEST, mode: 'switchover' };
    // The switchover waits for the entry to reach us-west-2, so while shipping is held it is certainly under way.
    global.pause();

    // Act
    const started = await handler(event);
    const startedAgain = await handler(event);
    const checkedWhileHeld = await handler({ ...event, check: true });
    global.resume();
    const checks = await checkUntilDone({ ...event, fromRegion: started.fromRegion });
    const afterwards = await handler(event);

    // Assess
    expect(started).toEqual({ app: 'trade-matching', database: 'tm-db', mode: 'switchover', fromRegion: EAST, toRegion: WEST, status: 'IN_PROGRESS' });
    expect(startedAgain, 'started again while it runs: nothing new').toEqual(started);
    expect(checkedWhileHeld).toEqual(started);
    expect(checks.at(-1)).toEqual({ ...started, status: 'DONE' });
    expect(afterwards, 'nothing left to do: reported at once, from where it stands').toEqual({ ...started, fromRegion: WEST, status: 'DONE' });
    expect(global.writerRegion).toBe(WEST);
    expect(await has(WEST, id), 'written before the switchover, readable on the new writer').toBe(true);
  });

  it('reports an RDS API it cannot reach as a transient GlobalDatabaseUnavailableError', async () => {
    // Prepare
    const closed = await startRdsApiBench([]);
    await closed.close();
    const client = new RDSClient({ endpoint: closed.server.url, region: WEST, credentials: TWIN_CREDENTIALS, maxAttempts: 1 });
    const control = new RdsGlobalDatabaseControl(client);

    // Act
    const described = control.describe('tm-db');

    // Assess
    await expect(described).rejects.toMatchObject({ name: 'GlobalDatabaseUnavailableError', transient: true });
    client.destroy();
  });

  it('says so when a check finds the writer elsewhere and nothing moving it', async () => {
    // Act
    const check = handler({ app: 'trade-matching', toRegion: EAST, mode: 'switchover', check: true });

    // Assess
    await expect(check).rejects.toMatchObject({ name: 'SwitchoverNotInProgressError', transient: false });
    expect(global.writerRegion).toBe(WEST);
  });

  it('fails over to the surviving region with the old writer lost, promoting it with what it had applied', async () => {
    // Prepare
    const [kept, lost] = [nextId(), nextId()];
    await insertEntry(WEST, kept);
    await waitFor(() => has(EAST, kept), { what: 'the kept entry on the secondary' });
    global.pause();
    await insertEntry(WEST, lost);
    await global.simulateRegionLoss(WEST);
    const event = { app: 'trade-matching', toRegion: EAST, mode: 'failover' };

    // Act
    const started = await handler(event);
    const checks = await checkUntilDone(event);
    global.resume();

    // Assess
    expect(started).toEqual({ app: 'trade-matching', database: 'tm-db', mode: 'failover', fromRegion: WEST, toRegion: EAST, status: 'IN_PROGRESS' });
    expect(checks.at(-1)).toMatchObject({ status: 'DONE', toRegion: EAST });
    expect(global.writerRegion).toBe(EAST);
    expect(global.detachedRegions).toEqual([WEST]);
    expect(await has(EAST, kept)).toBe(true);
    expect(await has(EAST, lost), 'committed on the lost writer after replication stopped: the unreplicated tail').toBe(false);
    await insertEntry(EAST, nextId());
  });
});
