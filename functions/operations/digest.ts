import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Kysely } from 'kysely';
import { openDatabaseFromConnectionString } from '#shared/adapters/postgres/database-registry.ts';
import { functionRegion, resourceNamesFromEnv } from '#shared/operations/app-resources.ts';
import { digestApp, DigestRequest, type AppDigest } from '#shared/operations/digest.ts';
import { topology } from '#shared/topology/index.ts';

/**
 * `ops-digest`: `{app, runId}` → `{app, region, digest, tables: {<table>: {items, digest}}, databases: {<db>: {rows,
 * digest}}}`, a content digest of the app's safe stores and database in this region, equal in two regions that hold
 * the same data. See shared/operations/digest.ts.
 */

const logger = new Logger({ serviceName: 'ops-digest', logLevel: (process.env.POWERTOOLS_LOG_LEVEL as 'INFO' | undefined) ?? 'INFO' });
const names = resourceNamesFromEnv();
const opened = new Map<string, Promise<Kysely<any>>>();
const deps = {
  topology,
  names,
  region: functionRegion(),
  dynamodb: new DynamoDBClient({}),
  // Opened on first use and kept: a database fails to open only when it is unreachable, and then the task retries.
  database: (database: string) => {
    let db = opened.get(database);
    if (!db) {
      db = openDatabaseFromConnectionString<any>(names('database', database)).then((open) => open.db);
      db.catch(() => opened.delete(database));
      opened.set(database, db);
    }
    return db;
  },
};

export const handler = async (event: unknown): Promise<AppDigest> => {
  const request = DigestRequest.parse(event);
  const result = await digestApp(request, deps);
  logger.info('digest taken', { runId: request.runId, ...result });
  return result;
};
