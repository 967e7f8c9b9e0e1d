interface Waiter<In, Out> {
  readonly inputs: readonly In[];
  readonly resolve: (outputs: Out[]) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Turns many small concurrent calls into few large ones, as the log's shared fsync does: the first submission runs
 * at once, and whatever is submitted while a run is in flight goes together in the next run. Under no load nothing
 * waits; under load the batches grow with the load.
 */
export class GroupCommit<In, Out> {
  private queued: Waiter<In, Out>[] = [];
  private running = false;

  /** `run` must answer one output per input, in input order. */
  constructor(private readonly run: (inputs: In[]) => Promise<Out[]>) {}

  submit(inputs: readonly In[]): Promise<Out[]> {
    if (inputs.length === 0) return Promise.resolve([]);
    return new Promise<Out[]>((resolve, reject) => {
      this.queued.push({ inputs, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queued.length > 0) {
        const group = this.queued;
        this.queued = [];
        try {
          const outputs = await this.run(group.flatMap((waiter) => waiter.inputs));
          let offset = 0;
          for (const waiter of group) {
            waiter.resolve(outputs.slice(offset, offset + waiter.inputs.length));
            offset += waiter.inputs.length;
          }
        } catch (error) {
          for (const waiter of group) waiter.reject(error as Error);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
