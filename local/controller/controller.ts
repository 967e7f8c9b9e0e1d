import path from 'node:path';
import type { RunningArcEmulator } from '#local/global/arc/emulator.ts';
import type { GlobalTables } from '#local/global/dynamo-replication/global-tables.ts';
import { isTopologyName, resolveTopology, type TopologyName } from '#local/region/topologies.ts';
import type { RegionReadyReport } from '#local/region/region.ts';
import type { RoutingControlState } from '#shared/ports/routing-controls.ts';
import type { AppName, Topology } from '#shared/topology/schema.ts';
import { ZERO_RPO_TABLES } from '#shared/topology/rotor.ts';
import { startControlServer, type RegionAction, type RunningControlServer } from '#local/controller/control-server.ts';
import { RegionCommandError, TwinConfigurationError } from '#local/controller/errors.ts';
import { startAuroraGlobalDatabases } from '#local/controller/aurora-global-databases.ts';
import { FunctionInvoker, type InvokeTarget } from '#local/controller/function-invoker.ts';
import { GENERATOR_CONTROL, GENERATOR_FUNCTION, GeneratorLoop, GeneratorSwitch, type GeneratorControl, type GeneratorStatus } from '#local/controller/generator-loop.ts';
import { GlobalLayer, startArc, type AuroraCoordinatorStarter } from '#local/controller/global-layer.ts';
import { MetricCollector } from '#local/controller/metric-collector.ts';
import { RegionSupervisor, type RegionExit } from '#local/controller/region-supervisor.ts';
import { purgeExternalQueues, regionBrokers, regionPostgresUrls, twinBackends, type RegionBroker } from '#local/controller/twin-backends.ts';
import { refuseIfRunning } from '#local/controller/twin-lock.ts';
import { assertPortsFree, DEFAULT_TWIN_DATA_DIR, DEFAULT_TWIN_REGIONS, portOwners, TwinLayout, type TwinBackends, type TwinPorts } from '#local/controller/twin-layout.ts';
import { countTableItems, regionEntry, replicationDirections, type TwinStatus } from '#local/controller/twin-status.ts';
import { TwinWorkflows } from '#local/controller/twin-workflows.ts';
import { ChaosController } from '#local/chaos/chaos-controller.ts';
import { routeChaos } from '#local/chaos/control-routes.ts';

/**
 * The two-region twin: the global layer (ARC cluster, DynamoDB global tables; see global-layer.ts) in this
 * process, and one OS process per region (region-supervisor.ts), each on fixed ports and its own data directory
 * under the twin's. Operators and drills stop, kill and restart regions through it, and invoke functions through
 * it; everything it knows is on disk, so a twin started again on the same directory comes back with its data,
 * routing-control states and replication backlog.
 */

export const MAX_TWIN_REGIONS = 3;

export interface TwinOptions {
  /** The generator routing control's state in a new twin (default On: `rotor generate` sends when asked). */
  readonly generatorInitially?: 'On' | 'Off';
  /** Default `.rotor/twin`. */
  readonly dataDir?: string;
  /** Default: the regions of the last run on this directory, else us-east-1 and us-west-2. The first starts active. */
  readonly regions?: readonly string[];
  readonly topology?: TopologyName;
  /** Wipes the data directory first (and, with `postgresUrl`, drops and recreates the twin's databases). */
  readonly fresh?: boolean;
  /** Async replication delay per direction; default the global tables' (300 ms). */
  readonly replicationLagMs?: number;
  readonly regionReadyTimeoutMs?: number;
  /** Where the Aurora Global Database coordinator is started; see AuroraCoordinatorStarter. */
  readonly startAuroraCoordinator?: AuroraCoordinatorStarter;
  /**
   * A PostgreSQL server instead of PGlite: each region's copy of each manifest database is created in it as
   * `rotor_<region>_<database>` (twin-backends.ts).
   */
  readonly postgresUrl?: string;
  /** Prefix of those database names instead of `rotor` (twins sharing one server, such as parallel test suites). */
  readonly postgresDatabasePrefix?: string;
  /** ActiveMQ STOMP URLs instead of the embedded brokers: one for every region (queues prefixed `<region>.`), or one per region. */
  readonly brokerUrls?: readonly string[];
  /**
   * The zero-RPO option: the manifest's ZERO_RPO_TABLES replicate synchronously (a write is acknowledged once every
   * region that is up has it), so a region outage loses no acknowledged leg. Costs a peer round trip per write.
   */
  readonly zeroRpo?: boolean;
  /** Legs per second for the background generator loop (generator-loop.ts); no loop when omitted. */
  readonly generatorRate?: number;
  /** Where region processes resolve handler modules; default the repository root (tests point it at fixtures). */
  readonly codeRoot?: string;
  /** Progress lines for the operator (region up, region down, generator, …). */
  readonly onEvent?: (message: string) => void;
}

