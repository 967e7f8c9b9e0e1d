import { rm } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { readFileIfPresent, writeFileDurably } from '#local/support/state-files.ts';
import { PortInUseError, TwinConfigurationError } from '#local/controller/errors.ts';

/**
 * Where a twin keeps everything on disk, and the ports it keeps across restarts. Ports are picked free on the
 * first start and saved, so endpoints (and the URLs handed to functions and to the replication links) stay the same
 * every time the twin or one of its regions comes back.
 *
 *   <data-dir>/twin.json               regions, manifest, ports and backends (kept)
 *   <data-dir>/controller.json         the running controller: pid, control URL, region pids (removed on a clean stop)
 *   <data-dir>/arc/                    routing-control states of the ARC cluster
 *   <data-dir>/aurora/                 roles of the Aurora global databases (served by the RDS API on `ports.rds`)
 *   <data-dir>/regions/<region>/       the region process's data, plus dynamo-replication/ (its global-tables log)
 *   <data-dir>/logs/<region>.log       the region process's JSON log lines
 */

export const DEFAULT_TWIN_DATA_DIR = '.rotor/twin';
export const DEFAULT_TWIN_REGIONS = ['us-east-1', 'us-west-2'] as const;
export const ARC_ENDPOINT_COUNT = 3;

export interface RegionPorts {
  readonly kinesis: number;
  readonly dynamodb: number;
  readonly broker: number;
  readonly status: number;
  /** The region's replicating DynamoDB endpoint (global tables), served by the controller. */
  readonly replicatingDynamodb: number;
}

export interface TwinPorts {
  readonly controller: number;
  readonly arc: readonly number[];
  /** The RDS API (global clusters) of the Aurora global databases, in the global layer; functions get it as AWS_ENDPOINT_URL_RDS. */
  readonly rds: number;
  readonly regions: Readonly<Record<string, RegionPorts>>;
}

/** Where the twin's data lives besides its directory; a twin resumes only on the same ones. */
export interface TwinBackends {
  /** `pglite`, or the PostgreSQL server (password left out). */
  readonly databases: string;
  /** `embedded`, or the broker URLs, comma-separated. */
  readonly brokers: string;
}

export interface SavedTwinLayout {
  readonly regions: readonly string[];
  readonly topology: string;
  readonly ports: TwinPorts;
  /** Absent in layouts saved before backends could be chosen: those twins ran on PGlite and embedded brokers. */
  readonly backends?: TwinBackends;
}

export interface ControllerStateFile {
  readonly pid: number;
  readonly controlUrl: string;
  readonly dataDir: string;
  readonly startedAt: string;
  /** Region process ids, so a controller that died without cleaning up can have its orphans stopped. */
  readonly regionPids: Readonly<Record<string, number | null>>;
}

export class TwinLayout {
  readonly dataDir: string;

  constructor(dataDir: string) {
    this.dataDir = path.resolve(dataDir);
  }

  get layoutFile(): string {
    return path.join(this.dataDir, 'twin.json');
  }

  get stateFile(): string {
    return path.join(this.dataDir, 'controller.json');
  }

  get arcDir(): string {
    return path.join(this.dataDir, 'arc');
  }

  regionDir(region: string): string {
    return path.join(this.dataDir, 'regions', region);
  }

  logFile(region: string): string {
    return path.join(this.dataDir, 'logs', `${region}.log`);
  }

  async readSaved(): Promise<SavedTwinLayout | undefined> {
    return readJson<SavedTwinLayout>(this.layoutFile);
  }

