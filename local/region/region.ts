import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity } from '@smithy/types';
import type { KinesisEventSourceMapping, KinesisMappingMetrics } from '#local/event-sources/kinesis-mapping.ts';
import type { MqEventSourceMapping, MqMappingMetrics } from '#local/event-sources/mq-mapping.ts';
import { StreamActivity } from '#local/event-sources/stream-activity.ts';
import { startStompBroker } from '#local/mq/stomp-broker.ts';
import { StompMessageBroker } from '#shared/adapters/stomp/stomp-message-broker.ts';
import type { Topology } from '#shared/topology/schema.ts';
import { closeSharedDatabases, openDatabaseFromConnectionString, pgliteConnectionString } from '#shared/adapters/postgres/database-registry.ts';
import { startDynamoDbEmulator, startKinesisEmulator } from '#local/region/emulators.ts';
import { RegionConfigurationError, RegionStartError } from '#local/region/errors.ts';
import { ensureStream, ensureTable } from '#local/region/provisioning.ts';
import { createEventSourceMappings, createRegionFunctions, type RegionMappingsOptions, type SkippedFunction } from '#local/region/region-functions.ts';
import { ArcRoutingControls, parseClusterEndpoints } from '#shared/adapters/arc/arc-routing-controls.ts';
import { RoutingGate } from '#shared/adapters/arc/routing-gate.ts';
import { regionalRoutingControlName } from '#shared/ports/routing-controls.ts';
import { regionLogger } from '#local/region/region-log.ts';
import type { AuroraAgent } from '#local/region/aurora-agent.ts';
import { invokeRoute } from '#local/region/invoke-endpoint.ts';
import { startStatusServer } from '#local/region/status-server.ts';
import { resolveTopology, type TopologyChoice } from '#local/region/topologies.ts';
import { regionFaultHooks } from '#local/chaos/region-faults.ts';

/**
 * One region of the twin in one process: Kinesis (kinesalite), DynamoDB (dynalite) and the MQ broker on disk
 * under the data directory, PostgreSQL (PGlite on disk or a given URL), the manifest's functions and their
 * event-source mappings. Everything listens on 127.0.0.1.
 */

const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RegionOptions {
  /** A region of the manifest, e.g. `us-east-1`. */
  readonly region: string;
  /** Where the region's state lives; restarting on it brings every record, item, message and checkpoint back. */
  readonly dataDir: string;
  /** `rotor` (default), `demo`, or a manifest. */
  readonly topology?: TopologyChoice;
  /**
   * Manifest database name → PostgreSQL URL, instead of PGlite; when given, every manifest database needs one, and
   * no two may share one (the apps' tables would collide, and so would two regions' replication state).
   */
  readonly postgresUrls?: Readonly<Record<string, string>>;
  /** `stomp://host:port` of an ActiveMQ to use instead of the embedded broker. */
  readonly activemqUrl?: string;
  /**
   * Put before every queue name the region uses (MQ triggers, `{queue: X}` variables, on-failure queues), e.g.
   * `us-east-1.`, so regions sharing one broker do not consume each other's queues. Default: none.
   */
  readonly queuePrefix?: string;
  /**
   * The twin's ARC cluster endpoints, JSON as `parseClusterEndpoints` reads it (`[{"Endpoint","Region"}…]`);
   * functions get it as `ROUTING_CONTROL_ENDPOINTS`. Without it functions cannot read routing controls.
   */
  readonly arcEndpoints?: string;
  /**
   * The twin's RDS API (Aurora global clusters, served by the global layer); functions get it as
   * `AWS_ENDPOINT_URL_RDS`. Without it `@aws-sdk/client-rds` would go to AWS.
   */
  readonly rdsEndpoint?: string;
  /** Every region's broker as JSON; functions get it as `EDGE_BROKERS` (shared/pipeline/outbound-destinations.ts). */
  readonly edgeBrokers?: string;
  /** Fixed ports; 0 or omitted picks free ones. */
  readonly ports?: { kinesis?: number; dynamodb?: number; broker?: number; status?: number };
  /**
   * The DynamoDB endpoint handed to the region's functions instead of its own dynalite: in the two-region twin,
   * the region's replicating endpoint (global tables), so every handler write is replicated.
   */
  readonly dynamodbEndpointForFunctions?: string;
  /** Where handler strings are resolved; default: the repository root. */
  readonly codeRoot?: string;
  /**
   * Pause before re-reading a shard whose read-ahead is full or whose read failed. A caught-up shard instead waits
   * for a put to its stream, at most `idlePollIntervalMs` (default 1 s, AWS's poll rate).
   */
  readonly pollIntervalMs?: number;
  readonly idlePollIntervalMs?: number;
  /** Backoff between retries of a failed batch (doubling from `initialMs` up to `maxMs`). */
  readonly retryBackoff?: { initialMs: number; maxMs: number };
}

