import { listen } from '#local/support/listen.ts';
import { createServer, type Server } from 'node:http';
import { DynaliteClient } from '#local/global/dynamo-replication/dynalite-client.ts';
import { PeerUnavailableError } from '#local/global/dynamo-replication/errors.ts';
import { itemId, keyOf, type AttributeMap, type ItemChange, type ReplicatedTable } from '#local/global/dynamo-replication/item-change.ts';
import {
  ReplicatedWrites,
  type AcceptedWrite,
  type ApplyResult,
  type CommitOutcome,
  type SyncReplicator,
} from '#local/global/dynamo-replication/replicated-writes.ts';
import { ReplicationLog } from '#local/global/dynamo-replication/replication-log.ts';
import { VERSIONS_TABLE, VersionStore } from '#local/global/dynamo-replication/version-store.ts';
import { handleBatchWrite } from '#local/global/dynamo-replication/batch-write.ts';
import { errorResponse, forward, jsonResponse, operationOf, readBody, type WireRequest, type WireResponse } from '#local/global/dynamo-replication/wire.ts';

export interface ReplicatingEndpointOptions {
  readonly region: string;
  /** The region's dynalite, e.g. `http://127.0.0.1:4567`. */
  readonly upstreamUrl: string;
  /** Where the replication log and link positions live; keep it with the region's other state. */
  readonly dataDir: string;
  readonly tables: readonly ReplicatedTable[];
  readonly host?: string;
  /** 0 (the default) picks a free port; pass the previous port to come back at the same URL after a restart. */
  readonly port?: number;
  /**
   * Chaos: asked for every request the region's clients make; true answers it as DynamoDB throttling does, before it
   * reaches dynalite (so the endpoint's own reads and the replication links are never throttled).
   */
  readonly throttles?: (region: string, operation: string) => boolean;
}

/**
 * The region's DynamoDB endpoint as handlers see it: a proxy in front of dynalite that forwards every call
 * unchanged and turns writes to replicated tables into global-table writes (see ReplicatedWrites).
 */
export interface ReplicatingEndpoint {
  readonly region: string;
  /** What handlers use as their DynamoDB endpoint. */
  readonly url: string;
  readonly port: number;
  readonly log: ReplicationLog;
  setSyncReplicator(replicator: SyncReplicator | undefined): void;
  applyReplicated(changes: readonly ItemChange[], options?: { synchronous?: boolean }): Promise<ApplyResult>;
  metrics(): ReturnType<ReplicatedWrites['metrics']>;
  /** Stops serving, lets calls in progress finish, and closes the log. */
  close(): Promise<void>;
}

