import pg from 'pg';
import type { DatabaseConfig } from '#shared/adapters/postgres/database.ts';

/**
 * Creates one fresh database per region in the server behind `url` (two databases in one server stand for two
 * regions' Aurora clusters), and drops them again; names are unique per run so parallel runs never collide.
 */
export async function createRegionDatabases(
  url: string,
  regions: readonly string[],
): Promise<{ configs: Record<string, DatabaseConfig>; drop: () => Promise<void> }> {
  const run = `${process.pid}_${Date.now().toString(36)}`;
  const names = regions.map((region) => `rotor_aurora_${run}_${region.replace(/[^a-z0-9]/gi, '_').toLowerCase()}`);
  await withAdminClient(url, async (client) => {
    for (const name of names) await client.query(`create database "${name}"`);
  });
  const configs: Record<string, DatabaseConfig> = {};
  regions.forEach((region, index) => {
    const regionUrl = new URL(url);
    regionUrl.pathname = `/${names[index]}`;
    configs[region] = { backend: 'postgres', url: regionUrl.href };
  });
  const drop = (): Promise<void> =>
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
