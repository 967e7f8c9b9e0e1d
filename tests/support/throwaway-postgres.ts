import pg from 'pg';
import type { DatabaseConfig } from '#shared/adapters/postgres/database.ts';

/**
 * Fresh databases in the PostgreSQL server behind `url`, one per label, named uniquely per run so parallel runs and
 * other suites never meet, and a `drop` that removes them again.
 */
export async function createThrowawayDatabases(
  url: string,
  labels: readonly string[],
  options: { prefix: string; maxConnections?: number },
): Promise<{ configs: DatabaseConfig[]; drop: () => Promise<void> }> {
  const run = `${options.prefix}_${process.pid}_${Date.now().toString(36)}`;
  const names = labels.map((label) => `${run}_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`);
  await withAdminClient(url, async (client) => {
    for (const name of names) await client.query(`create database "${name}"`);
  });
  const configs = names.map((name): DatabaseConfig => {
    const databaseUrl = new URL(url);
    databaseUrl.pathname = `/${name}`;
    return { backend: 'postgres', url: databaseUrl.href, ...(options.maxConnections ? { maxConnections: options.maxConnections } : {}) };
  });
  const drop = () =>
    withAdminClient(url, async (client) => {
      for (const name of names) await client.query(`drop database if exists "${name}" with (force)`);
    });
  return { configs, drop };
}

async function withAdminClient(url: string, work: (client: pg.Client) => Promise<void>): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await work(client);
  } finally {
    await client.end();
  }
}
