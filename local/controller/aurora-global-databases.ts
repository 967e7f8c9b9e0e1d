import { AuroraGlobalCoordinator } from '#local/global/aurora/coordinator.ts';
import { RdsGlobalClusterApi, type SettledOperation } from '#local/global/aurora/rds-api.ts';
import { startRdsApiServer, type RunningRdsApi } from '#local/global/aurora/rds-api-server.ts';
import type { ReplicationStatus } from '#local/global/aurora/replica-shipper.ts';
import type { RegionReadyReport } from '#local/region/region.ts';
import { SETTLEMENT_SCHEMA, SETTLEMENT_TABLES } from '#shared/adapters/postgres/migrations/settlement.ts';
import { TRADE_MATCHING_SCHEMA, TRADE_MATCHING_TABLES } from '#shared/adapters/postgres/migrations/trade-matching.ts';
import { globalClusterIdentifier } from '#shared/topology/global-database-names.ts';
import type { AppName } from '#shared/topology/schema.ts';
import type { AuroraCoordinatorStarter, GlobalLayerComponent, GlobalLayerContext } from '#local/controller/global-layer.ts';

/**
 * Every relational store of the manifest as an Aurora Global Database across the twin's regions: one coordinator
 * per database, shipping the writer's log to the other region through the regions' replication agents. The first
 * region writes until a switchover or failover says otherwise; the roles are kept on disk with the twin.
 *
 * Switchover and failover are asked for through the RDS API (rds-api.ts), served here on the twin's fixed `rds`
 * port so the functions, given its URL as AWS_ENDPOINT_URL_RDS when their region started, use `@aws-sdk/client-rds`
 * as on AWS. It lives in this process, not a region's, so a failover is served with the old writer's region dead.
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
  /** Its name in the RDS API, e.g. `rotor-tm-db`. */
  globalCluster: string;
  writer: string;
  secondaries: string[];
  detached: string[];
  rpoLagMs: number;
  replication: ReplicationStatus[];
  /** The last switchover or failover asked for through the RDS API that has finished, and how it ended. */
  lastOperation?: SettledOperation;
  /** What the last failover lost: the old writer's changes after the promotion point, recorded when it came back. */
  lastUnreplicatedTail?: { region: string; promotionLsn: number; recordedAt: string; changes: number };
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
  const api = new RdsGlobalClusterApi(coordinators.map((coordinator) => ({ database: coordinator.name, model: coordinator })));
  let server: RunningRdsApi;
  try {
    server = await startRdsApiServer(api, { port: context.ports.rds });
  } catch (error) {
    await Promise.all(coordinators.map((coordinator) => coordinator.close()));
    throw error;
  }
  return new AuroraGlobalDatabases(coordinators, api, server);
};

class AuroraGlobalDatabases implements GlobalLayerComponent {
  readonly name = 'aurora';
  #latest: Record<string, AuroraDatabaseStatus> = {};
  readonly #tails = new Map<string, NonNullable<AuroraDatabaseStatus['lastUnreplicatedTail']>>();
  readonly #refresh: NodeJS.Timeout;

  constructor(
    private readonly coordinators: readonly AuroraGlobalCoordinator[],
    private readonly api: RdsGlobalClusterApi,
    private readonly server: RunningRdsApi,
  ) {
    // The status endpoint answers synchronously, so the lag is sampled in the background.
    this.#refresh = setInterval(() => void this.#sample(), STATUS_REFRESH_MS);
    this.#refresh.unref();
    void this.#sample();
  }

  async regionDown(): Promise<void> {
    // Nothing to do: the coordinators see the region's agent unreachable and let its lag grow.
  }

  /**
   * A region cut off by a failover comes back as Aurora brings an old primary back: fenced, its unreplicated tail
   * recorded for the failback report, and rebuilt as a read-only secondary of the new writer.
   */
  async regionUp(region: string, report: RegionReadyReport): Promise<void> {
    for (const coordinator of this.coordinators) {
      coordinator.setAgentUrl(region, agentUrlOf(region, report));
      if (!coordinator.detachedRegions.includes(region)) continue;
      const tail = await coordinator.reattach(region);
      if (tail) this.#tails.set(coordinator.name, { region: tail.region, promotionLsn: tail.promotionLsn, recordedAt: tail.recordedAt, changes: tail.changes.length });
    }
    await this.#sample();
  }

  status(): Record<string, AuroraDatabaseStatus> {
    return this.#latest;
  }

  /** Chaos: stops shipping changes to every secondary (their lag grows) until resumed. */
  pauseShipping(): void {
    for (const coordinator of this.coordinators) coordinator.pause();
  }

  resumeShipping(): void {
    for (const coordinator of this.coordinators) coordinator.resume();
  }

  async close(): Promise<void> {
    clearInterval(this.#refresh);
    await this.server.close();
    // A switchover under way finishes (or gives up) before the coordinators stop, so the roles on disk are whole.
    await this.api.settled();
    await Promise.all(this.coordinators.map((coordinator) => coordinator.close()));
  }

  async #sample(): Promise<void> {
    const entries = await Promise.all(
      this.coordinators.map(async (c): Promise<[string, AuroraDatabaseStatus]> => {
        const replication = await c.replicationStatus().catch(() => []);
        const lastOperation = this.api.lastOperation(c.name);
        return [
          c.name,
          {
            globalCluster: globalClusterIdentifier(c.name),
            writer: c.writerRegion,
            secondaries: c.secondaryRegions,
            detached: c.detachedRegions,
            rpoLagMs: replication.reduce((worst, r) => Math.max(worst, r.lagMs), 0),
            replication,
            ...(lastOperation ? { lastOperation } : {}),
            ...(this.#tails.has(c.name) ? { lastUnreplicatedTail: this.#tails.get(c.name)! } : {}),
          },
        ];
      }),
    );
    this.#latest = Object.fromEntries(entries);
  }
}