export interface RegionEndpointReport {
  readonly kinesis: string;
  readonly dynamodb: string;
  /** What the functions use as their DynamoDB endpoint: `dynamodb`, or the replicating endpoint in front of it. */
  readonly dynamodbForFunctions: string;
  readonly broker: string;
  readonly status: string;
  /** The Lambda API (Invoke) of the region's functions: `POST <lambda>/2015-03-31/functions/<name>/invocations`. */
  readonly lambda: string;
  /** Manifest database name → where it lives (password redacted). */
  readonly databases: Record<string, string>;
  /** The Aurora replication agent (`aurora-agent.ts`) the global layer ships through; only with databases. */
  readonly aurora?: string;
}

export interface RegionReadyReport {
  readonly region: string;
  readonly dataDir: string;
  readonly pid: number;
  readonly endpoints: RegionEndpointReport;
  readonly brokerKind: 'embedded' | 'activemq';
  /** Put before every manifest queue name on the broker ('' for none): clients send to `<queuePrefix>tm.trades`. */
  readonly queuePrefix: string;
  /** Whether the functions were given the ARC cluster endpoints (`ROUTING_CONTROL_ENDPOINTS`). */
  readonly routingControls: boolean;
  /** Batches that exhausted their retries go to a durable broker queue named after the manifest's `sqs` queue. */
  readonly onFailure: 'broker-queue';
  readonly functions: string[];
  readonly skippedFunctions: SkippedFunction[];
  /** Mapping ids, `<stream>--<function>` and `<queue>--<function>`. */
  readonly mappings: string[];
  readonly startupMs: { total: number } & Record<string, number>;
  readonly rssMB: number;
}

export interface RegionStatus extends RegionReadyReport {
  readonly uptimeMs: number;
  readonly mappingMetrics: KinesisMappingMetrics[];
  readonly mqMappingMetrics: MqMappingMetrics[];
  /** Requests each emulator received since the region started, per API operation (`PutRecords`, `GetItem`…). */
  readonly emulatorCalls: { kinesis: Record<string, number>; dynamodb: Record<string, number> };
}

export interface RunningRegion {
  readonly report: RegionReadyReport;
  readonly mappings: readonly KinesisEventSourceMapping[];
  readonly mqMappings: readonly MqEventSourceMapping[];
  status(): Promise<RegionStatus>;
  /** Stops mappings (letting in-flight batches finish and checkpoint), then servers, then databases. */
  stop(): Promise<void>;
}

// Above the MQ mappings' own limit (6, ActiveMQ's default), so the mapping, not the broker, dead-letters poison.
const BROKER_MAX_DELIVERIES = 10;

const rssMB = () => Math.round(process.memoryUsage().rss / 1024 / 1024);

