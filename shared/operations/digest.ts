import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { AppName, type Topology } from '#shared/topology/schema.ts';
import { appResources, type ResourceNames } from './app-resources.ts';
import { digestDatabase, type DatabaseDigest } from './database-digest.ts';
import { canonicalJson, digestTable, sha256, type TableDigest } from './table-digest.ts';

/**
 * A content digest of everything an app keeps in this region: each safe store (table-digest.ts) and its PostgreSQL
 * database (database-digest.ts). Two regions holding the same data, one by replication, give the same digest; the
 * rotation compares the old region's digest, taken once it is drained, with the new region's after the move.
 * Tables and databases are named as in the manifest, so the two regions' answers compare key by key.
 */

export const DigestRequest = z.strictObject({ app: AppName, runId: z.string().min(1).max(200) });
export type DigestRequest = z.infer<typeof DigestRequest>;

export interface AppDigest {
  readonly app: AppName;
  readonly region: string;
  readonly digest: string;
  readonly tables: Record<string, TableDigest>;
  readonly databases: Record<string, DatabaseDigest>;
}

export interface DigestDependencies {
  readonly topology: Pick<Topology, 'functions' | 'tables' | 'databases' | 'queues'>;
  readonly names: ResourceNames;
  readonly region: string;
  readonly dynamodb: DynamoDBClient;
  /** The open database of a manifest database name. */
  readonly database: (manifestName: string) => Promise<Kysely<any>>;
}

export async function digestApp(request: DigestRequest, deps: DigestDependencies): Promise<AppDigest> {
  const { safeStores, databases } = appResources(deps.topology, request.app);
  const [tableDigests, databaseDigests] = await Promise.all([
    Promise.all(safeStores.map(async (table) => [table, await digestTable(deps.dynamodb, deps.names('table', table))] as const)),
    Promise.all(databases.map(async (database) => [database, await digestDatabase(await deps.database(database), request.app)] as const)),
  ]);
  const tables = Object.fromEntries(tableDigests);
  const databaseResults = Object.fromEntries(databaseDigests);
  const digest = sha256(
    canonicalJson({
      tables: Object.fromEntries(tableDigests.map(([name, { digest: content }]) => [name, content])),
      databases: Object.fromEntries(databaseDigests.map(([name, { digest: content }]) => [name, content])),
    }),
  );
  return { app: request.app, region: deps.region, digest, tables, databases: databaseResults };
}
