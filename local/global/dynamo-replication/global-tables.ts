import { join } from 'node:path';
import { GlobalTablesConfigurationError } from '#local/global/dynamo-replication/errors.ts';
import type { ItemChange, ReplicatedTable } from '#local/global/dynamo-replication/item-change.ts';
import { startReplicatingEndpoint, type ReplicatingEndpoint } from '#local/global/dynamo-replication/replicating-endpoint.ts';
import { ReplicationLink, type EndpointDirectory, type LinkMetrics } from '#local/global/dynamo-replication/replication-link.ts';

export interface GlobalTablesRegion {
  readonly region: string;
  /** The region's dynalite. */
  readonly upstreamUrl: string;
  /** The region's data directory; the replication state goes in its `dynamo-replication/` folder. */
  readonly dataDir: string;
  /** Fixed port for the region's endpoint; 0 or absent picks one (kept across stopRegion/startRegion). */
  readonly port?: number;
}

export interface GlobalTablesOptions {
  readonly regions: readonly GlobalTablesRegion[];
  readonly tables: readonly ReplicatedTable[];
  /** Delay before an async change is shipped, per link; default 300 ms. */
  readonly lagMs?: number;
  /** How long a write to a sync table waits for its peers before it is rolled back and fails; default 1000 ms. */
  readonly syncTimeoutMs?: number;
}

export interface GlobalTablesMetrics {
  readonly links: LinkMetrics[];
  /** Per region; null while the region's endpoint is stopped. */
  readonly endpoints: Record<string, ReturnType<ReplicatingEndpoint['metrics']> | null>;
}

const DEFAULT_SYNC_TIMEOUT_MS = 1_000;

/**
 * DynamoDB global tables across N regions of the twin: one replicating endpoint per region (hand its `url` to the
 * region's handlers as their DynamoDB endpoint) and one link per ordered pair of regions, with chaos controls.
 */
export class GlobalTables implements EndpointDirectory {
  private readonly running = new Map<string, ReplicatingEndpoint>();
  private readonly regions = new Map<string, GlobalTablesRegion>();
  private readonly links: ReplicationLink[] = [];
  private readonly syncTimeoutMs: number;
  private requestFault: ((region: string, operation: string) => boolean) | undefined;

  private constructor(private readonly options: GlobalTablesOptions) {
    this.syncTimeoutMs = options.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    for (const region of options.regions) {
      if (this.regions.has(region.region)) throw new GlobalTablesConfigurationError(`region ${region.region} is listed twice`);
      this.regions.set(region.region, region);
    }
    if (this.regions.size < 2) throw new GlobalTablesConfigurationError('a global table needs at least two regions');
  }

  static async start(options: GlobalTablesOptions): Promise<GlobalTables> {
    const globalTables = new GlobalTables(options);
    try {
      for (const region of globalTables.regions.keys()) await globalTables.startRegion(region);
    } catch (error) {
      await globalTables.close();
      throw error;
    }
    for (const from of globalTables.regions.keys()) {
      for (const to of globalTables.regions.keys()) {
        if (from !== to) globalTables.links.push(new ReplicationLink({ from, to, endpoints: globalTables, lagMs: options.lagMs }));
      }
    }
    return globalTables;
  }

  endpoint(region: string): ReplicatingEndpoint | undefined {
    return this.running.get(region);
  }

  /** The URL the region's handlers use as their DynamoDB endpoint. */
  endpointUrl(region: string): string {
    const endpoint = this.running.get(region);
    if (!endpoint) throw new GlobalTablesConfigurationError(`region ${region} is not running`);
    return endpoint.url;
  }

