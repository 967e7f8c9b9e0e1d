/**
 * Tracks the records of one shard from the moment they are read until they are finished, in sequence order.
 * With several concurrent batches per shard (ParallelizationFactor) records finish out of order; the shard's
 * checkpoint may only move over a contiguous run of finished records, so nothing unfinished is ever skipped.
 */
export class CheckpointTracker<TRecord extends { sequenceNumber: string }> {
  private readonly pending: TRecord[] = [];
  private head = 0;
  private readonly finished = new Set<string>();

  /** Registers records in the order they were read (which is sequence order). */
  track(records: readonly TRecord[]): void {
    this.pending.push(...records);
  }

  /**
   * Marks records finished; returns the new checkpoint sequence number when the contiguous finished prefix grew,
   * otherwise undefined.
   */
  finish(records: readonly TRecord[]): string | undefined {
    for (const record of records) this.finished.add(record.sequenceNumber);
    let advancedTo: string | undefined;
    while (this.head < this.pending.length) {
      const next = this.pending[this.head] as TRecord;
      if (!this.finished.delete(next.sequenceNumber)) break;
      advancedTo = next.sequenceNumber;
      this.head += 1;
    }
    // Drop the consumed prefix now and then instead of shifting on every record.
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    return advancedTo;
  }

  /** The oldest record read but not yet covered by the checkpoint. */
  oldestUnfinished(): TRecord | undefined {
    return this.pending[this.head];
  }

  get unfinishedCount(): number {
    return this.pending.length - this.head;
  }
}
