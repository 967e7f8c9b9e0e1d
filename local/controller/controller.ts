import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { RunningArcEmulator } from '#local/global/arc/emulator.ts';
import type { GlobalTables } from '#local/global/dynamo-replication/global-tables.ts';
import { isTopologyName, resolveTopology, type TopologyName } from '#local/region/topologies.ts';
import type { RegionReadyReport } from '#local/region/region.ts';
import type { Topology } from '#shared/topology/schema.ts';
import { startControlServer, type RegionAction, type RunningControlServer } from '#local/controller/control-server.ts';
import { RegionCommandError, TwinAlreadyRunningError, TwinConfigurationError } from '#local/controller/errors.ts';
import { startAuroraGlobalDatabases } from '#local/controller/aurora-global-databases.ts';
import { GlobalLayer, startArc, type AuroraCoordinatorStarter } from '#local/controller/global-layer.ts';
import { RegionSupervisor, type RegionExit } from '#local/controller/region-supervisor.ts';
import { DEFAULT_TWIN_DATA_DIR, DEFAULT_TWIN_REGIONS, TwinLayout, type TwinPorts } from '#local/controller/twin-layout.ts';
import { countTableItems, regionEntry, replicationDirections, type TwinStatus } from '#local/controller/twin-status.ts';

/**
 * The two-region twin: the global layer (ARC cluster, DynamoDB global tables; see global-layer.ts) in this
 * process, and one OS process per region (region-supervisor.ts), each on fixed ports and its own data directory
 * under the twin's. Operators and drills stop, kill and restart regions through it; everything it knows is on disk,
 * so a twin started again on the same directory comes back with its data, routing-control states and replication
 * backlog.
 */

export const MAX_TWIN_REGIONS = 3;

const execFileAsync = promisify(execFile);

export interface TwinOptions {
  /** Default `.rotor/twin`. */
  readonly dataDir?: string;
  /** Default: the regions of the last run on this directory, else us-east-1 and us-west-2. The first starts active. */
  readonly regions?: readonly string[];
  readonly topology?: TopologyName;
  /** Wipes the data directory first. */
  readonly fresh?: boolean;
  /** Async replication delay per direction; default the global tables' (300 ms). */
  readonly replicationLagMs?: number;
  readonly regionReadyTimeoutMs?: number;
  /** Where the Aurora Global Database coordinator is started; see AuroraCoordinatorStarter. */
  readonly startAuroraCoordinator?: AuroraCoordinatorStarter;
  /** Progress lines for the operator (region up, region down, …). */
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
  /** Region → `stomp://host:port` of its broker, known whether the region is up or not (fixed ports). */
  readonly brokers: Readonly<Record<string, string>>;
  region(region: string): RegionSupervisor;
  /** The DynamoDB endpoint the region's functions use (its replicating endpoint). */
  dynamodbEndpoint(region: string): string;
  stopRegion(region: string): Promise<RegionExit | undefined>;
  killRegion(region: string): Promise<RegionExit | undefined>;
  startRegion(region: string): Promise<RegionReadyReport>;
  status(): Promise<TwinStatus>;
  /** Stops every region (SIGTERM), then the global layer; removes controller.json. */
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

  await refuseIfRunning(layout);
  if (options.fresh) await layout.wipe();
  const regions = validateRegions(options.regions ?? (await layout.readSaved())?.regions ?? DEFAULT_TWIN_REGIONS, topology);
  const ports = await layout.portsFor(regions, topologyName);
  const replicatingUrl = (region: string) => `http://127.0.0.1:${ports.regions[region]!.replicatingDynamodb}`;

  let globalLayer: GlobalLayer | undefined;
  let shuttingDown = false;
  let saveState: () => Promise<void> = async () => undefined;
  const supervisors = new Map<string, RegionSupervisor>();
  // One operation per region at a time: a restart must not race the global layer following a kill of the region.
  const queues = new Map<string, Promise<unknown>>();
  const serialized = <T>(region: string, operation: () => Promise<T>): Promise<T> => {
    const next = (queues.get(region) ?? Promise.resolve()).catch(() => undefined).then(operation);
    queues.set(region, next);
    return next;
  };
  for (const region of regions) {
    supervisors.set(region, new RegionSupervisor({
      region,
      dataDir: layout.regionDir(region),
      logFile: layout.logFile(region),
      topology: topologyName,
      ports: ports.regions[region]!,
      dynamodbEndpointForFunctions: replicatingUrl(region),
      ...(options.regionReadyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.regionReadyTimeoutMs }),
      onExit: (exitedRegion, exit) => {
        if (shuttingDown) return;
        notify(`region ${exitedRegion} is down (${exit.requested ? 'asked' : 'unexpected'}: ${exit.signal ?? `exit code ${exit.code}`})`);
        // An outage of the region is an outage of its replicating endpoint too: peers' changes queue for it.
        void serialized(exitedRegion, async () => globalLayer?.regionDown(exitedRegion)).catch((error: unknown) => notify(`global layer could not follow ${exitedRegion} going down: ${String(error)}`));
        void saveState().catch(() => undefined);
      },
    }));
  }

  const arc = await startArc(layout, regions, ports);
  const startupByRegion: Record<string, number> = {};
  let controlServer: RunningControlServer | undefined;
  try {
    const reports = new Map<string, RegionReadyReport>();
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
      layout, topology, regions, reports, ports,
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

  const startedAt = began;
  const startupMs = { total: 0, regions: startupByRegion };
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
      components: layer.componentStatus(),
      totalRssMB: controllerRss + entries.reduce((sum, entry) => sum + (entry.rssMB ?? 0), 0),
    };
  };

  try {
    controlServer = await startControlServer(ports.controller, {
      status,
      regionAction: async (region: string, action: RegionAction) => {
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
    brokers: Object.fromEntries(regions.map((region) => [region, `stomp://127.0.0.1:${ports.regions[region]!.broker}`])),
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
        await controlServer.close();
        // Regions first: their functions may still write through the replicating endpoints while they drain.
        await Promise.all([...supervisors.values()].map((supervisor) => supervisor.stop()));
        await layer.close();
        await arc.close();
        await layout.removeState();
      })()),
  };
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

/**
 * A controller that answers on this directory is running: refuse. One that died without cleaning up may have left
 * region processes holding the ports and data: they are killed, as the outage they already are.
 */
async function refuseIfRunning(layout: TwinLayout): Promise<void> {
  const state = await layout.readState();
  if (!state) return;
  if (state.pid !== process.pid && processAlive(state.pid)) {
    const answers = await fetch(`${state.controlUrl}/status`, { signal: AbortSignal.timeout(2_000) }).then(() => true, () => false);
    if (answers) throw new TwinAlreadyRunningError(layout.dataDir, state.pid);
  }
  for (const pid of Object.values(state.regionPids)) {
    if (pid && processAlive(pid) && (await isRegionProcess(pid, layout.dataDir))) process.kill(pid, 'SIGKILL');
  }
  await layout.removeState();
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Only a process that is one of this twin's regions is ever killed, never a stranger that reused the pid. */
async function isRegionProcess(pid: number, dataDir: string): Promise<boolean> {
  const commandLine =
    (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined)) ??
    // No /proc (macOS): ask ps.
    (await execFileAsync('ps', ['-o', 'command=', '-p', String(pid)]).then(({ stdout }) => stdout, () => ''));
  return commandLine.includes('local/region/main.ts') && commandLine.includes(dataDir);
}