export interface RunningTwin {
  readonly layout: TwinLayout;
  readonly regions: readonly string[];
  readonly topology: Topology;
  readonly ports: TwinPorts;
  readonly controlUrl: string;
  readonly arc: RunningArcEmulator;
  readonly globalTables: GlobalTables;
  /** Wall time of `startTwin`, and each region's own start-up (process start to ready). */
  readonly startupMs: { readonly total: number; readonly regions: Readonly<Record<string, number>> };
  /** Region → `stomp://host:port` of its broker, known whether the region is up or not (fixed ports or given URLs). */
  readonly brokers: Readonly<Record<string, string>>;
  /** Region → what is put before every queue name on its broker ('' unless regions share one broker). */
  readonly queuePrefixes: Readonly<Record<string, string>>;
  /** Where the twin's data lives besides its directory (PGlite or a PostgreSQL server; embedded or given brokers). */
  readonly backends: TwinBackends;
  /** The name manifest queue `queue` has on `region`'s broker, e.g. `us-east-1.tm.trades` on a shared broker. */
  queueName(region: string, queue: string): string;
  /** The region whose `<app>-dns` routing control is On; NoActiveRegionError / SeveralActiveRegionsError otherwise. */
  activeRegion(app: AppName): string;
  /** Invokes a function synchronously, as TwinClient.invoke does (FunctionError, ControllerRequestError). */
  invoke<T>(functionName: string, payload: unknown, target: InvokeTarget, signal?: AbortSignal): Promise<T>;
  /** The generator loop (`--rate`, or started from the dashboard); null while none was started. */
  generatorStatus(): GeneratorStatus | null;
  /** Starts, stops and restarts the generator loop at a rate (the dashboard). */
  readonly generator: GeneratorControl;
  /** The functions' EMF metrics, read from every region's stdout (metric-collector.ts). */
  readonly metrics: MetricCollector;
  /** Global-layer components' status (the Aurora coordinator), as `rotor status` shows under `components`; no I/O. */
  componentStatus(): Record<string, unknown>;
  /** The manifest's state machines (rotation, DR, reconciliation), run locally with tasks invoked in the twin's regions. */
  readonly workflows: TwinWorkflows;
  /** Chaos experiments against this twin (local/chaos); also served on the control endpoint under /chaos. */
  readonly chaos: ChaosController;
  region(region: string): RegionSupervisor;
  /** The DynamoDB endpoint the region's functions use (its replicating endpoint). */
  dynamodbEndpoint(region: string): string;
  stopRegion(region: string): Promise<RegionExit | undefined>;
  killRegion(region: string): Promise<RegionExit | undefined>;
  startRegion(region: string): Promise<RegionReadyReport>;
  status(): Promise<TwinStatus>;
  /** Stops the generator loop, every region (SIGTERM), then the global layer; removes controller.json. */
  stop(): Promise<void>;
}

const rssMB = () => Math.round(process.memoryUsage().rss / 1024 / 1024);

