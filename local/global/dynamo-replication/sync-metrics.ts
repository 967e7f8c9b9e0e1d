/** Latency figures in the shape CloudWatch shows them for one metric: last, average and maximum datapoint. */
export interface LatencySummary {
  readonly count: number;
  readonly lastMs: number;
  readonly averageMs: number;
  readonly maxMs: number;
}

export class LatencyRecorder {
  private count = 0;
  private totalMs = 0;
  private lastMs = 0;
  private maxMs = 0;

  record(ms: number): void {
    this.count++;
    this.totalMs += ms;
    this.lastMs = ms;
    this.maxMs = Math.max(this.maxMs, ms);
  }

  summary(): LatencySummary {
    return { count: this.count, lastMs: this.lastMs, averageMs: this.count === 0 ? 0 : Math.round(this.totalMs / this.count), maxMs: this.maxMs };
  }
}

/** What a synchronous (MRSC) table costs: how long its writes waited for the peers, and how many could not commit. */
export interface SyncTableMetrics {
  /** Time from the local write to every peer having applied it, for writes that committed. */
  readonly peerWait: LatencySummary;
  readonly committed: number;
  /** Rolled back because a peer was partitioned, paused or down past the deadline. */
  readonly unavailable: number;
  /** Rolled back because the peer was writing the same item. */
  readonly conflicts: number;
}

export class SyncTableRecorder {
  readonly peerWait = new LatencyRecorder();
  committed = 0;
  unavailable = 0;
  conflicts = 0;

  summary(): SyncTableMetrics {
    return { peerWait: this.peerWait.summary(), committed: this.committed, unavailable: this.unavailable, conflicts: this.conflicts };
  }
}