export async function startRegion(options: RegionOptions): Promise<RunningRegion> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const log = regionLogger(options.region);
  const topology: Topology = resolveTopology(options.topology ?? 'rotor');
  if (!topology.regions.includes(options.region)) {
    throw new RegionConfigurationError(`region ${options.region} is not in the manifest (${topology.regions.join(', ')})`);
  }
  if (options.queuePrefix !== undefined && !/^[A-Za-z0-9._-]*$/.test(options.queuePrefix)) {
    throw new RegionConfigurationError(`queue prefix ${JSON.stringify(options.queuePrefix)} may hold only letters, digits, '.', '_' and '-'`);
  }
  const dataDir = path.resolve(options.dataDir);
  const startedAt = performance.now();
  const startupMs: Record<string, number> = {};
  const timed = async <T>(component: string, work: () => Promise<T>): Promise<T> => {
    const began = performance.now();
    try {
      return await work();
    } catch (error) {
      throw error instanceof RegionStartError ? error : new RegionStartError(component, error);
    } finally {
      startupMs[component] = Math.round(performance.now() - began);
    }
  };
  const cleanups: Array<() => Promise<unknown>> = [];
  const cleanUp = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error: unknown) => log.error('stopping a component failed', { error: String(error) }));
  };

  try {
    // PGlite takes seconds to start, so databases open alongside everything else and only when the manifest has any.
    const databaseConnectionStrings = connectionStringsOf(topology, dataDir, options.postgresUrls);
    const queuePrefix = options.queuePrefix ?? '';
    const databasesOpened = Promise.all(
      [...databaseConnectionStrings].map(([name, connectionString]) =>
        timed(`database:${name}`, async () => {
          // Proves the database usable before functions need it; a PostgreSQL pool opened for that is not kept.
          const opened = await openDatabaseFromConnectionString(connectionString);
          if (opened.backend === 'postgres') await opened.close();
          return [name, opened.location] as const;
        }),
      ),
    );
    // Awaited below; until then a failed open must not count as an unhandled rejection (it would kill the process).
    databasesOpened.catch(() => undefined);
    cleanups.push(async () => {
      await databasesOpened.catch(() => undefined);
      await closeSharedDatabases(dataDir);
    });

    const streamActivity = new StreamActivity();
    // Chaos experiments' faults, empty until the controller posts one to the status server's /chaos/faults.
    const faults = regionFaultHooks();
    const [kinesisEmulator, dynamodbEmulator, broker] = await Promise.all([
      timed('kinesis', () =>
        startKinesisEmulator({ path: path.join(dataDir, 'kinesis'), port: options.ports?.kinesis ?? 0, activity: streamActivity, faults: faults.emulators }),
      ).then((started) => {
        cleanups.push(() => started.close());
        return started;
      }),
      timed('dynamodb', () => startDynamoDbEmulator({ path: path.join(dataDir, 'dynamodb'), port: options.ports?.dynamodb ?? 0, faults: faults.emulators })).then((started) => {
        cleanups.push(() => started.close());
        return started;
      }),
      timed('broker', async () => {
        if (options.activemqUrl) return { url: options.activemqUrl, kind: 'activemq' as const };
        const started = await startStompBroker({
          dataDir: path.join(dataDir, 'mq'),
          port: options.ports?.broker ?? 0,
          maxDeliveries: BROKER_MAX_DELIVERIES,
          duplicateSends: faults.duplicateSends,
          onFailure: (error) => log.error('embedded broker storage failure', { error: String(error) }),
        });
        cleanups.push(() => started.close());
        return { url: started.url, kind: 'embedded' as const };
      }),
    ]);

    const sdkConfig = { region: options.region, credentials: { accessKeyId: 'AKIDROTORTWIN', secretAccessKey: 'rotor-twin-secret' } };
    const kinesis = new KinesisClient({ ...sdkConfig, endpoint: kinesisEmulator.endpoint, requestHandler: new NodeHttpHandler() });
    const dynamodb = new DynamoDBClient({ ...sdkConfig, endpoint: dynamodbEmulator.endpoint });
    cleanups.push(async () => {
      kinesis.destroy();
      dynamodb.destroy();
    });
    await Promise.all([
      timed('streams', () => Promise.all(topology.streams.map((stream) => ensureStream(kinesis, stream)))),
      timed('tables', () => Promise.all(topology.tables.map((table) => ensureTable(dynamodb, table)))),
    ]);
    const databaseLocations = Object.fromEntries(await databasesOpened);
    // Before any function runs: a database that already replicates opens fenced until the global layer sets its role.
    let auroraAgent: AuroraAgent | undefined;
    if (topology.databases.length > 0) {
      const agent = await timed('aurora-agent', async () => (await import('#local/region/aurora-agent.ts')).startAuroraAgent(databaseConnectionStrings));
      cleanups.push(() => agent.close());
      auroraAgent = agent;
    }

    const dynamodbForFunctions = options.dynamodbEndpointForFunctions ?? dynamodbEmulator.endpoint;
    const endpoints = {
      region: options.region,
      kinesis: kinesisEmulator.endpoint,
      dynamodb: dynamodbForFunctions,
      broker: broker.url,
      routingControlEndpoints: options.arcEndpoints,
      rds: options.rdsEndpoint,
      edgeBrokers: options.edgeBrokers,
    };
    const resources = { databaseConnectionStrings, queuePrefix };
    const { functions, skipped } = await timed('functions', () =>
      createRegionFunctions({ topology, region: options.region, codeRoot: options.codeRoot ?? REPOSITORY_ROOT, endpoints, resources, faults: faults.invocations }),
    );
    const brokerClient = new StompMessageBroker({ url: broker.url, maxDeliveries: BROKER_MAX_DELIVERIES });
    cleanups.push(() => brokerClient.close());
    const { kinesis: mappings, mq: mqMappings } = createEventSourceMappings({
      topology, functions, kinesis, dataDir, broker: brokerClient, queuePrefix, pollIntervalMs: options.pollIntervalMs, retryBackoff: options.retryBackoff,
      streamActivity, idlePollIntervalMs: options.idlePollIntervalMs, routing: routingOf(options.region, options.arcEndpoints, sdkConfig.credentials),
    });
    const allMappings = [...mappings, ...mqMappings];
    cleanups.push(() => Promise.all(allMappings.map((mapping) => mapping.stop())));
    await timed('mappings', async () => {
      // Every start settles before a failure is reported, so the cleanup never meets a mapping still starting.
      const started = await Promise.allSettled(allMappings.map((mapping) => mapping.start()));
      const failed = started.find((outcome) => outcome.status === 'rejected');
      if (failed) throw failed.reason;
    });

    let report: RegionReadyReport | undefined;
    const status = async (): Promise<RegionStatus> => ({
      ...(report as RegionReadyReport),
      rssMB: rssMB(),
      uptimeMs: Math.round(performance.now() - startedAt),
      mappingMetrics: mappings.map((mapping) => mapping.metrics()),
      mqMappingMetrics: await Promise.all(mqMappings.map((mapping) => mapping.metrics())),
      emulatorCalls: { kinesis: kinesisEmulator.calls(), dynamodb: dynamodbEmulator.calls() },
    });
    const invoke = invokeRoute({
      region: options.region,
      functions,
      skipped,
      onBackgroundFailure: (functionName, error) => log.error('an Event invocation failed', { functionName, ...error }),
    });
    const statusServer = await timed('status', () =>
      startStatusServer(options.ports?.status ?? 0, status, [invoke, faults.route, ...(auroraAgent ? [auroraAgent.handle] : [])]),
    );
    cleanups.push(() => statusServer.close());

    report = {
      region: options.region,
      dataDir,
      pid: process.pid,
      endpoints: {
        kinesis: kinesisEmulator.endpoint,
        dynamodb: dynamodbEmulator.endpoint,
        dynamodbForFunctions,
        broker: broker.url,
        status: statusServer.url,
        lambda: statusServer.url,
        databases: databaseLocations,
        ...(auroraAgent ? { aurora: `${statusServer.url}/aurora` } : {}),
      },
      brokerKind: broker.kind,
      queuePrefix,
      routingControls: options.arcEndpoints !== undefined,
      onFailure: 'broker-queue',
      functions: [...functions.keys()],
      skippedFunctions: skipped,
      mappings: allMappings.map((mapping) => mapping.mappingId),
      startupMs: { total: Math.round(performance.now() - startedAt), ...startupMs },
      rssMB: rssMB(),
    };
    const readyReport = report;
    let stopping: Promise<void> | undefined;
    return {
      report: readyReport,
      mappings,
      mqMappings,
      status,
      stop: () => (stopping ??= cleanUp().then(() => log.info('region stopped'))),
    };
  } catch (error) {
    log.error('region failed to start', { error: String(error) });
    await cleanUp();
    throw error;
  }
}