export async function startTwin(options: TwinOptions = {}): Promise<RunningTwin> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const began = performance.now();
  const notify = options.onEvent ?? (() => undefined);
  const layout = new TwinLayout(options.dataDir ?? DEFAULT_TWIN_DATA_DIR);
  const topologyName = options.topology ?? 'rotor';
  if (!isTopologyName(topologyName)) throw new TwinConfigurationError(`unknown manifest ${String(topologyName)}`);
  const topology = resolveTopology(topologyName);
  if (options.generatorRate !== undefined && !(Number.isFinite(options.generatorRate) && options.generatorRate > 0)) {
    throw new TwinConfigurationError(`the generator rate must be a positive number of legs per second, not ${options.generatorRate}`);
  }

  await refuseIfRunning(layout);
  if (options.fresh) await layout.wipe();
  const saved = await layout.readSaved();
  const regions = validateRegions(options.regions ?? saved?.regions ?? DEFAULT_TWIN_REGIONS, topology);
  const backends = twinBackends(options, regions);
  layout.assertSameBackends(saved, backends);
  const ports = await layout.portsFor(regions, topologyName, backends);
  await assertPortsFree(portOwners(ports, regions, { embeddedBrokers: options.brokerUrls === undefined }), layout.dataDir);
  const postgresUrls = await regionPostgresUrls(options.postgresUrl, { regions, topology, saved, backends, fresh: options.fresh ?? false, databasePrefix: options.postgresDatabasePrefix });
  const brokers: Record<string, RegionBroker> = regionBrokers(options.brokerUrls, regions, ports);
  if (options.fresh) {
    const purged = await purgeExternalQueues(brokers, topology);
    if (purged > 0) notify(`emptied ${purged} messages an earlier twin left on the operator's broker`);
  }
  const replicatingUrl = (region: string) => `http://127.0.0.1:${ports.regions[region]!.replicatingDynamodb}`;

  let globalLayer: GlobalLayer | undefined;
  let shuttingDown = false;
  let saveState: () => Promise<void> = async () => undefined;
  const supervisors = new Map<string, RegionSupervisor>();
  const metrics = new MetricCollector();
  // One operation per region at a time: a restart must not race the global layer following a kill of the region.
  const queues = new Map<string, Promise<unknown>>();
  const serialized = <T>(region: string, operation: () => Promise<T>): Promise<T> => {
    const next = (queues.get(region) ?? Promise.resolve()).catch(() => undefined).then(operation);
    queues.set(region, next);
    return next;
  };

  // Before the regions: their functions are handed the cluster's endpoints.
  const arc = await startArc(layout, regions, ports, options.generatorInitially);
  for (const region of regions) {
    const broker = brokers[region]!;
    supervisors.set(region, new RegionSupervisor({
      region,
      dataDir: layout.regionDir(region),
      logFile: layout.logFile(region),
      topology: topologyName,
      ports: ports.regions[region]!,
      dynamodbEndpointForFunctions: replicatingUrl(region),
      arcEndpoints: arc.clusterEndpointsJson,
      // Served by the Aurora component once the regions are up; the port is fixed, so functions know it beforehand.
      ...(topology.databases.length > 0 ? { rdsEndpoint: `http://127.0.0.1:${ports.rds}` } : {}),
      edgeBrokers: JSON.stringify(Object.fromEntries(regions.map((peer) => [peer, { url: brokers[peer]!.url, queuePrefix: brokers[peer]!.queuePrefix }]))),
      ...(postgresUrls ? { postgresUrls: postgresUrls[region]! } : {}),
      ...(broker.external ? { brokerUrl: broker.url } : {}),
      ...(broker.queuePrefix ? { queuePrefix: broker.queuePrefix } : {}),
      ...(options.codeRoot === undefined ? {} : { codeRoot: options.codeRoot }),
      ...(options.regionReadyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.regionReadyTimeoutMs }),
      onFunctionOutput: (line) => metrics.ingest(line, region),
      onExit: (exitedRegion, exit) => {
        if (shuttingDown) return;
        notify(`region ${exitedRegion} is down (${exit.requested ? 'asked' : 'unexpected'}: ${exit.signal ?? `exit code ${exit.code}`})`);
        // An outage of the region is an outage of its replicating endpoint too: peers' changes queue for it.
        void serialized(exitedRegion, async () => globalLayer?.regionDown(exitedRegion)).catch((error: unknown) => notify(`global layer could not follow ${exitedRegion} going down: ${String(error)}`));
        void saveState().catch(() => undefined);
      },
    }));
  }

  const startupByRegion: Record<string, number> = {};
  const reports = new Map<string, RegionReadyReport>();
  let controlServer: RunningControlServer | undefined;
  try {
    const started = await Promise.allSettled(
      [...supervisors.values()].map(async (supervisor) => {
        const report = await supervisor.start();
        reports.set(supervisor.region, report);
        startupByRegion[supervisor.region] = report.startupMs.process ?? report.startupMs.total;
        notify(`region ${supervisor.region} is up (pid ${report.pid}, ${startupByRegion[supervisor.region]} ms)`);
      }),
    );
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    // Every relational store of the manifest is an Aurora Global Database across the regions unless a test says otherwise.
    const auroraStarter = options.startAuroraCoordinator ?? (topology.databases.length > 0 ? startAuroraGlobalDatabases : undefined);
    globalLayer = await GlobalLayer.start(arc, {
      layout, topology: options.zeroRpo ? withSynchronousTables(topology, ZERO_RPO_TABLES) : topology, regions, reports, ports,
      ...(options.replicationLagMs === undefined ? {} : { replicationLagMs: options.replicationLagMs }),
      ...(auroraStarter ? { startAuroraCoordinator: auroraStarter } : {}),
    });
  } catch (error) {
    shuttingDown = true;
    await Promise.all([...supervisors.values()].map((supervisor) => supervisor.stop()));
    await globalLayer?.close();
    await arc.close();
    throw error;
  }
  const layer = globalLayer;

  const supervisorOf = (region: string): RegionSupervisor => {
    const supervisor = supervisors.get(region);
    if (!supervisor) throw new RegionCommandError(`region ${region} is not part of this twin (${regions.join(', ')})`);
    return supervisor;
  };
  const takeDown = (region: string, how: 'stop' | 'kill') =>
    serialized(region, async () => {
      const supervisor = supervisorOf(region);
      if (supervisor.state === 'down') return supervisor.lastExit;
      const exit = how === 'stop' ? await supervisor.stop() : await supervisor.kill();
      await layer.regionDown(region);
      return exit;
    });
  const bringUp = (region: string) =>
    serialized(region, async () => {
      const supervisor = supervisorOf(region);
      const report = await supervisor.start();
      await layer.regionUp(region, report);
      notify(`region ${region} is up again (pid ${report.pid}, ${report.startupMs.process ?? report.startupMs.total} ms)`);
      await saveState();
      return report;
    });
  const invoker = new FunctionInvoker({ regions, supervisorOf, controlStates: () => arc.states() });
  const generator = generatorSwitch(reports, invoker, () => arc.states(), notify);

  const startedAt = began;
  const startupMs = { total: 0, regions: startupByRegion };
  const stageTables = topology.tables.filter((table) => table.purpose === 'safe-store').map((table) => table.name);
  const status = async (): Promise<TwinStatus> => {
    const tableNames = topology.tables.map((table) => table.name);
    const entries = await Promise.all(
      [...supervisors.values()].map(async (supervisor) => {
        const up = supervisor.state === 'up' && supervisor.report;
        const [live, tableItems] = await Promise.all([
          supervisor.fetchStatus(),
          up ? countTableItems(supervisor.report!.endpoints.dynamodb, supervisor.region, tableNames) : Promise.resolve(null),
        ]);
        return regionEntry(supervisor, live, tableItems, {
          dataDir: layout.regionDir(supervisor.region),
          log: layout.logFile(supervisor.region),
          replicatingDynamodb: replicatingUrl(supervisor.region),
          broker: brokers[supervisor.region]!.url,
          queuePrefix: brokers[supervisor.region]!.queuePrefix,
          stageTables,
        });
      }),
    );
    const links = layer.globalTables.metrics().links;
    const controllerRss = rssMB();
    return {
      controller: { pid: process.pid, dataDir: layout.dataDir, controlUrl: controlServer?.url ?? '', uptimeMs: Math.round(performance.now() - startedAt), startupMs: startupMs.total, rssMB: controllerRss },
      regions: entries,
      routingControls: Object.entries(arc.states()).map(([name, state]) => ({ name, state })).sort((a, b) => a.name.localeCompare(b.name)),
      arcEndpoints: arc.endpoints.map((endpoint, index) => ({ ...endpoint, running: arc.isEndpointRunning(index) })),
      replication: { lagMs: links[0]?.lagMs ?? 0, tables: layer.replicatedTables.map((table) => ({ ...table })), directions: replicationDirections(links) },
      generator: generator.status(),
      components: layer.componentStatus(),
      totalRssMB: controllerRss + entries.reduce((sum, entry) => sum + (entry.rssMB ?? 0), 0),
    };
  };

  const chaos = new ChaosController({
    regions, activeRegion: (app) => invoker.regionOf({ app }), region: supervisorOf, killRegion: (region) => takeDown(region, 'kill'), startRegion: bringUp,
    globalTables: layer.globalTables, auroraShipping: layer.shipping, arc, brokerUrl: (region) => brokers[region]!.url, queueName: (region, queue) => `${brokers[region]!.queuePrefix}${queue}`,
  });
  let workflows: TwinWorkflows;
  try {
    workflows = await TwinWorkflows.load({
      topology,
      invoker,
      dataDir: path.join(layout.dataDir, 'workflows'),
      ...(options.codeRoot === undefined ? {} : { codeRoot: options.codeRoot }),
    });
    controlServer = await startControlServer(ports.controller, {
      status,
      regionAction: async (region: string, action: RegionAction): Promise<unknown> => {
        const supervisor = supervisorOf(region);
        if (action === 'start') {
          if (supervisor.state !== 'down') throw new RegionCommandError(`region ${region} is ${supervisor.state}, not down`);
          const report = await bringUp(region);
          return { region, state: supervisor.state, pid: report.pid, startupMs: report.startupMs.process ?? report.startupMs.total };
        }
        if (supervisor.state === 'down') throw new RegionCommandError(`region ${region} is already down`);
        const exit = await takeDown(region, action);
        return { region, state: supervisor.state, exit };
      },
      invoke: (target, functionName, payload) => invoker.invokeRaw(target, functionName, payload),
      workflows,
      routes: (request, path, readBody) => routeChaos(chaos, request, path, readBody),
    });
  } catch (error) {
    shuttingDown = true;
    await Promise.all([...supervisors.values()].map((supervisor) => supervisor.stop()));
    await layer.close();
    await arc.close();
    throw error;
  }
  const controlUrl = controlServer.url;
  const stateStartedAt = new Date().toISOString();
  saveState = () =>
    layout.writeState({
      pid: process.pid,
      controlUrl,
      dataDir: layout.dataDir,
      startedAt: stateStartedAt,
      regionPids: Object.fromEntries([...supervisors].map(([region, supervisor]) => [region, supervisor.pid ?? null])),
    });
  await saveState();
  startupMs.total = Math.round(performance.now() - began);
  const rate = options.generatorRate;
  if (rate !== undefined) await generator.start(rate).catch((error: unknown) => notify(`generator: not started, ${(error as Error).message}; --rate ${rate} has no effect`));

  let stopping: Promise<void> | undefined;
  return {
    layout,
    regions,
    topology,
    ports,
    controlUrl,
    arc,
    globalTables: layer.globalTables,
    startupMs,
    brokers: Object.fromEntries(regions.map((region) => [region, brokers[region]!.url])),
    queuePrefixes: Object.fromEntries(regions.map((region) => [region, brokers[region]!.queuePrefix])),
    backends,
    queueName: (region, queue) => {
      supervisorOf(region);
      return `${brokers[region]!.queuePrefix}${queue}`;
    },
    activeRegion: (app) => invoker.regionOf({ app }),
    invoke: async <T>(functionName: string, payload: unknown, target: InvokeTarget, signal?: AbortSignal) =>
      (await invoker.invoke<T>(target, functionName, payload, signal)).result,
    generatorStatus: () => generator.status(),
    generator,
    metrics,
    componentStatus: () => layer.componentStatus(),
    workflows,
    chaos,
    region: supervisorOf,
    dynamodbEndpoint: (region) => {
      supervisorOf(region);
      return replicatingUrl(region);
    },
    stopRegion: (region) => takeDown(region, 'stop'),
    killRegion: (region) => takeDown(region, 'kill'),
    startRegion: bringUp,
    status,
    stop: () =>
      (stopping ??= (async () => {
        shuttingDown = true;
        // First, and without waiting out a run in flight: it would keep sending legs into regions being stopped.
        await generator.stop('the twin is stopping', { abortInFlight: true });
        await chaos.stop().catch(() => undefined);
        await controlServer.close();
        await workflows.close();
        // Regions first: their functions may still write through the replicating endpoints while they drain.
        await Promise.all([...supervisors.values()].map((supervisor) => supervisor.stop()));
        await layer.close();
        await arc.close();
        await layout.removeState();
      })()),
  };
}