  /**
   * The ports of the saved layout for the given regions, with free ports picked (and saved) for anything new.
   * The saved layout keeps ports of regions not asked for this time, so they come back the same later.
   */
  async portsFor(regions: readonly string[], topology: string, backends: TwinBackends = DEFAULT_BACKENDS): Promise<TwinPorts> {
    const saved = await this.readSaved();
    if (saved && saved.topology !== topology) {
      throw new TwinConfigurationError(`${this.dataDir} holds a twin of the ${saved.topology} manifest, not ${topology}; use --fresh or another --data-dir`);
    }
    this.assertSameBackends(saved, backends);
    const missingRegions = regions.filter((region) => !saved?.ports.regions[region]);
    // Layouts saved before the RDS API existed get its port now, and keep it from then on.
    const missingRds = saved?.ports.rds === undefined;
    const needed = (saved ? 0 : 1 + ARC_ENDPOINT_COUNT) + (missingRds ? 1 : 0) + missingRegions.length * 5;
    const free = await freePorts(needed);
    const take = () => free.shift() as number;
    const regionPorts: Record<string, RegionPorts> = { ...saved?.ports.regions };
    const controller = saved?.ports.controller ?? take();
    const arc = saved?.ports.arc ?? Array.from({ length: ARC_ENDPOINT_COUNT }, take);
    const rds = saved?.ports.rds ?? take();
    for (const region of missingRegions) {
      regionPorts[region] = { kinesis: take(), dynamodb: take(), broker: take(), status: take(), replicatingDynamodb: take() };
    }
    const ports: TwinPorts = { controller, arc, rds, regions: regionPorts };
    const knownRegions = [...new Set([...(saved?.regions ?? []), ...regions])];
    if (!saved || missingRegions.length > 0 || missingRds || !saved.backends) {
      await writeJson(this.layoutFile, { regions: knownRegions, topology, ports, backends } satisfies SavedTwinLayout);
    }
    return ports;
  }

  /** A twin resumes only on the stores it used: its checkpoints and replication positions describe their data. */
  assertSameBackends(saved: SavedTwinLayout | undefined, backends: TwinBackends): void {
    if (!saved) return;
    const savedBackends = saved.backends ?? DEFAULT_BACKENDS;
    for (const key of ['databases', 'brokers'] as const) {
      if (savedBackends[key] !== backends[key]) {
        throw new TwinConfigurationError(
          `${this.dataDir} holds a twin whose ${key} are ${savedBackends[key]}, not ${backends[key]}; start it as before, or use --fresh (wipes it) or another --data-dir`,
        );
      }
    }
  }

  async readState(): Promise<ControllerStateFile | undefined> {
    return readJson<ControllerStateFile>(this.stateFile);
  }

  async writeState(state: ControllerStateFile): Promise<void> {
    await writeJson(this.stateFile, state);
  }

  async removeState(): Promise<void> {
    await rm(this.stateFile, { force: true });
  }

  /** `--fresh`: everything the twin ever stored here goes. */
  async wipe(): Promise<void> {
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

async function readJson<T>(file: string): Promise<T | undefined> {
  try {
    const text = await readFileIfPresent(file);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  } catch (error) {
    throw new TwinConfigurationError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await writeFileDurably(file, `${JSON.stringify(value, null, 2)}\n`);
}

export const DEFAULT_BACKENDS: TwinBackends = { databases: 'pglite', brokers: 'embedded' };

/** Every port of the layout the given regions use, and which component owns it. */
export function portOwners(ports: TwinPorts, regions: readonly string[], { embeddedBrokers = true } = {}): { port: number; component: string }[] {
  return [
    { port: ports.controller, component: 'controller' },
    ...ports.arc.map((port, index) => ({ port, component: `ARC cluster endpoint ${index + 1}` })),
    { port: ports.rds, component: 'RDS API (Aurora global databases)' },
    ...regions.flatMap((region) => {
      const owned = ports.regions[region]!;
      return [
        { port: owned.kinesis, component: `${region} kinesis` },
        { port: owned.dynamodb, component: `${region} dynamodb` },
        ...(embeddedBrokers ? [{ port: owned.broker, component: `${region} broker` }] : []),
        { port: owned.status, component: `${region} status` },
        { port: owned.replicatingDynamodb, component: `${region} replicating dynamodb` },
      ];
    }),
  ];
}

/**
 * Checks, before anything starts, that every saved port can be bound on 127.0.0.1: a port taken by a stranger
 * would otherwise surface as a region failing half-way through its start.
 */
export async function assertPortsFree(owners: readonly { port: number; component: string }[], dataDir: string): Promise<void> {
  const outcomes = await Promise.all(
    owners.map(
      ({ port }) =>
        new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
          const probe = createServer();
          probe.once('error', (error: NodeJS.ErrnoException) => resolve(error));
          probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(undefined)));
        }),
    ),
  );
  const taken = outcomes.findIndex((error) => error !== undefined);
  if (taken === -1) return;
  const { port, component } = owners[taken]!;
  if (outcomes[taken]!.code === 'EADDRINUSE') throw new PortInUseError(port, component, dataDir);
  throw new TwinConfigurationError(`cannot listen on 127.0.0.1:${port} (${component}): ${outcomes[taken]!.message}`);
}

/** Free ports on 127.0.0.1, all held open together while picking so none is handed out twice. */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
        const server = createServer();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}
