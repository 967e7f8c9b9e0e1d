import { DescribeGlobalClustersCommand, RDSClient, type GlobalCluster } from '@aws-sdk/client-rds';
import { RdsGlobalClusterApi, type RdsGlobalClusterSource } from '#local/global/aurora/rds-api.ts';
import { startRdsApiServer, type RunningRdsApi } from '#local/global/aurora/rds-api-server.ts';
import { regionOfClusterArn } from '#shared/topology/global-database-names.ts';
import { waitFor } from '#tests/support/wait.ts';

/** The twin's RDS API over given global databases, and a plain `@aws-sdk/client-rds` client on it. */

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

export const TWIN_CREDENTIALS = { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' };

export interface RdsApiBench {
  readonly api: RdsGlobalClusterApi;
  readonly server: RunningRdsApi;
  /** Signs for `region`, as a function in that region would; the SDK's retries off so each call is one request. */
  client(region: string): RDSClient;
  close(): Promise<void>;
}

export async function startRdsApiBench(sources: readonly RdsGlobalClusterSource[]): Promise<RdsApiBench> {
  const api = new RdsGlobalClusterApi(sources);
  const server = await startRdsApiServer(api);
  const clients: RDSClient[] = [];
  return {
    api,
    server,
    client(region) {
      const client = new RDSClient({ endpoint: server.url, region, credentials: TWIN_CREDENTIALS, maxAttempts: 1 });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.destroy();
      await server.close();
      await api.settled();
    },
  };
}

export async function describeGlobalCluster(client: RDSClient, identifier: string): Promise<GlobalCluster> {
  const { GlobalClusters } = await client.send(new DescribeGlobalClustersCommand({ GlobalClusterIdentifier: identifier }));
  return GlobalClusters![0]!;
}

export const writerRegionOf = (cluster: GlobalCluster): string | undefined =>
  regionOfClusterArn(cluster.GlobalClusterMembers?.find((member) => member.IsWriter)?.DBClusterArn ?? '');

/** Polls DescribeGlobalClusters, as a caller of the asynchronous operations must, until `region` writes and the cluster is available. */
export async function awaitWriter(client: RDSClient, identifier: string, region: string, timeoutMs = 20_000): Promise<{ final: GlobalCluster; polls: GlobalCluster[] }> {
  const polls: GlobalCluster[] = [];
  await waitFor(
    async () => {
      const cluster = await describeGlobalCluster(client, identifier);
      polls.push(cluster);
      return writerRegionOf(cluster) === region && cluster.Status === 'available';
    },
    { timeoutMs, intervalMs: 25, what: `${region} to be the writer of ${identifier}, available` },
  );
  return { final: polls.at(-1)!, polls };
}

/** The error a call fails with: its name (the RDS fault code) and HTTP status; undefined when it succeeds. */
export async function faultOf(call: Promise<unknown>): Promise<{ name: string; status: number | undefined; message: string } | undefined> {
  return call.then(
    () => undefined,
    (error: Error & { $metadata?: { httpStatusCode?: number } }) => ({ name: error.name, status: error.$metadata?.httpStatusCode, message: error.message }),
  );
}