/** The generator loop's switch; it refuses to start when a region runs no `generator` function, and says why. */
function generatorSwitch(
  reports: ReadonlyMap<string, RegionReadyReport>,
  invoker: FunctionInvoker,
  controlStates: () => Readonly<Record<string, RoutingControlState>>,
  notify: (message: string) => void,
): GeneratorSwitch {
  const missing = [...reports.values()].find((report) => !report.functions.includes(GENERATOR_FUNCTION));
  const skipped = missing?.skippedFunctions.find((fn) => fn.name === GENERATOR_FUNCTION);
  const unavailable = missing && (skipped ? skipped.reason : `the manifest has no ${GENERATOR_FUNCTION} function`);
  return new GeneratorSwitch({
    ...(unavailable ? { unavailable } : {}),
    create: (rate, runSeconds) =>
      new GeneratorLoop({
        rate,
        runSeconds,
        notify,
        invoke: (payload, signal) => invoker.invoke({ app: 'trade-matching' }, GENERATOR_FUNCTION, payload, signal),
        controlIsOn: () => controlStates()[GENERATOR_CONTROL] === 'On',
      }),
  });
}

function withSynchronousTables(topology: Topology, tables: readonly string[]): Topology {
  return { ...topology, tables: topology.tables.map((table) => (tables.includes(table.name) ? { ...table, replication: 'sync' as const } : table)) };
}

function validateRegions(regions: readonly string[], topology: Topology): string[] {
  const list = [...regions];
  if (list.length < 2 || list.length > MAX_TWIN_REGIONS) throw new TwinConfigurationError(`a twin runs 2 or ${MAX_TWIN_REGIONS} regions, not ${list.length}`);
  if (new Set(list).size !== list.length) throw new TwinConfigurationError(`regions repeat: ${list.join(', ')}`);
  const unknown = list.filter((region) => !topology.regions.includes(region));
  if (unknown.length > 0) {
    throw new TwinConfigurationError(`${unknown.join(', ')} not in the manifest's regions (${topology.regions.join(', ')}); a region runs only where the manifest deploys`);
  }
  return list;
}
