/**
 * Serializes work per item inside one endpoint, so a client write, the version bookkeeping around it and a
 * replicated change for the same item never interleave. Keys are taken in sorted order, so batches cannot deadlock.
 */
export class KeyLocks {
  private readonly tails = new Map<string, Promise<void>>();

  async withKeys<T>(ids: readonly string[], work: () => Promise<T>): Promise<T> {
    const unique = [...new Set(ids)].sort();
    const releases: (() => void)[] = [];
    try {
      for (const id of unique) releases.push(await this.acquire(id));
      return await work();
    } finally {
      for (const release of releases.reverse()) release();
    }
  }

  private async acquire(id: string): Promise<() => void> {
    const previous = this.tails.get(id) ?? Promise.resolve();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => held);
    this.tails.set(id, tail);
    await previous;
    return () => {
      release();
      if (this.tails.get(id) === tail) this.tails.delete(id);
    };
  }
}
