import { AuroraGlobalCoordinator } from '#local/global/aurora/coordinator.ts';
import type { ReplicationStatus } from '#local/global/aurora/replica-shipper.ts';
import type { RegionReadyReport } from '#local/region/region.ts';
import { SETTLEMENT_SCHEMA, SETTLEMENT_TABLES } from '#shared/adapters/postgres/migrations/settlement.ts';
import { TRADE_MATCHING_SCHEMA, TRADE_MATCHING_TABLES } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import type { AppName } from '#shared/topology/schema.ts';
import type { AuroraCoordinatorStarter, GlobalLayerComponent, GlobalLayerContext } from '#local/controller/global-layer.ts';

/**
 * Every relational store of the manifest as an Aurora Global Database across the twin's regions: one coordinator
 * per database, shipping the writer's log to the other region through the regions' replication agents. The first
 * region writes until a switchover or failover says otherwise; the roles are kept on disk with the twin.
 */

const APP_SCHEMAS: Record<AppName, { schema: readonly string[]; tables: readonly string[] }> = {
  'trade-matching': { schema: TRADE_MATCHING_SCHEMA, tables: TRADE_MATCHING_TABLES },
  settlement: { schema: SETTLEMENT_SCHEMA, tables: SETTLEMENT_TABLES },
};

const STATUS_REFRESH_MS = 1_000;

export class MissingReplicationAgentError extends Error {
  override readonly name = 'MissingReplicationAgentError';
  constructor(region: string) {
    super(`region ${region} reported no Aurora replication agent; its databases cannot join a global database`);
  }
}

export interface AuroraDatabaseStatus {
  writer: string;
  secondaries: string[];
  detached: string[];
  rpoLagMs: number;
  replication: ReplicationStatus[];
}

const agentUrlOf = (region: string, report: RegionReadyReport) => {
  if (!report.endpoints.aurora) throw new MissingReplicationAgentError(region);
  return report.endpoints.aurora;
};

export const startAuroraGlobalDatabases: AuroraCoordinatorStarter = async (context: GlobalLayerContext) => {
  const coordinators = await Promise.all(
    context.topology.databases.map(async (database) => {
      const app = database.app;
      if (!app) throw new Error(`database ${database.name} belongs to no app, so Rotor has no schema for it`);
      const coordinator = new AuroraGlobalCoordinator({
        name: database.name,
        database: database.name,
        regions: Object.fromEntries(context.regions.map((region) => [region, agentUrlOf(region, context.reports.get(region)!)])),
        writer: context.regions[0]!,
        stateDir: `${context.layout.dataDir}/aurora`,
        ...APP_SCHEMAS[app],
      });
      await coordinator.start();
      return coordinator;
    }),
  );
  return new AuroraGlobalDatabases(coordinators);
};

class AuroraGlobalDatabases implements GlobalLayerComponent {
  readonly name = 'aurora';
  #latest: Record<string, AuroraDatabaseStatus> = {};
  readonly #refresh: NodeJS.Timeout;

  constructor(private readonly coordinators: readonly AuroraGlobalCoordinator[]) {
    // The status endpoint answers synchronously, so the lag is sampled in the background.
    this.#refresh = setInterval(() => void this.#sample(), STATUS_REFRESH_MS);
    this.#refresh.unref();
    void this.#sample();
  }

  async regionDown(): Promise<void> {
    // Nothing to do: the coordinators see the region's agent unreachable and let its lag grow.
  }

  async regionUp(region: string, report: RegionReadyReport): Promise<void> {
    for (const coordinator of this.coordinators) coordinator.setAgentUrl(region, agentUrlOf(region, report));
  }

  status(): Record<string, AuroraDatabaseStatus> {
    return this.#latest;
  }

  async close(): Promise<void> {
    clearInterval(this.#refresh);
    await Promise.all(this.coordinators.map((coordinator) => coordinator.close()));
  }

  async #sample(): Promise<void> {
    const entries = await Promise.all(
      this.coordinators.map(async (c): Promise<[string, AuroraDatabaseStatus]> => {
        const replication = await c.replicationStatus().catch(() => []);
        return [
          c.name,
          {
            writer: c.writerRegion,
            secondaries: c.secondaryRegions,
            detached: c.detachedRegions,
            rpoLagMs: replication.reduce((worst, r) => Math.max(worst, r.lagMs), 0),
            replication,
          },
        ];
      }),
    );
    this.#latest = Object.fromEntries(entries);
  }
}
