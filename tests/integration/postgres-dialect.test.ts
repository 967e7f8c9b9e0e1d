import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  DatabaseConfigError,
  DatabaseUnavailableError,
  openDatabase,
  type DatabaseConfig,
  type OpenedDatabase,
} from '#shared/adapters/postgres/database.ts';

interface TestTables {
  leg: { id: string; note: string };
  counter: { name: string; value: number };
}

const postgresUrl = process.env.ROTOR_TEST_POSTGRES_URL;

const backends: Array<{ title: string; config: DatabaseConfig | undefined }> = [
  { title: 'PGlite in memory', config: { backend: 'pglite' } },
  {
    title: postgresUrl
      ? 'PostgreSQL at ROTOR_TEST_POSTGRES_URL'
      : 'PostgreSQL (skipped: set ROTOR_TEST_POSTGRES_URL, e.g. from .ci/postgres.sh)',
    config: postgresUrl ? { backend: 'postgres', url: postgresUrl } : undefined,
  },
];

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => (resolve = settle));
  return { promise, resolve };
}

class IntentionalRollback extends Error {
  override readonly name = 'IntentionalRollback';
}

for (const { title, config } of backends) {
  describe.skipIf(config === undefined)(`relational store on ${title}`, () => {
    let opened: OpenedDatabase<TestTables>;
    let db: Kysely<TestTables>;
    // Other suites may share the PostgreSQL database, so every run works in a schema of its own.
    const schema = `dialect_test_${process.pid}_${Date.now()}`;

    beforeAll(async () => {
      opened = await openDatabase<TestTables>(config!);
      await opened.db.schema.createSchema(schema).execute();
      db = opened.db.withSchema(schema);
      await db.schema.createTable('leg').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('note', 'text', (c) => c.notNull()).execute();
      await db.schema.createTable('counter').addColumn('name', 'text', (c) => c.primaryKey()).addColumn('value', 'integer', (c) => c.notNull()).execute();
    });

    afterAll(async () => {
      if (!opened) return;
      await opened.db.schema.dropSchema(schema).cascade().execute();
      await opened.close();
    });

    beforeEach(async () => {
      await db.deleteFrom('leg').execute();
      await db.deleteFrom('counter').execute();
    });

    it('persists the rows of a committed transaction', async () => {
      // Prepare
      const legs = [
        { id: 'QAINS012-QAINS012-QABRO010-1', note: 'im leg' },
        { id: 'QABRO010-QAINS012-QABRO010-1', note: 'broker leg' },
      ];

      // Act
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('leg').values(legs).execute();
      });

      // Assess
      const stored = await db.selectFrom('leg').selectAll().orderBy('id').execute();
      expect(stored).toEqual([...legs].sort((a, b) => a.id.localeCompare(b.id)));
    });

    it('discards a rolled-back transaction even while another transaction commits meanwhile', async () => {
      // Prepare
      const rolledBackHasInserted = deferred();

      // Act
      const rolledBack = db.transaction().execute(async (trx) => {
        await trx.insertInto('leg').values({ id: 'rolled-back', note: 'must vanish' }).execute();
        rolledBackHasInserted.resolve();
        // Leaves room for the other transaction to run in between, which a shared, unlocked session would allow.
        await delay(50);
        throw new IntentionalRollback('abandon this transaction');
      });
      await rolledBackHasInserted.promise;
      const committed = db.transaction().execute(async (trx) => {
        await trx.insertInto('leg').values({ id: 'committed', note: 'must stay' }).execute();
      });
      const [rolledBackOutcome, committedOutcome] = await Promise.allSettled([rolledBack, committed]);

      // Assess
      expect(rolledBackOutcome.status).toBe('rejected');
      expect((rolledBackOutcome as PromiseRejectedResult).reason).toBeInstanceOf(IntentionalRollback);
      expect(committedOutcome.status).toBe('fulfilled');
      const ids = (await db.selectFrom('leg').select('id').execute()).map((row) => row.id);
      expect(ids).toEqual(['committed']);
    });

    it('never loses an update when read-modify-write transactions on one row run concurrently', async () => {
      // Prepare
      const increments = 8;
      await db.insertInto('counter').values({ name: 'matched', value: 0 }).execute();

      // Act
      await Promise.all(
        Array.from({ length: increments }, () =>
          db.transaction().execute(async (trx) => {
            const { value } = await trx.selectFrom('counter').select('value').where('name', '=', 'matched').forUpdate().executeTakeFirstOrThrow();
            await delay(5);
            await trx.updateTable('counter').set({ value: value + 1 }).where('name', '=', 'matched').execute();
          }),
        ),
      );

      // Assess
      const { value } = await db.selectFrom('counter').select('value').where('name', '=', 'matched').executeTakeFirstOrThrow();
      expect(value).toBe(increments);
    });

    it('reports 0 affected rows when ON CONFLICT DO NOTHING skips a duplicate', async () => {
      // Prepare
      const leg = { id: 'QAINS012-QAINS012-QABRO010-7', note: 'first' };

      // Act
      const first = await db.insertInto('leg').values(leg).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
      const duplicate = await db.insertInto('leg').values({ ...leg, note: 'second' }).onConflict((oc) => oc.column('id').doNothing()).executeTakeFirst();
      const updated = await db.updateTable('leg').set({ note: 'updated' }).where('id', '=', leg.id).executeTakeFirst();
      const deleted = await db.deleteFrom('leg').where('id', '=', 'no-such-leg').executeTakeFirst();

      // Assess
      expect(first.numInsertedOrUpdatedRows).toBe(1n);
      expect(duplicate.numInsertedOrUpdatedRows).toBe(0n);
      expect(updated.numUpdatedRows).toBe(1n);
      expect(deleted.numDeletedRows).toBe(0n);
    });

    it('keeps the connection usable after a statement fails inside a transaction', async () => {
      // Prepare
      await db.insertInto('leg').values({ id: 'existing', note: 'x' }).execute();

      // Act
      const failing = db.transaction().execute(async (trx) => {
        await trx.insertInto('leg').values({ id: 'existing', note: 'duplicate key' }).execute();
      });
      await expect(failing).rejects.toThrow(/duplicate key|unique/i);
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('leg').values({ id: 'after-failure', note: 'y' }).execute();
      });

      // Assess
      const ids = (await db.selectFrom('leg').select('id').orderBy('id').execute()).map((row) => row.id);
      expect(ids).toEqual(['after-failure', 'existing']);
    });

    it('returns int8, numeric and date values as exact strings, the same on every backend', async () => {
      // Act
      const row = await sql<{ big: unknown; amount: unknown; day: unknown; at: unknown }>`
        select 9007199254740993::int8 as big, 12.50::numeric as amount, '2026-11-23'::date as day, now() as at`.execute(db);

      // Assess
      expect(row.rows[0]).toEqual({ big: '9007199254740993', amount: '12.50', day: '2026-11-23', at: expect.any(Date) });
    });
  });
}