/** Whether a routing control is On in this region, as the functions' gates read it; undefined without a cluster. */
function routingOf(region: string, arcEndpoints: string | undefined, credentials: AwsCredentialIdentity): RegionMappingsOptions['routing'] {
  if (!arcEndpoints) return undefined;
  const gate = new RoutingGate(new ArcRoutingControls({ endpoints: parseClusterEndpoints(arcEndpoints), credentials, connectionTimeoutMs: 500, requestTimeoutMs: 1_000 }));
  return (control) => gate.isOn(regionalRoutingControlName(control, region));
}

function connectionStringsOf(topology: Topology, dataDir: string, postgresUrls: RegionOptions['postgresUrls']): Map<string, string> {
  if (postgresUrls === undefined) {
    return new Map(topology.databases.map((database) => [database.name, pgliteConnectionString(path.join(dataDir, 'databases', database.name))]));
  }
  const declared = topology.databases.map((database) => database.name);
  const unknown = Object.keys(postgresUrls).filter((name) => !declared.includes(name));
  const missing = declared.filter((name) => postgresUrls[name] === undefined);
  if (unknown.length > 0 || missing.length > 0) {
    throw new RegionConfigurationError(
      `PostgreSQL URLs must name exactly the manifest's databases (${declared.join(', ') || 'none'})` +
        `${missing.length > 0 ? `; missing ${missing.join(', ')}` : ''}${unknown.length > 0 ? `; unknown ${unknown.join(', ')}` : ''}`,
    );
  }
  const urls = declared.map((name) => postgresUrls[name]!);
  const shared = urls.find((url, index) => urls.indexOf(url) !== index);
  if (shared !== undefined) throw new RegionConfigurationError(`two databases of the manifest cannot share one PostgreSQL database (${redactPassword(shared)})`);
  for (const url of urls) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new RegionConfigurationError(`not a PostgreSQL URL: ${redactPassword(url)}`);
  }
  return new Map(declared.map((name) => [name, postgresUrls[name]!]));
}

function redactPassword(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@]*@/, '//$1:***@');
}
