// A region-process stand-in for crash tests: serves one replicating endpoint until it is killed, and prints its URL.
import { startReplicatingEndpoint } from '#local/global/dynamo-replication/replicating-endpoint.ts';
import type { ReplicatedTable } from '#local/global/dynamo-replication/item-change.ts';

const { REGION, UPSTREAM_URL, DATA_DIR, TABLES } = process.env;
if (!REGION || !UPSTREAM_URL || !DATA_DIR || !TABLES) throw new Error('REGION, UPSTREAM_URL, DATA_DIR and TABLES are required');

const endpoint = await startReplicatingEndpoint({
  region: REGION,
  upstreamUrl: UPSTREAM_URL,
  dataDir: DATA_DIR,
  tables: JSON.parse(TABLES) as ReplicatedTable[],
});
process.stdout.write(`${JSON.stringify({ url: endpoint.url })}\n`);
