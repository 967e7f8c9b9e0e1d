import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startTwin, type RunningTwin } from '#local/controller/controller.ts';
import { regionDatabaseName } from '#local/controller/postgres-databases.ts';
import { waitFor } from '#tests/support/wait.ts';

// `rotor up --postgres URL`: each region's copy of tm-db and sm-db is its own database in one real PostgreSQL
// server, and the Aurora global databases replicate between them as between PGlite copies. Needs
// ROTOR_TEST_POSTGRES_URL (e.g. from .ci/postgres.sh); skipped without it.

const postgresUrl = process.env.ROTOR_TEST_POSTGRES_URL;
const EAST = 'us-east-1';
const WEST = 'us-west-2';
const CODE_ROOT = path.join(import.meta.dirname, '../fixtures/twin-code');
const DATABASES = [EAST, WEST].flatMap((region) => ['tm-db', 'sm-db'].map((database) => regionDatabaseName(region, database)));

const scratch: string[] = [];
let twin: RunningTwin | undefined;

async function dataDir(): Promise<string> {
  const directory = await mkdtemp(path.join(tmpdir(), 'rotor-twin-postgres-'));
  scratch.push(directory);
  return directory;
}

async function query(region: string, sql: string, parameters: unknown[] = []): Promise<{ status: number; rows: Array<Record<string, unknown>> }> {
  const response = await fetch(`${twin!.region(region).report!.endpoints.aurora}/databases/tm-db/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sql, parameters }),
  });
  const body = (await response.json()) as { rows?: Array<Record<string, unknown>> };
  return { status: response.status, rows: body.rows ?? [] };
}

async function serverDatabases(): Promise<string[]> {
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ datname: string }>('select datname from pg_database where datname = any($1) order by datname', [DATABASES]);
    return rows.map((row) => row.datname);
  } finally {
    await client.end();
  }
}

afterAll(async () => {
  await twin?.stop();
  if (postgresUrl) {
    const client = new pg.Client({ connectionString: postgresUrl });
    await client.connect();
    for (const name of DATABASES) await client.query(`drop database if exists "${name}" with (force)`);
    await client.end();
  }
  await Promise.all(scratch.map((directory) => rm(directory, { recursive: true, force: true })));
}, 60_000);

describe.skipIf(!postgresUrl)('a twin on PostgreSQL (ROTOR_TEST_POSTGRES_URL)', () => {
  let directory: string;

  it('creates one database per region and manifest database, and replicates the writer’s changes to the other region', async () => {
    // Prepare
    directory = await dataDir();

    // Act
    twin = await startTwin({ dataDir: directory, postgresUrl: postgresUrl!, fresh: true, codeRoot: CODE_ROOT });
    const written = await query(EAST, `insert into outbox (aggregate_id, event_type, payload) values ('pg-probe', 'trade.MATCHED', '{}'::jsonb)`);
    await waitFor(async () => (await query(WEST, `select count(*) as n from outbox where aggregate_id = 'pg-probe'`)).rows[0]?.n === '1', {
      timeoutMs: 15_000,
      what: 'the outbox row in us-west-2',
    });
    const status = await twin.status();

    // Assess
    expect(written.status).toBe(200);
    expect(await serverDatabases()).toEqual([...DATABASES].sort());
    expect(status.regions.map((region) => region.databases['tm-db'])).toEqual([
      expect.stringContaining(`/${regionDatabaseName(EAST, 'tm-db')}`),
      expect.stringContaining(`/${regionDatabaseName(WEST, 'tm-db')}`),
    ]);
    expect(JSON.stringify(status.regions.map((region) => region.databases))).not.toContain(`:${new URL(postgresUrl!).password}@`);
    expect(status.components.aurora).toMatchObject({ 'tm-db': { writer: EAST, secondaries: [WEST] }, 'sm-db': { writer: EAST, secondaries: [WEST] } });
  }, 180_000);

  it('comes back on its databases after a stop, and a new twin refuses to take them over without --fresh', async () => {
    // Act
    await twin!.stop();
    const stranger = startTwin({ dataDir: await dataDir(), postgresUrl: postgresUrl!, codeRoot: CODE_ROOT });
    await expect(stranger).rejects.toThrow(/already has rotor_us_east_1_tm_db.*--fresh/s);
    twin = await startTwin({ dataDir: directory, postgresUrl: postgresUrl!, codeRoot: CODE_ROOT });
    const kept = await query(EAST, `select count(*) as n from outbox where aggregate_id = 'pg-probe'`);

    // Assess
    expect(kept.rows[0]?.n).toBe('1');
  }, 180_000);
});
