import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuroraGlobalCoordinator, ReplicaUnreachableError } from '#local/global/aurora/index.ts';
import { createRegionDatabases } from '#tests/support/aurora-databases.ts';
import { agentUrlOf, regionSql, sqlStateOf, startAuroraRegion, AURORA_DATABASE } from '#tests/support/aurora-regions.ts';
import type { RegionProcess } from '#tests/support/region-process.ts';
import { waitFor } from '#tests/support/wait.ts';

/**
 * The Aurora global database of the two-region twin: each region's PGlite lives in that region's process, and
 * the coordinator (here in the test process, in the twin in the global layer) ships changes through the
 * regions' replication agents. Killing a region process takes its database away with it.
 */

const EAST = 'us-east-1';
const WEST = 'us-west-2';
const LAG_MS = 200;
const postgresUrl = process.env.ROTOR_TEST_POSTGRES_URL;
const LEDGER_SCHEMA = [
  `create table if not exists ledger_entry (
     id text primary key, account text not null, amount numeric not null, detail jsonb)`,
];

interface LedgerRow {
  id: string;
  account: string;
  amount: string;
}

const insertEntry = (target: RegionProcess, id: string, amount = '1') =>
  regionSql(target, 'insert into ledger_entry (id, account, amount, detail) values ($1, $2, $3, $4)', [id, 'ACC-1', amount, '{"n": 1}']);
const entriesOn = (target: RegionProcess, ids: readonly string[]) =>
  regionSql<LedgerRow>(target, 'select id, account, amount::text as amount from ledger_entry where id = any($1) order by id', [ids]);
const everyEntry = (target: RegionProcess) => regionSql<LedgerRow>(target, 'select id, account, amount::text as amount from ledger_entry order by id');

interface Backend {
  readonly title: string;
  /** Extra command-line flags per region, and how to drop what they created. */
  readonly prepare?: () => Promise<{ flags: Record<string, string[]>; drop: () => Promise<void> }>;
}

const backends: Backend[] = [
  { title: 'PGlite inside each region process', prepare: async () => ({ flags: {}, drop: async () => undefined }) },
  postgresUrl
    ? {
        title: 'PostgreSQL (one database per region at ROTOR_TEST_POSTGRES_URL)',
        prepare: async () => {
          const { configs, drop } = await createRegionDatabases(postgresUrl, [EAST, WEST]);
          const urlOf = (region: string) => (configs[region] as { url: string }).url;
          const flagsOf = (region: string) => ['--postgres-urls', JSON.stringify({ [AURORA_DATABASE]: urlOf(region) })];
          return { flags: { [EAST]: flagsOf(EAST), [WEST]: flagsOf(WEST) }, drop };
        },
      }
    : { title: 'PostgreSQL (skipped: set ROTOR_TEST_POSTGRES_URL, e.g. from .ci/postgres.sh)' },
];

