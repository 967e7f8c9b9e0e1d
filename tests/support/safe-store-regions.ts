import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { GlobalTables } from '#local/global/dynamo-replication/global-tables.ts';
import { ensureTable } from '#local/region/provisioning.ts';
import { documentClient } from '#shared/adapters/dynamodb/dynamodb-safe-store.ts';
import { topology } from '#shared/topology/index.ts';
import { removeRoot, startRegionDynalite, temporaryRoot, type RegionDynalite } from '#tests/support/dynamo-global-regions.ts';
import { waitFor } from '#tests/support/wait.ts';

/**
 * Two regions of the twin's DynamoDB holding every safe store of the manifest as global tables (async, as the
 * manifest declares them), with handler-side clients through each region's replicating endpoint.
 */

export const EAST = 'us-east-1';
export const WEST = 'us-west-2';
const CREDENTIALS = { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' };

export interface SafeStoreRegion {
  readonly region: string;
  readonly dynamodb: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
}

export interface SafeStoreRegions {
  readonly globalTables: GlobalTables;
  readonly east: SafeStoreRegion;
  readonly west: SafeStoreRegion;
  /** Waits until every link has shipped everything. */
  replicated(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSafeStoreRegions({ lagMs = 20 }: { lagMs?: number } = {}): Promise<SafeStoreRegions> {
  const rootDir = await temporaryRoot();
  const dynalites: RegionDynalite[] = [await startRegionDynalite(EAST, rootDir), await startRegionDynalite(WEST, rootDir)];
  const safeStores = topology.tables.filter((table) => table.purpose === 'safe-store');
  const clients: DynamoDBClient[] = [];
  const client = (region: string, endpoint: string) => {
    const created = new DynamoDBClient({ region, endpoint, credentials: CREDENTIALS, maxAttempts: 2 });
    clients.push(created);
    return created;
  };
  for (const dynalite of dynalites) {
    const admin = client(dynalite.region, dynalite.url);
    for (const table of safeStores) await ensureTable(admin, table);
  }
  const globalTables = await GlobalTables.start({
    regions: dynalites.map(({ region, url, dataDir }) => ({ region, upstreamUrl: url, dataDir })),
    tables: safeStores.map((table) => ({ name: table.name, mode: 'async' as const })),
    lagMs,
  });
  const region = (name: string): SafeStoreRegion => {
    const dynamodb = client(name, globalTables.endpointUrl(name));
    return { region: name, dynamodb, documents: documentClient(dynamodb) };
  };
  return {
    globalTables,
    east: region(EAST),
    west: region(WEST),
    replicated: (timeoutMs = 10_000) =>
      waitFor(() => globalTables.metrics().links.every((link) => link.backlog === 0), { timeoutMs, what: 'every replication link to drain' }),
    async close() {
      for (const created of clients.splice(0)) created.destroy();
      await globalTables.close();
      for (const dynalite of dynalites) await dynalite.close();
      await removeRoot(rootDir);
    },
  };
}