describe('PGlite on disk', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'rotor-pglite-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps committed rows across close and reopen, and refuses queries once closed', async () => {
    // Prepare
    const first = await openDatabase<TestTables>({ backend: 'pglite', dataDir });
    await first.db.schema.createTable('leg').addColumn('id', 'text', (c) => c.primaryKey()).addColumn('note', 'text').execute();
    await first.db.insertInto('leg').values({ id: 'survivor', note: 'written before close' }).execute();

    // Act
    await first.close();
    const queryAfterClose = first.db.selectFrom('leg').selectAll().execute();
    await expect(queryAfterClose).rejects.toThrow(/destroyed/);
    const reopened = await openDatabase<TestTables>({ backend: 'pglite', dataDir });
    try {
      const stored = await reopened.db.selectFrom('leg').selectAll().execute();

      // Assess
      expect(stored).toEqual([{ id: 'survivor', note: 'written before close' }]);
      expect(reopened.location).toBe(dataDir);
    } finally {
      await reopened.close();
    }
  });
});

describe('database configuration errors', () => {
  it.each([
    ['a non-PostgreSQL scheme', 'mysql://root@127.0.0.1/rotor', /postgres:\/\/ or postgresql:\/\//],
    ['text that is not a URL', 'not a url', /not a valid URL/],
    ['a URL without a database name', 'postgres://postgres:secret@127.0.0.1:5432', /names no database/],
  ])('rejects %s with DatabaseConfigError without leaking the password', async (_case, url, message) => {
    // Act
    const opening = openDatabase({ backend: 'postgres', url });

    // Assess
    await expect(opening).rejects.toBeInstanceOf(DatabaseConfigError);
    await expect(opening).rejects.toThrow(message);
    await expect(opening).rejects.not.toThrow(/secret/);
  });

  it('reports an unreachable server as DatabaseUnavailableError with the password redacted', async () => {
    // Act
    const opening = openDatabase({ backend: 'postgres', url: 'postgres://postgres:secret@127.0.0.1:1/rotor' });

    // Assess
    await expect(opening).rejects.toBeInstanceOf(DatabaseUnavailableError);
    await expect(opening).rejects.toThrow('postgres://postgres:***@127.0.0.1:1/rotor');
  });

  it('rejects a PGlite data directory that is an existing file', async () => {
    // Prepare
    const dir = await mkdtemp(join(tmpdir(), 'rotor-pglite-config-'));
    const file = join(dir, 'not-a-directory');
    await writeFile(file, 'x');

    // Act
    const opening = openDatabase({ backend: 'pglite', dataDir: file });

    // Assess
    await expect(opening).rejects.toBeInstanceOf(DatabaseConfigError);
    await rm(dir, { recursive: true, force: true });
  });
});
