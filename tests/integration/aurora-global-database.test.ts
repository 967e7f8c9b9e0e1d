import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuroraGlobalDatabase,
  SwitchoverTimeoutError,
  enableReplication,
  type AuroraGlobalDatabaseOptions,
} from '#local/global/aurora/index.ts';
import type { AnyKysely } from '#local/global/aurora/change-capture.ts';
import type { DatabaseConfig } from '#shared/adapters/postgres/database.ts';
import { createRegionDatabases } from '#tests/support/aurora-databases.ts';
import { waitFor } from '#tests/support/wait.ts';

interface MatchingTables {
  trade: { id: string; status: string; quantity: string };
  allocation: { trade_id: string; allocation_id: number; quantity: string };
}

const EAST = 'us-east-1';
const WEST = 'us-west-2';
const LAG_MS = 200;
const REPLICATED_TABLES = ['public.trade', 'public.allocation'];
const postgresUrl = process.env.ROTOR_TEST_POSTGRES_URL;

async function createMatchingTables(db: AnyKysely): Promise<void> {
  await sql`create table if not exists trade (id text primary key, status text not null, quantity numeric not null)`.execute(db);
  await sql`create table if not exists allocation (
    trade_id text not null references trade (id) on delete cascade,
    allocation_id integer not null,
    quantity numeric not null,
    primary key (trade_id, allocation_id))`.execute(db);
}

class IntentionalRollback extends Error {
  override readonly name = 'IntentionalRollback';
}

async function readOnlyError(write: Promise<unknown>): Promise<{ message: string; code: unknown }> {
  const error = await write.then(
    () => undefined,
    (failure: unknown) => failure as { message: string; code: unknown },
  );
  expect(error, 'the write should have been rejected').toBeDefined();
  return { message: error!.message, code: error!.code };
}

const backends: Array<{ title: string; regions: (() => Promise<{ configs: Record<string, DatabaseConfig>; drop: () => Promise<void> }>) | undefined }> = [
  {
    title: 'PGlite (one on-disk instance per region)',
    regions: async () => {
      const directory = await mkdtemp(join(tmpdir(), 'rotor-aurora-'));
      return {
        configs: {
          [EAST]: { backend: 'pglite', dataDir: join(directory, EAST) },
          [WEST]: { backend: 'pglite', dataDir: join(directory, WEST) },
        },
        drop: () => rm(directory, { recursive: true, force: true }),
      };
    },
  },
  {
    title: postgresUrl
      ? 'PostgreSQL (two databases at ROTOR_TEST_POSTGRES_URL)'
      : 'PostgreSQL (skipped: set ROTOR_TEST_POSTGRES_URL, e.g. from .ci/postgres.sh)',
    regions: postgresUrl ? () => createRegionDatabases(postgresUrl, [EAST, WEST]) : undefined,
  },
];

