import { GetCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GlobalTables, type GlobalTablesOptions } from '#local/global/dynamo-replication/global-tables.ts';
import {
  createTable,
  handlerClients,
  removeRoot,
  startRegionDynalite,
  temporaryRoot,
  type RegionDynalite,
} from '#tests/support/dynamo-global-regions.ts';
import { waitFor } from '#tests/support/wait.ts';

export const EAST = 'us-east-1';
export const WEST = 'us-west-2';
/** A safe store: async (MREC) replication, `pk` + `sk`. */
export const ASYNC_TABLE = 'rotor-tm-ingestion-store';
/** A zero-RPO table: sync (MRSC) replication, `pk` only. */
export const SYNC_TABLE = 'rotor-ledger-postings';

export interface TwinRegion {
  readonly name: string;
  readonly dynalite: RegionDynalite;
  /** Handler-side clients through the replicating endpoint. */
  readonly client: DynamoDBClient;
  readonly documents: DynamoDBDocumentClient;
}

export interface TwoRegionTwin {
  readonly globalTables: GlobalTables;
  readonly east: TwinRegion;
  readonly west: TwinRegion;
  /** Reads an item of a region with a strongly consistent read, through its endpoint. */
  item(region: TwinRegion, table: string, key: Record<string, string>): Promise<Record<string, unknown> | undefined>;
  /** Waits until every link has shipped everything. */
  drained(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTwoRegionTwin(
  settings: Partial<Pick<GlobalTablesOptions, 'lagMs' | 'syncTimeoutMs'>> & { clientMaxAttempts?: number } = {},
): Promise<TwoRegionTwin> {
  const rootDir = await temporaryRoot();
  const dynalites = [await startRegionDynalite(EAST, rootDir), await startRegionDynalite(WEST, rootDir)];
  for (const { url } of dynalites) {
    await createTable(url, ASYNC_TABLE, { rangeKey: true });
    await createTable(url, SYNC_TABLE);
  }
  const globalTables = await GlobalTables.start({
    regions: dynalites.map(({ region, url, dataDir }) => ({ region, upstreamUrl: url, dataDir })),
    tables: [
      { name: ASYNC_TABLE, mode: 'async' },
      { name: SYNC_TABLE, mode: 'sync' },
    ],
    ...settings,
  });
  const [eastDynalite, westDynalite] = dynalites as [RegionDynalite, RegionDynalite];
  const region = (dynalite: RegionDynalite): TwinRegion => ({
    name: dynalite.region,
    dynalite,
    ...handlerClients(dynalite.region, globalTables.endpointUrl(dynalite.region), { maxAttempts: settings.clientMaxAttempts }),
  });
  const east = region(eastDynalite);
  const west = region(westDynalite);
  return {
    globalTables,
    east,
    west,
    async item(twinRegion, table, key) {
      const { Item } = await twinRegion.documents.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }));
      return Item;
    },
    drained: (timeoutMs = 5_000) =>
      waitFor(() => globalTables.metrics().links.every((link) => link.backlog === 0), { timeoutMs, what: 'every link to drain' }),
    async close() {
      east.client.destroy();
      west.client.destroy();
      await globalTables.close();
      for (const dynalite of dynalites) await dynalite.close();
      await removeRoot(rootDir);
    },
  };
}
