/**
 * A doorbell per stream name, rung by the region's kinesalite front when a put succeeds, so a caught-up shard
 * consumer sleeps until records arrive instead of polling. Every waiter on a stream wakes on its ring.
 *
 * Each stream also counts its rings. A consumer reads the count before GetRecords and passes it to `wait`: a put
 * that lands after GetRecords read the shard but before the wait began has moved the count, so the wait returns at
 * once instead of sleeping through the put.
 */

export type StreamWakeReason = 'rung' | 'timeout' | 'aborted';

export class StreamActivity {
  private readonly ringCounts = new Map<string, number>();
  /** Rings of every stream at once, for puts whose stream name could not be read. */
  private broadcasts = 0;
  private readonly waiters = new Map<string, Set<(reason: StreamWakeReason) => void>>();

  /** A count that moves whenever `stream` is rung; compare two readings, never interpret the value. */
  rings(stream: string): number {
    return (this.ringCounts.get(stream) ?? 0) + this.broadcasts;
  }

  ring(stream: string): void {
    this.ringCounts.set(stream, (this.ringCounts.get(stream) ?? 0) + 1);
    this.wake(this.waiters.get(stream));
  }

  /** A spurious wake costs one empty GetRecords; a missed one costs a whole idle timeout. */
  ringAll(): void {
    this.broadcasts += 1;
    for (const waiting of this.waiters.values()) this.wake(waiting);
  }

  /** How many waits are pending on `stream`; lets tests and status see that consumers went idle. */
  waiting(stream: string): number {
    return this.waiters.get(stream)?.size ?? 0;
  }

  /**
   * Resolves when `stream` is rung, `timeoutMs` passes, or `signal` aborts. With `seenRings` (a `rings(stream)`
   * reading), resolves 'rung' at once if the stream was rung since that reading.
   */
  wait(stream: string, timeoutMs: number, signal: AbortSignal, seenRings?: number): Promise<StreamWakeReason> {
    if (signal.aborted) return Promise.resolve('aborted');
    if (seenRings !== undefined && seenRings !== this.rings(stream)) return Promise.resolve('rung');
    return new Promise((resolve) => {
      let waiting = this.waiters.get(stream);
      if (!waiting) {
        waiting = new Set();
        this.waiters.set(stream, waiting);
      }
      const streamWaiters = waiting;
      const settle = (reason: StreamWakeReason) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        streamWaiters.delete(settle);
        if (streamWaiters.size === 0 && this.waiters.get(stream) === streamWaiters) this.waiters.delete(stream);
        resolve(reason);
      };
      const onAbort = () => settle('aborted');
      const timer = setTimeout(settle, timeoutMs, 'timeout');
      signal.addEventListener('abort', onAbort, { once: true });
      streamWaiters.add(settle);
    });
  }

  private wake(waiting: Set<(reason: StreamWakeReason) => void> | undefined): void {
    // Copied first: each waiter removes itself from the set as it settles.
    if (waiting) for (const settle of [...waiting]) settle('rung');
  }
}