for (const { title, regions } of backends) {
  describe.skipIf(regions === undefined)(`Aurora Global Database twin on ${title}`, () => {
    let options: AuroraGlobalDatabaseOptions;
    let global: AuroraGlobalDatabase;
    let dropRegions: () => Promise<void> = async () => undefined;
    let stateDir: string;
    let sequence = 0;

    const writer = (): Kysely<MatchingTables> => global.connection<MatchingTables>(global.writerRegion);
    const secondaryRegion = (): string => global.secondaryRegions[0]!;
    const secondary = (): Kysely<MatchingTables> => global.connection<MatchingTables>(secondaryRegion());
    const nextTradeId = (): string => `QAINS012-QABRO010-${(sequence += 1)}`;
    const tradeOn = async (db: Kysely<MatchingTables>, id: string) =>
      db.selectFrom('trade').selectAll().where('id', '=', id).executeTakeFirst();
    const caughtUp = async (): Promise<boolean> => (await global.rpoLagMs()) === 0;

    beforeAll(async () => {
      const created = await regions!();
      dropRegions = created.drop;
      stateDir = await mkdtemp(join(tmpdir(), 'rotor-aurora-state-'));
      options = {
        name: 'trade-matching',
        regions: created.configs,
        writer: EAST,
        tables: REPLICATED_TABLES,
        stateDir,
        lagMs: LAG_MS,
        pollMs: 20,
        prepare: createMatchingTables,
      };
      global = new AuroraGlobalDatabase(options);
      await global.start();
    });

    afterAll(async () => {
      await global?.close();
      await dropRegions();
      if (stateDir) await rm(stateDir, { recursive: true, force: true });
    });

    it('replicates a committed write to the read-only secondary after about the replication lag', async () => {
      // Prepare
      const id = nextTradeId();
      const committedAt = Date.now();

      // Act
      await writer().insertInto('trade').values({ id, status: 'NEW', quantity: '98765432109876543.21' }).execute();

      // Assess
      expect(await tradeOn(secondary(), id)).toBeUndefined();
      await waitFor(async () => (await tradeOn(secondary(), id)) !== undefined, { what: 'the trade on the secondary' });
      expect(Date.now() - committedAt).toBeGreaterThanOrEqual(LAG_MS * 0.75);
      expect(await tradeOn(secondary(), id)).toEqual({ id, status: 'NEW', quantity: '98765432109876543.21' });
    });

    it('never ships a rolled-back transaction, and applies a committed one whole (transaction-consistent)', async () => {
      // Prepare
      const rolledBack = nextTradeId();
      const committed = nextTradeId();
      const observations: Array<{ trades: number; allocations: number }> = [];

      // Act
      await expect(
        writer().transaction().execute(async (trx) => {
          await trx.insertInto('trade').values({ id: rolledBack, status: 'NEW', quantity: '5' }).execute();
          throw new IntentionalRollback('the matching step failed');
        }),
      ).rejects.toThrow(IntentionalRollback);
      await writer().transaction().execute(async (trx) => {
        await trx.insertInto('trade').values({ id: committed, status: 'MATCHED', quantity: '30' }).execute();
        for (const allocationId of [1, 2, 3]) {
          await trx.insertInto('allocation').values({ trade_id: committed, allocation_id: allocationId, quantity: '10' }).execute();
        }
      });
      await waitFor(
        async () => {
          const { rows } = await sql<{ trades: string; allocations: string }>`
            select (select count(*) from trade where id = ${committed}) as trades,
                   (select count(*) from allocation where trade_id = ${committed}) as allocations`.execute(secondary());
          observations.push({ trades: Number(rows[0]!.trades), allocations: Number(rows[0]!.allocations) });
          return observations.at(-1)!.trades === 1;
        },
        { intervalMs: 2, what: 'the committed transaction on the secondary' },
      );

      // Assess
      expect(observations.every((seen) => seen.allocations === seen.trades * 3)).toBe(true);
      expect(await tradeOn(secondary(), rolledBack)).toBeUndefined();
      expect(await tradeOn(writer(), rolledBack)).toBeUndefined();
    });

    it('orders the log by commit, so a long transaction that commits after a shorter one is not skipped', async () => {
      // Prepare
      const [longRunning, quick] = [nextTradeId(), nextTradeId()];
      let quickStarted!: () => void;
      const quickMayStart = new Promise<void>((resolve) => (quickStarted = resolve));

      // Act
      const first = writer().transaction().execute(async (trx) => {
        await trx.insertInto('trade').values({ id: longRunning, status: 'NEW', quantity: '1' }).execute();
        quickStarted();
        await delay(LAG_MS * 2);
      });
      await quickMayStart;
      const second = writer().insertInto('trade').values({ id: quick, status: 'NEW', quantity: '1' }).execute();
      await Promise.all([first, second]);

      // Assess
      await waitFor(async () => (await tradeOn(secondary(), quick)) !== undefined, { what: 'the quick transaction' });
      await waitFor(caughtUp, { what: 'replication to catch up' });
      expect(await tradeOn(secondary(), longRunning)).toBeDefined();
    });

    it('replicates updates and deletes, including a primary-key change and a foreign-key cascade', async () => {
      // Prepare
      const [kept, renamed, removed] = [nextTradeId(), nextTradeId(), nextTradeId()];
      await writer().insertInto('trade').values([kept, renamed, removed].map((id) => ({ id, status: 'NEW', quantity: '1' }))).execute();
      await writer().insertInto('allocation').values({ trade_id: removed, allocation_id: 1, quantity: '1' }).execute();

      // Act
      await writer().updateTable('trade').set({ status: 'SETTLED', quantity: '2.5' }).where('id', '=', kept).execute();
      await writer().updateTable('trade').set({ id: `${renamed}-R` }).where('id', '=', renamed).execute();
      await writer().deleteFrom('trade').where('id', '=', removed).execute();
      await waitFor(caughtUp, { what: 'replication to catch up' });

      // Assess
      const ids = [kept, renamed, `${renamed}-R`, removed];
      const snapshot = async (db: Kysely<MatchingTables>) => ({
        trades: await db.selectFrom('trade').selectAll().where('id', 'in', ids).orderBy('id').execute(),
        allocations: await db.selectFrom('allocation').selectAll().where('trade_id', 'in', ids).execute(),
      });
      const onSecondary = await snapshot(secondary());
      expect(onSecondary).toEqual(await snapshot(writer()));
      expect(onSecondary.trades.map((trade) => trade.id)).toEqual([kept, `${renamed}-R`]);
      expect(onSecondary.trades[0]).toEqual({ id: kept, status: 'SETTLED', quantity: '2.5' });
      expect(onSecondary.allocations).toEqual([]);
    });

    it('rejects writes on the secondary with the read-only error an Aurora reader returns (SQLSTATE 25006)', async () => {
      // Prepare
      const id = nextTradeId();
      await writer().insertInto('trade').values({ id, status: 'NEW', quantity: '1' }).execute();
      await waitFor(async () => (await tradeOn(secondary(), id)) !== undefined, { what: 'the trade on the secondary' });

      // Act
      const insert = await readOnlyError(secondary().insertInto('trade').values({ id: nextTradeId(), status: 'NEW', quantity: '1' }).execute());
      const update = await readOnlyError(secondary().updateTable('trade').set({ status: 'HACKED' }).where('id', '=', id).execute());
      const remove = await readOnlyError(secondary().deleteFrom('trade').where('id', '=', id).execute());

      // Assess
      expect(insert).toEqual({ message: 'cannot execute INSERT in a read-only transaction', code: '25006' });
      expect(update.message).toBe('cannot execute UPDATE in a read-only transaction');
      expect(remove.message).toBe('cannot execute DELETE in a read-only transaction');
      expect(await tradeOn(secondary(), id)).toEqual({ id, status: 'NEW', quantity: '1' });
    });

    it('measures AuroraGlobalDBRPOLag: it grows while shipping is paused and returns to 0 after resume', async () => {
      // Prepare
      await waitFor(caughtUp, { what: 'replication to catch up' });
      const id = nextTradeId();

      // Act
      global.pause();
      await writer().insertInto('trade').values({ id, status: 'NEW', quantity: '1' }).execute();
      await delay(LAG_MS * 2);
      const lagWhilePaused = await global.rpoLagMs();
      const [statusWhilePaused] = await global.replicationStatus();
      const missingWhilePaused = await tradeOn(secondary(), id);
      global.resume();
      await waitFor(caughtUp, { what: 'the lag to return to 0' });

      // Assess
      expect(lagWhilePaused).toBeGreaterThanOrEqual(LAG_MS * 2 - 50);
      expect(statusWhilePaused).toMatchObject({ region: secondaryRegion(), backlog: 1, paused: true });
      expect(missingWhilePaused).toBeUndefined();
      expect(await tradeOn(secondary(), id)).toBeDefined();
      expect(await global.replicationStatus()).toEqual([expect.objectContaining({ lagMs: 0, backlog: 0, paused: false })]);
    });

    it('abandons a switchover that cannot catch up in time and keeps the roles (managed switchover is bounded)', async () => {
      // Prepare
      const writerBefore = global.writerRegion;
      global.pause();
      await writer().insertInto('trade').values({ id: nextTradeId(), status: 'NEW', quantity: '1' }).execute();

      // Act
      const attempt = global.switchover(secondaryRegion(), { timeoutMs: 300 });

      // Assess
      await expect(attempt).rejects.toThrow(SwitchoverTimeoutError);
      await expect(attempt).rejects.toThrow(/replication is paused/);
      expect(global.writerRegion).toBe(writerBefore);
      await writer().insertInto('trade').values({ id: nextTradeId(), status: 'NEW', quantity: '1' }).execute();
      global.resume();
      await waitFor(caughtUp, { what: 'replication to catch up' });
    });

    it('switches over without losing a write committed under concurrent load, and swaps the roles', async () => {
      // Prepare
      const oldWriter = global.writerRegion;
      const newWriter = secondaryRegion();
      const acknowledged: string[] = [];
      let rejectedAsReadOnly = 0;
      let stop = false;
      // Several writers at once, as matching's concurrent invocations are; each retries a read-only rejection.
      const writeUntilStopped = async (): Promise<void> => {
        while (!stop) {
          const id = nextTradeId();
          try {
            await global.connection<MatchingTables>(global.writerRegion).insertInto('trade').values({ id, status: 'NEW', quantity: '1' }).execute();
            acknowledged.push(id);
          } catch (error) {
            if ((error as { code?: unknown }).code !== '25006') throw error;
            rejectedAsReadOnly += 1;
          }
          await delay(2);
        }
      };
      const load = Promise.all([writeUntilStopped(), writeUntilStopped(), writeUntilStopped()]);
      await delay(150);

      // Act
      await global.switchover(newWriter);
      await delay(150);
      stop = true;
      await load;

      // Assess
      expect(global.writerRegion).toBe(newWriter);
      expect(global.secondaryRegions).toEqual([oldWriter]);
      const onNewWriter = await writer().selectFrom('trade').select('id').where('id', 'in', acknowledged).execute();
      expect(onNewWriter.length).toBe(acknowledged.length);
      await waitFor(caughtUp, { what: 'the old writer to catch up as a secondary' });
      const onOldWriter = await secondary().selectFrom('trade').select('id').where('id', 'in', acknowledged).execute();
      expect(onOldWriter.length).toBe(acknowledged.length);
      expect(acknowledged.length).toBeGreaterThan(10);
      expect(rejectedAsReadOnly, 'writes during the switchover fail as read-only instead of being lost').toBeGreaterThan(0);
      const afterSwitch = nextTradeId();
      await writer().insertInto('trade').values({ id: afterSwitch, status: 'NEW', quantity: '1' }).execute();
      expect((await readOnlyError(secondary().insertInto('trade').values({ id: nextTradeId(), status: 'NEW', quantity: '1' }).execute())).code).toBe('25006');
      await waitFor(async () => (await tradeOn(secondary(), afterSwitch)) !== undefined, { what: 'a new-writer write on the old writer' });
    });

    it("fails over after the writer's region is lost, losing exactly the unreplicated tail, and reports it on failback", async () => {
      // Prepare
      await enableReplication(writer(), REPLICATED_TABLES); // idempotent: a second install must not capture twice
      await waitFor(caughtUp, { what: 'replication to catch up' });
      const oldWriter = global.writerRegion;
      const survivor = secondaryRegion();
      const [updated, lostTrade] = [nextTradeId(), nextTradeId()];
      await writer().insertInto('trade').values({ id: updated, status: 'NEW', quantity: '1' }).execute();
      await waitFor(async () => (await tradeOn(secondary(), updated)) !== undefined, { what: 'the trade on the secondary' });
      global.pause();
      await writer().transaction().execute(async (trx) => {
        await trx.insertInto('trade').values({ id: lostTrade, status: 'MATCHED', quantity: '1234567890123456789.25' }).execute();
        await trx.insertInto('allocation').values({ trade_id: lostTrade, allocation_id: 1, quantity: '7' }).execute();
      });
      await writer().updateTable('trade').set({ status: 'SETTLED' }).where('id', '=', updated).execute();

      // Act
      await global.simulateRegionLoss(oldWriter);
      const { promotionLsn } = await global.failover(survivor);
      const afterFailover = nextTradeId();
      await writer().insertInto('trade').values({ id: afterFailover, status: 'NEW', quantity: '1' }).execute();
      global.resume();
      const tail = await global.reattach(oldWriter);

      // Assess
      expect(global.writerRegion).toBe(survivor);
      expect(await tradeOn(writer(), lostTrade)).toBeUndefined();
      expect(await tradeOn(writer(), updated)).toMatchObject({ status: 'NEW' });
      const expectedTail = [
        { table: 'public.trade', op: 'INSERT', primaryKey: { id: lostTrade }, row: { id: lostTrade, status: 'MATCHED', quantity: '1234567890123456789.25' } },
        { table: 'public.allocation', op: 'INSERT', primaryKey: { trade_id: lostTrade, allocation_id: 1 }, row: { trade_id: lostTrade, allocation_id: 1, quantity: 7 } },
        { table: 'public.trade', op: 'UPDATE', primaryKey: { id: updated }, row: { id: updated, status: 'SETTLED', quantity: 1 } },
      ];
      expect(tail?.changes).toMatchObject(expectedTail);
      expect(tail?.changes).toHaveLength(3);
      expect(tail?.changes.every((change) => change.lsn > promotionLsn)).toBe(true);
      expect(tail?.changes[0]!.txid).toBe(tail?.changes[1]!.txid);
      expect(global.unreplicatedTail()).toEqual(tail?.changes);
      expect(global.secondaryRegions).toEqual([oldWriter]);
      await waitFor(async () => (await tradeOn(secondary(), afterFailover)) !== undefined, { what: 'the rebuilt old writer to follow the new writer' });
      expect(await tradeOn(secondary(), lostTrade)).toBeUndefined();
      expect(await tradeOn(secondary(), updated)).toMatchObject({ status: 'NEW' });
      expect((await readOnlyError(secondary().deleteFrom('trade').execute())).code).toBe('25006');
    });

    it('keeps the roles and the failback report across a restart of the global database', async () => {
      // Prepare
      const writerBefore = global.writerRegion;
      const generationBefore = global.generation;
      const tailBefore = global.unreplicatedTail();
      await global.close();

      // Act
      global = new AuroraGlobalDatabase({ ...options, writer: EAST === writerBefore ? WEST : EAST });
      await global.start();

      // Assess
      expect(global.writerRegion).toBe(writerBefore);
      expect(global.generation).toBe(generationBefore);
      expect(global.unreplicatedTail()).toEqual(tailBefore);
      const id = nextTradeId();
      await writer().insertInto('trade').values({ id, status: 'NEW', quantity: '1' }).execute();
      await waitFor(async () => (await tradeOn(secondary(), id)) !== undefined, { what: 'replication after the restart' });
      expect((await readOnlyError(secondary().insertInto('trade').values({ id: nextTradeId(), status: 'NEW', quantity: '1' }).execute())).code).toBe('25006');
    });
  });
}
