import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable } from '#local/region/provisioning.ts';
import { startDynamoDbEmulator, type RunningEmulator } from '#local/region/emulators.ts';

/** A region's DynamoDB emulator on a scratch directory, with tables keyed like Rotor's safe stores. */

export const TEST_CREDENTIALS = { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' };

export interface DynaliteHarness {
  readonly emulator: RunningEmulator;
  /** A client that makes one request per call, so a test sees each failure as the service gave it. */
  client(endpoint?: string): DynamoDBClient;
  /** A safe-store table (hash key `id`). */
  createTable(name: string): Promise<void>;
  close(): Promise<void>;
}

export async function startDynalite(): Promise<DynaliteHarness> {
  const directory = await mkdtemp(path.join(tmpdir(), 'rotor-dynalite-'));
  const emulator = await startDynamoDbEmulator({ path: directory });
  const clients: DynamoDBClient[] = [];
  const client = (endpoint = emulator.endpoint) => {
    const created = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: TEST_CREDENTIALS, maxAttempts: 1 });
    clients.push(created);
    return created;
  };
  const admin = client();
  return {
    emulator,
    client,
    async createTable(name) {
      await ensureTable(admin, { name, purpose: 'safe-store', hashKey: 'id', replication: 'async', pointInTimeRecovery: true });
    },
    async close() {
      for (const created of clients.splice(0)) created.destroy();
      await emulator.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
