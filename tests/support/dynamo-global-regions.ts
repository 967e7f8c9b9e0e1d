import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

/** A region's dynalite on its own LevelDB directory, as the twin runs it. */
export interface RegionDynalite {
  readonly region: string;
  readonly url: string;
  readonly dataDir: string;
  close(): Promise<void>;
}

export async function startRegionDynalite(region: string, rootDir: string): Promise<RegionDynalite> {
  const dataDir = join(rootDir, region);
  const storeDir = join(dataDir, 'dynalite');
  await mkdir(storeDir, { recursive: true });
  const server: Server = dynalite({ path: storeDir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    region,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    close: () =>
      new Promise<void>((resolve) => {
        const dropConnections = setInterval(() => server.closeAllConnections(), 50);
        server.closeAllConnections();
        server.close(() => {
          clearInterval(dropConnections);
          resolve();
        });
      }),
  };
}

export function temporaryRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'rotor-global-tables-'));
}

export function removeRoot(rootDir: string): Promise<void> {
  return rm(rootDir, { recursive: true, force: true });
}

/** The plain SDK clients a Rotor handler builds, pointed at `endpoint`. */
export function handlerClients(region: string, endpoint: string, { maxAttempts }: { maxAttempts?: number } = {}) {
  const client = new DynamoDBClient({
    region,
    endpoint,
    credentials: { accessKeyId: 'rotor-test', secretAccessKey: 'rotor-test' },
    ...(maxAttempts === undefined ? {} : { maxAttempts }),
  });
  return { client, documents: DynamoDBDocumentClient.from(client) };
}

/** Creates the table with a `pk` hash key (and optional `sk` range key) directly on a region's dynalite. */
export async function createTable(upstreamUrl: string, name: string, { rangeKey = false } = {}): Promise<void> {
  const { client } = handlerClients('us-east-1', upstreamUrl);
  try {
    await client.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, ...(rangeKey ? [{ AttributeName: 'sk', AttributeType: 'S' as const }] : [])],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, ...(rangeKey ? [{ AttributeName: 'sk', KeyType: 'RANGE' as const }] : [])],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } finally {
    client.destroy();
  }
}
