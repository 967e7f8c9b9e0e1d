import type { DatabaseConfig } from '#shared/adapters/postgres/database.ts';
import { createThrowawayDatabases } from '#tests/support/throwaway-postgres.ts';

/**
 * Creates one fresh database per region in the server behind `url` (two databases in one server stand for two
 * regions' Aurora clusters), and drops them again.
 */
export async function createRegionDatabases(
  url: string,
  regions: readonly string[],
): Promise<{ configs: Record<string, DatabaseConfig>; drop: () => Promise<void> }> {
  const { configs, drop } = await createThrowawayDatabases(url, regions, { prefix: 'rotor_aurora' });
  return { configs: Object.fromEntries(regions.map((region, index) => [region, configs[index]!])), drop };
}