  /** Brings a region's endpoint (back) up on its port and data directory; links resume shipping to and from it. */
  async startRegion(region: string, { upstreamUrl }: { upstreamUrl?: string } = {}): Promise<ReplicatingEndpoint> {
    const config = this.regionConfig(region);
    if (upstreamUrl) this.regions.set(region, { ...config, upstreamUrl });
    const existing = this.running.get(region);
    if (existing) return existing;
    const endpoint = await startReplicatingEndpoint({
      region,
      upstreamUrl: upstreamUrl ?? config.upstreamUrl,
      dataDir: join(config.dataDir, 'dynamo-replication'),
      tables: this.options.tables,
      port: config.port ?? 0,
      throttles: (throttledRegion, operation) => this.requestFault?.(throttledRegion, operation) ?? false,
    });
    // Same URL after a restart, so handlers configured with it keep working.
    this.regions.set(region, { ...this.regionConfig(region), port: endpoint.port });
    endpoint.setSyncReplicator((changes) => this.replicateSynchronously(region, changes));
    this.running.set(region, endpoint);
    return endpoint;
  }

  /** Takes a region's endpoint down (as a region outage does); its unshipped changes stay in its log on disk. */
  async stopRegion(region: string): Promise<void> {
    this.regionConfig(region);
    const endpoint = this.running.get(region);
    this.running.delete(region);
    await endpoint?.close();
  }

  /** Pauses shipping from `from` to `to`, or every link when no region is given. */
  /** Chaos: throttles the requests clients make to the replicating endpoints while `fault` says so; undefined ends it. */
  setRequestFault(fault: ((region: string, operation: string) => boolean) | undefined): void {
    this.requestFault = fault;
  }

  pause(from?: string, to?: string): void {
    for (const link of this.linksBetween(from, to)) link.pause();
  }

  resume(from?: string, to?: string): void {
    for (const link of this.linksBetween(from, to)) link.resume();
  }

  /** Cuts both directions between two regions; async changes queue, sync writes fail after the timeout. */
  partition(a: string, b: string): void {
    for (const link of [...this.linksBetween(a, b), ...this.linksBetween(b, a)]) link.cut();
  }

  /** Restores the links between two regions, or every link when none are given. */
  heal(a?: string, b?: string): void {
    const links = a === undefined ? this.links : [...this.linksBetween(a, b), ...(b === undefined ? this.linksTo(a) : this.linksBetween(b, a))];
    for (const link of links) link.restore();
  }

  link(from: string, to: string): ReplicationLink {
    const [link] = this.linksBetween(from, to);
    if (!link) throw new GlobalTablesConfigurationError(`no link from ${from} to ${to}`);
    return link;
  }

  metrics(): GlobalTablesMetrics {
    const endpoints: GlobalTablesMetrics['endpoints'] = {};
    for (const region of this.regions.keys()) endpoints[region] = this.running.get(region)?.metrics() ?? null;
    return { links: this.links.map((link) => link.metrics()), endpoints };
  }

  async close(): Promise<void> {
    await Promise.all(this.links.map((link) => link.close()));
    await Promise.all([...this.running.keys()].map((region) => this.stopRegion(region)));
  }

  /**
   * MRSC with a witness: every peer that is up must confirm (a cut link or a paused one fails the write), while a peer
   * region that is down — an outage, not a partition — does not block the survivors; it catches up from the log.
   */
  private async replicateSynchronously(origin: string, changes: readonly ItemChange[]): Promise<{ deferredTo: string[] }> {
    const deadline = Date.now() + this.syncTimeoutMs;
    const links = this.links.filter((link) => link.from === origin);
    const down = links.filter((link) => !this.running.has(link.to));
    await Promise.all(links.filter((link) => this.running.has(link.to)).map((link) => link.deliverSynchronously(changes, deadline)));
    return { deferredTo: down.map((link) => link.to) };
  }

  private linksBetween(from: string | undefined, to: string | undefined): ReplicationLink[] {
    if (from !== undefined) this.regionConfig(from);
    if (to !== undefined) this.regionConfig(to);
    return this.links.filter((link) => (from === undefined || link.from === from) && (to === undefined || link.to === to));
  }

  private linksTo(region: string): ReplicationLink[] {
    return this.links.filter((link) => link.to === region);
  }

  private regionConfig(region: string): GlobalTablesRegion {
    const config = this.regions.get(region);
    if (!config) throw new GlobalTablesConfigurationError(`unknown region ${region}`);
    return config;
  }
}