export async function startReplicatingEndpoint(options: ReplicatingEndpointOptions): Promise<ReplicatingEndpoint> {
  const { region, upstreamUrl, dataDir, host = '127.0.0.1', port = 0 } = options;
  const client = new DynaliteClient(upstreamUrl);
  const versions = new VersionStore(client);
  await versions.ensureTable();
  const log = await ReplicationLog.open(dataDir);
  const writes = new ReplicatedWrites(region, new Map(options.tables.map((table) => [table.name, table])), client, versions, log);
  await writes.replayLog();

  const inFlight = new Set<Promise<unknown>>();
  const server = createServer((incoming, outgoing) => {
    const served = (async () => {
      let response: WireResponse;
      try {
        const wire: WireRequest = { method: incoming.method ?? 'POST', path: incoming.url ?? '/', headers: incoming.headers, body: await readBody(incoming) };
        const throttled = options.throttles?.(region, operationOf(incoming.headers) ?? 'unknown') ?? false;
        response = throttled
          ? errorResponse(400, 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', 'The level of configured provisioned throughput for the table was exceeded (chaos)')
          : await route(writes, upstreamUrl, wire);
      } catch (error) {
        response = errorResponse(500, 'InternalServerError', `replicating endpoint ${region}: ${(error as Error).message}`);
      }
      outgoing.writeHead(response.status, response.headers);
      outgoing.end(response.body);
    })();
    inFlight.add(served);
    void served.finally(() => inFlight.delete(served));
  });
  const boundPort = await listen(server, host, port);
  let closing: Promise<void> | undefined;
  return {
    region,
    url: `http://${host}:${boundPort}`,
    port: boundPort,
    log,
    setSyncReplicator: (replicator) => writes.setSyncReplicator(replicator),
    applyReplicated: (changes, applyOptions) => writes.applyReplicated(changes, applyOptions),
    metrics: () => writes.metrics(),
    close() {
      closing ??= (async () => {
        await stopServing(server);
        await Promise.allSettled([...inFlight]);
        await log.close();
      })();
      return closing;
    },
  };
}

async function route(writes: ReplicatedWrites, upstreamUrl: string, wire: WireRequest): Promise<WireResponse> {
  const operation = operationOf(wire.headers);
  if (operation === 'PutItem' || operation === 'UpdateItem' || operation === 'DeleteItem') {
    return handleSingleWrite(writes, upstreamUrl, operation, wire);
  }
  if (operation === 'BatchWriteItem') return handleBatchWrite(writes, upstreamUrl, wire);
  if (operation === 'GetItem') return handleGetItem(writes, upstreamUrl, wire);
  const response = await forward(upstreamUrl, wire);
  if (operation === 'ListTables' && response.status === 200) return hideVersionsTable(response);
  return response;
}

async function handleSingleWrite(
  writes: ReplicatedWrites,
  upstreamUrl: string,
  operation: 'PutItem' | 'UpdateItem' | 'DeleteItem',
  wire: WireRequest,
): Promise<WireResponse> {
  const request = JSON.parse(wire.body.toString('utf8')) as Record<string, unknown>;
  const table = writes.replicatedTable(request.TableName);
  const keyNames = table && (await writes.keyNames(table.name));
  if (!table || !keyNames) return forward(upstreamUrl, wire);
  const key = operation === 'PutItem' ? keyOf((request.Item ?? {}) as AttributeMap, keyNames) : ((request.Key ?? {}) as AttributeMap);
  const id = itemId(table.name, key);
  return writes.withWriteLocks([id], table.mode === 'sync' ? [id] : [], async () => {
    const previous = await writes.versionOf(id);
    const oldImage = table.mode === 'sync' ? await writes.readItem(table.name, key) : undefined;
    const { response, image } = await executeWrite(writes, upstreamUrl, operation, request, wire, table.name, key);
    if (response.status !== 200) return response;
    const accepted: AcceptedWrite = { table, id, key, image, previous, oldImage };
    const outcome = (await writes.commit([accepted])).get(id);
    return outcome?.committed === false ? rejectedWrite(outcome) : response;
  });
}

async function handleGetItem(writes: ReplicatedWrites, upstreamUrl: string, wire: WireRequest): Promise<WireResponse> {
  const request = JSON.parse(wire.body.toString('utf8')) as Record<string, unknown>;
  const table = writes.replicatedTable(request.TableName);
  if (table?.mode !== 'sync' || typeof request.Key !== 'object' || request.Key === null) return forward(upstreamUrl, wire);
  return writes.withReadLock(itemId(table.name, request.Key as AttributeMap), () => forward(upstreamUrl, wire));
}

/** Runs the client's write on dynalite and works out the item it left behind. */
async function executeWrite(
  writes: ReplicatedWrites,
  upstreamUrl: string,
  operation: 'PutItem' | 'UpdateItem' | 'DeleteItem',
  request: Record<string, unknown>,
  wire: WireRequest,
  table: string,
  key: AttributeMap,
): Promise<{ response: WireResponse; image: AttributeMap | undefined }> {
  if (operation === 'PutItem') return { response: await forward(upstreamUrl, wire), image: request.Item as AttributeMap };
  if (operation === 'DeleteItem') return { response: await forward(upstreamUrl, wire), image: undefined };
  const asked = (request.ReturnValues as string | undefined) ?? 'NONE';
  if (asked === 'NONE' || asked === 'ALL_NEW') {
    const withNewImage = { ...wire, body: Buffer.from(JSON.stringify({ ...request, ReturnValues: 'ALL_NEW' })) };
    const response = await forward(upstreamUrl, withNewImage);
    if (response.status !== 200) return { response, image: undefined };
    const { Attributes, ...rest } = JSON.parse(response.body.toString('utf8')) as { Attributes?: AttributeMap };
    return { response: asked === 'NONE' ? jsonResponse(response, rest) : response, image: Attributes };
  }
  // ALL_OLD / UPDATED_OLD / UPDATED_NEW are dynalite's to compute; the item lock makes the read-back the write's result.
  const response = await forward(upstreamUrl, wire);
  if (response.status !== 200) return { response, image: undefined };
  return { response, image: await writes.readItem(table, key) };
}

/**
 * What DynamoDB multi-Region strong consistency answers when a write cannot be made in the other Regions:
 * `ReplicatedWriteConflictException` (HTTP 400, retryable per the API reference: "one or more items in the request
 * are being modified by a request in another Region") when a peer is writing the same item, and a 5xx service error
 * when the Region cannot reach its peers (MRSC does not acknowledge writes it cannot replicate); we send
 * `ServiceUnavailable` (503), which the SDK classifies as transient and retries.
 */
export function rejectedWrite(outcome: Extract<CommitOutcome, { committed: false }>): WireResponse {
  if (outcome.reason instanceof PeerUnavailableError) return errorResponse(503, 'ServiceUnavailable', outcome.reason.message);
  return errorResponse(400, 'ReplicatedWriteConflictException', outcome.reason.message);
}

function hideVersionsTable(response: WireResponse): WireResponse {
  const listed = JSON.parse(response.body.toString('utf8')) as { TableNames?: string[] };
  if (!listed.TableNames?.includes(VERSIONS_TABLE)) return response;
  return jsonResponse(response, { ...listed, TableNames: listed.TableNames.filter((name) => name !== VERSIONS_TABLE) });
}


function stopServing(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    // SDK clients keep connections alive; without dropping idle ones the close would wait for their timeout.
    const dropIdle = setInterval(() => server.closeIdleConnections(), 50);
    server.closeIdleConnections();
    server.close(() => {
      clearInterval(dropIdle);
      resolve();
    });
  });
}
