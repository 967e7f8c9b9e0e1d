import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
import { GlobalTables } from '#local/global/dynamo-replication/global-tables.ts';
import {
  createTable,
  handlerClients,
  removeRoot,
  startRegionDynalite,
  temporaryRoot,
  type RegionDynalite,
} from '#tests/support/dynamo-global-regions.ts';
import { waitFor } from '#tests/support/wait.ts';

const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD_SCRIPT = 'tests/support/dynamo-global-endpoint-child.ts';
const TABLE = 'rotor-tm-ingestion-store';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function startEndpointProcess(region: RegionDynalite): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD_SCRIPT], {
    cwd: REPOSITORY_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      REGION: region.region,
      UPSTREAM_URL: region.url,
      DATA_DIR: join(region.dataDir, 'dynamo-replication'),
      TABLES: JSON.stringify([{ name: TABLE, mode: 'async' }]),
    },
  });
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line) resolve({ child, url: (JSON.parse(line) as { url: string }).url });
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`endpoint process exited (${code}) before serving: ${output}`)));
  });
}

describe('DynamoDB global tables, durability of acknowledged writes', () => {
  it('ships every acknowledged write after the endpoint process is killed with SIGKILL before replicating anything', async () => {
    // Prepare
    const rootDir = await temporaryRoot();
    cleanups.push(() => removeRoot(rootDir));
    const east = await startRegionDynalite('us-east-1', rootDir);
    const west = await startRegionDynalite('us-west-2', rootDir);
    cleanups.push(() => east.close(), () => west.close());
    for (const { url } of [east, west]) await createTable(url, TABLE, { rangeKey: true });
    const { child, url } = await startEndpointProcess(east);
    const { documents, client } = handlerClients('us-east-1', url);
    cleanups.push(async () => client.destroy());

    // Act: acknowledged writes, then the process dies with no chance to flush or ship
    for (let trade = 1; trade <= 20; trade++) {
      await documents.send(new PutCommand({ TableName: TABLE, Item: { pk: `TRADE#${trade}`, sk: 'LEG#A' } }));
    }
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const globalTables = await GlobalTables.start({
      regions: [east, west].map(({ region, url: upstreamUrl, dataDir }) => ({ region, upstreamUrl, dataDir })),
      tables: [{ name: TABLE, mode: 'async' }],
      lagMs: 20,
    });
    cleanups.push(() => globalTables.close());
    await waitFor(() => globalTables.metrics().links.every((link) => link.backlog === 0 && link.state === 'running'), { what: 'the log to ship' });

    // Assess
    const westHandler = handlerClients('us-west-2', globalTables.endpointUrl('us-west-2'));
    cleanups.push(async () => westHandler.client.destroy());
    for (let trade = 1; trade <= 20; trade++) {
      const { Item } = await westHandler.documents.send(new GetCommand({ TableName: TABLE, Key: { pk: `TRADE#${trade}`, sk: 'LEG#A' } }));
      expect(Item).toEqual({ pk: `TRADE#${trade}`, sk: 'LEG#A' });
    }
    expect(globalTables.link('us-east-1', 'us-west-2').metrics().shipped).toBe(20);
  });
});
