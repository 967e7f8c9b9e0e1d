import { startArcEmulator, type RunningArcEmulator } from '#local/global/arc/emulator.ts';
import { GlobalTables } from '#local/global/dynamo-replication/global-tables.ts';
import type { ReplicatedTable } from '#local/global/dynamo-replication/item-change.ts';
import type { RegionReadyReport } from '#local/region/region.ts';
import type { Topology } from '#shared/topology/schema.ts';
import type { TwinLayout, TwinPorts } from '#local/controller/twin-layout.ts';

/**
 * The twin's global layer, run inside the controller's process: the Route 53 ARC cluster and the DynamoDB global
 * tables (one replicating endpoint per region in front of its dynalite, one link per direction). It sits beside
 * the region supervisors because it must follow every region outage at once: a region that goes down takes its
 * replicating endpoint down with it (its port refuses connections, peers' changes queue up for it), and one that
 * comes back gets the endpoint back on the same port.
 */

/** A part of the global layer that follows region outages; the Aurora Global Database coordinator is one. */
export interface GlobalLayerComponent {
  readonly name: string;
  regionDown(region: string): Promise<void>;
  regionUp(region: string, report: RegionReadyReport): Promise<void>;
  status(): unknown;
  close(): Promise<void>;
  /** Chaos: a replicating component (Aurora) stops and resumes shipping. */
  pauseShipping?(): void;
  resumeShipping?(): void;
}

export interface GlobalLayerContext {
  readonly layout: TwinLayout;
  readonly topology: Topology;
  readonly regions: readonly string[];
  /** The ready report of every region, as it came up (databases included: `endpoints.databases`). */
  readonly reports: ReadonlyMap<string, RegionReadyReport>;
  /** The twin's fixed ports; the Aurora component serves the RDS API on `ports.rds`. */
  readonly ports: TwinPorts;
}

/**
 * Hook for the Aurora Global Database coordinator (`local/global/aurora`): started once every region is up and
 * the global tables run, told about every region outage and return, shown in `rotor status` under `aurora`. It also
 * serves the RDS API on `ports.rds`, whose URL the regions' functions were given before it started.
 */
export type AuroraCoordinatorStarter = (context: GlobalLayerContext) => Promise<GlobalLayerComponent>;

export interface GlobalLayerOptions extends GlobalLayerContext {
  readonly replicationLagMs?: number;
  readonly startAuroraCoordinator?: AuroraCoordinatorStarter;
}

/**
 * Every safe-store and idempotency table of the manifest is a global table, in the mode the manifest gives it, and so
 * is every app's results table (the generator's runs: verify must find them in whichever region is active).
 */
export function replicatedTablesOf(topology: Topology): ReplicatedTable[] {
  return topology.tables
    .filter((table) => table.purpose === 'safe-store' || table.purpose === 'idempotency' || (table.purpose === 'results' && table.app !== undefined))
    .map((table) => ({ name: table.name, mode: table.replication }));
}

export async function startArc(layout: TwinLayout, regions: readonly string[], ports: TwinPorts, generatorInitially: 'On' | 'Off' = 'On'): Promise<RunningArcEmulator> {
  // With no saved state the first region starts active: its dns, queue and app controls On.
  // The generator control starts On: `rotor generate` sends when asked; operators turn it Off to stop all load.
  return startArcEmulator({ dataDir: layout.arcDir, regions, ports: ports.arc, activeRegion: regions[0]!, generatorInitially });
}

export class GlobalLayer {
  private constructor(
    readonly arc: RunningArcEmulator,
    readonly globalTables: GlobalTables,
    readonly replicatedTables: readonly ReplicatedTable[],
    private readonly components: GlobalLayerComponent[],
  ) {}

  /** Starts the global tables (the regions' dynalite must be up) and, when hooked in, the Aurora coordinator. */
  static async start(arc: RunningArcEmulator, options: GlobalLayerOptions): Promise<GlobalLayer> {
    const replicatedTables = replicatedTablesOf(options.topology);
    const globalTables = await GlobalTables.start({
      regions: options.regions.map((region) => ({
        region,
        upstreamUrl: options.reports.get(region)!.endpoints.dynamodb,
        dataDir: options.layout.regionDir(region),
        port: options.ports.regions[region]!.replicatingDynamodb,
      })),
      tables: replicatedTables,
      ...(options.replicationLagMs === undefined ? {} : { lagMs: options.replicationLagMs }),
    });
    const components: GlobalLayerComponent[] = [];
    try {
      if (options.startAuroraCoordinator) components.push(await options.startAuroraCoordinator(options));
    } catch (error) {
      await globalTables.close();
      throw error;
    }
    return new GlobalLayer(arc, globalTables, replicatedTables, components);
  }

  async regionDown(region: string): Promise<void> {
    await this.globalTables.stopRegion(region);
    for (const component of this.components) await component.regionDown(region);
  }

  async regionUp(region: string, report: RegionReadyReport): Promise<void> {
    await this.globalTables.startRegion(region, { upstreamUrl: report.endpoints.dynamodb });
    for (const component of this.components) await component.regionUp(region, report);
  }

  /** Every component's change shipping (the Aurora Global Databases), paused and resumed together. */
  readonly shipping = {
    pause: (): void => this.components.forEach((component) => component.pauseShipping?.()),
    resume: (): void => this.components.forEach((component) => component.resumeShipping?.()),
  };

  componentStatus(): Record<string, unknown> {
    return Object.fromEntries(this.components.map((component) => [component.name, component.status()]));
  }

  async close(): Promise<void> {
    for (const component of this.components.splice(0).reverse()) await component.close();
    await this.globalTables.close();
  }
}