for (const backend of backends) {
  describe.skipIf(backend.prepare === undefined)(`Aurora global database across region processes on ${backend.title}`, () => {
    const regions = new Map<string, RegionProcess>();
    let flags: Record<string, string[]> = {};
    let dropDatabases: () => Promise<void> = async () => undefined;
    let scratch: string;
    let stateDir: string;
    let coordinator: AuroraGlobalCoordinator;
    let sequence = 0;

    const region = (name: string): RegionProcess => regions.get(name)!;
    const writer = (): RegionProcess => region(coordinator.writerRegion);
    const secondary = (): RegionProcess => region(coordinator.secondaryRegions[0]!);
    const nextId = (): string => `LEDGER-${(sequence += 1)}`;
    const caughtUp = async (): Promise<boolean> => (await coordinator.rpoLagMs()) === 0;

    async function startRegion(name: string): Promise<RegionProcess> {
      const started = await startAuroraRegion(name, path.join(scratch, name), flags[name] ?? []);
      regions.set(name, started);
      return started;
    }

    beforeAll(async () => {
      scratch = await mkdtemp(path.join(tmpdir(), 'rotor-aurora-regions-'));
      stateDir = path.join(scratch, 'global');
      ({ flags, drop: dropDatabases } = await backend.prepare!());
      await Promise.all([startRegion(EAST), startRegion(WEST)]);
      coordinator = new AuroraGlobalCoordinator({
        name: 'ledger',
        database: AURORA_DATABASE,
        regions: { [EAST]: agentUrlOf(region(EAST)), [WEST]: agentUrlOf(region(WEST)) },
        writer: EAST,
        schema: LEDGER_SCHEMA,
        tables: ['public.ledger_entry'],
        stateDir,
        lagMs: LAG_MS,
        pollMs: 20,
        superviseIntervalMs: 100,
      });
      await coordinator.start();
    }, 120_000);

    afterAll(async () => {
      await coordinator?.close();
      for (const running of regions.values()) running.child.kill('SIGKILL');
      await Promise.all([...regions.values()].map((running) => running.exited));
      await dropDatabases();
      if (scratch) await rm(scratch, { recursive: true, force: true });
    });

    it('ships a write from the writer region to the read-only secondary region after about the lag, exactly', async () => {
      // Prepare
      const id = nextId();
      const committedAt = Date.now();

      // Act
      await insertEntry(writer(), id, '98765432109876543.21');
      await waitFor(async () => (await entriesOn(secondary(), [id])).length === 1, { what: 'the entry in the secondary region' });
      const arrivedAfterMs = Date.now() - committedAt;

      // Assess
      expect(arrivedAfterMs).toBeGreaterThanOrEqual(LAG_MS - 20);
      expect(arrivedAfterMs).toBeLessThan(LAG_MS + 3_000);
      expect(await entriesOn(secondary(), [id])).toEqual([{ id, account: 'ACC-1', amount: '98765432109876543.21' }]);
      expect(await sqlStateOf(insertEntry(secondary(), nextId())), 'the secondary refuses handler writes as an Aurora reader').toBe('25006');
    });

    it('grows the RPO lag while shipping is paused and returns it to 0 once resumed', async () => {
      // Prepare
      await waitFor(caughtUp, { what: 'replication to catch up' });
      coordinator.pause();
      const id = nextId();
      await insertEntry(writer(), id);

      // Act
      await delay(LAG_MS + 300);
      const lagWhilePaused = await coordinator.rpoLagMs();
      await delay(300);
      const laterLagWhilePaused = await coordinator.rpoLagMs();
      coordinator.resume();

      // Assess
      expect(lagWhilePaused).toBeGreaterThanOrEqual(LAG_MS + 250);
      expect(laterLagWhilePaused).toBeGreaterThan(lagWhilePaused);
      expect((await coordinator.replicationStatus())[0]).toMatchObject({ backlog: 1, paused: false });
      await waitFor(caughtUp, { what: 'the lag to return to 0' });
      expect(await entriesOn(secondary(), [id])).toHaveLength(1);
    });

    it('switches over under concurrent writes without losing an acknowledged write, and swaps the roles', async () => {
      // Prepare
      const oldWriter = coordinator.writerRegion;
      const newWriter = coordinator.secondaryRegions[0]!;
      const acknowledged: string[] = [];
      let rejectedAsReadOnly = 0;
      let stop = false;
      const writeUntilStopped = async (): Promise<void> => {
        while (!stop) {
          const id = nextId();
          const failure = await sqlStateOf(insertEntry(writer(), id));
          if (failure === undefined) acknowledged.push(id);
          else if (failure === '25006') rejectedAsReadOnly += 1;
          else throw new Error(`unexpected write failure ${failure}`);
          await delay(2);
        }
      };
      const load = Promise.all([writeUntilStopped(), writeUntilStopped()]);
      await delay(300);

      // Act
      await coordinator.switchover(newWriter);
      await delay(300);
      stop = true;
      await load;

      // Assess
      expect(coordinator.writerRegion).toBe(newWriter);
      expect(coordinator.secondaryRegions).toEqual([oldWriter]);
      expect(acknowledged.length).toBeGreaterThan(10);
      expect(rejectedAsReadOnly, 'writes during the switchover fail as read-only instead of being lost').toBeGreaterThan(0);
      expect(await entriesOn(region(newWriter), acknowledged)).toHaveLength(acknowledged.length);
      await waitFor(caughtUp, { what: 'the old writer to catch up as a secondary' });
      expect(await entriesOn(region(oldWriter), acknowledged)).toHaveLength(acknowledged.length);
      expect(await sqlStateOf(insertEntry(region(oldWriter), nextId()))).toBe('25006');
    });

    it('keeps shipping to a secondary region that was killed once it is back, without being told its role again', { timeout: 90_000 }, async () => {
      // Prepare
      await waitFor(caughtUp, { what: 'replication to catch up' });
      const lostSecondary = coordinator.secondaryRegions[0]!;
      region(lostSecondary).child.kill('SIGKILL');
      await region(lostSecondary).exited;
      const writtenWhileDown = nextId();
      await insertEntry(writer(), writtenWhileDown);

      // Act
      await delay(LAG_MS + 300);
      const [statusWhileDown] = await coordinator.replicationStatus();
      const restarted = await startRegion(lostSecondary);
      coordinator.setAgentUrl(lostSecondary, agentUrlOf(restarted));
      await waitFor(async () => (await entriesOn(restarted, [writtenWhileDown])).length === 1, { what: 'the entry on the restarted secondary' });

      // Assess
      expect(statusWhileDown).toMatchObject({ region: lostSecondary, backlog: 1 });
      expect(statusWhileDown!.lagMs).toBeGreaterThanOrEqual(LAG_MS + 250);
      expect(coordinator.secondaryRegions).toEqual([lostSecondary]);
      await waitFor(caughtUp, { what: 'the lag to return to 0' });
      expect(await sqlStateOf(insertEntry(restarted, nextId())), 'the restarted secondary is read-only again').toBe('25006');
    });

    it('fails over after the writer region is killed, then reports exactly its unshipped changes on reattach', { timeout: 90_000 }, async () => {
      // Prepare
      await waitFor(caughtUp, { what: 'replication to catch up' });
      const oldWriter = coordinator.writerRegion;
      const survivor = coordinator.secondaryRegions[0]!;
      const [updated, lostEntry] = [nextId(), nextId()];
      await insertEntry(writer(), updated, '5');
      await waitFor(async () => (await entriesOn(secondary(), [updated])).length === 1, { what: 'the entry on the secondary' });
      coordinator.pause();
      await insertEntry(writer(), lostEntry, '1234567890123456789.25');
      await regionSql(writer(), "update ledger_entry set amount = 6.125 where id = $1", [updated]);

      // Act
      region(oldWriter).child.kill('SIGKILL');
      await region(oldWriter).exited;
      await delay(300);
      const [statusWhileDown] = await coordinator.replicationStatus();
      const { promotionLsn } = await coordinator.failover(survivor);
      const afterFailover = nextId();
      await insertEntry(region(survivor), afterFailover);
      coordinator.resume();
      const restarted = await startRegion(oldWriter);
      const writeOnReturningOldWriter = await sqlStateOf(insertEntry(restarted, nextId()));
      const tail = await coordinator.reattach(oldWriter, { agentUrl: agentUrlOf(restarted) });

      // Assess
      expect(statusWhileDown!.lagMs, 'the lag keeps growing while the writer cannot be asked').toBeGreaterThanOrEqual(300);
      expect(statusWhileDown!.lastError).toContain(ReplicaUnreachableError.name);
      expect(writeOnReturningOldWriter, 'a returning old writer opens fenced').toBe('25006');
      expect(coordinator.writerRegion).toBe(survivor);
      expect(coordinator.detachedRegions).toEqual([]);
      expect(tail?.changes).toMatchObject([
        { table: 'public.ledger_entry', op: 'INSERT', primaryKey: { id: lostEntry }, row: { id: lostEntry, amount: '1234567890123456789.25', detail: { n: 1 } } },
        { table: 'public.ledger_entry', op: 'UPDATE', primaryKey: { id: updated }, row: { id: updated, amount: '6.125' } },
      ]);
      expect(tail?.changes).toHaveLength(2);
      expect(tail?.changes.every((change) => change.lsn > promotionLsn)).toBe(true);
      expect(coordinator.unreplicatedTail()).toEqual(tail?.changes);
      const persisted = JSON.parse(await readFile(path.join(stateDir, 'ledger.aurora-roles.json'), 'utf8')) as { writer: string; unreplicatedTails: unknown[] };
      expect(persisted).toMatchObject({ writer: survivor, unreplicatedTails: [{ region: oldWriter, promotionLsn }] });

      expect(coordinator.secondaryRegions).toEqual([oldWriter]);
      await waitFor(async () => (await entriesOn(restarted, [afterFailover])).length === 1, { what: 'the rebuilt old writer to follow the new writer' });
      expect(await entriesOn(restarted, [lostEntry])).toEqual([]);
      expect(await entriesOn(restarted, [updated])).toMatchObject([{ amount: '5' }]);
      const newWrite = nextId();
      await insertEntry(region(survivor), newWrite);
      await waitFor(async () => (await entriesOn(restarted, [newWrite])).length === 1, { what: 'a new write on the old writer, now a secondary' });
      await waitFor(caughtUp, { what: 'the old writer to be in sync' });
      expect(await everyEntry(restarted)).toEqual(await everyEntry(region(survivor)));
      expect(await sqlStateOf(regionSql(restarted, 'delete from ledger_entry'))).toBe('25006');
    });
  });
}
