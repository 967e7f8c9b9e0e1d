/**
 * Runs tasks concurrently across keys and one after another within a key, the ordering Kinesis itself promises
 * (per partition key). A task whose key's earlier task failed does not run and fails with
 * `EarlierRecordFailedError`, so a key's records never overtake one that must be delivered again — unless that
 * failure says it may be overtaken (`overtakable`): a record that had no effect and waits for one behind it (a
 * settlement result that came before its trade's legs) must not hold them back.
 */

/** A failure that changed nothing and may be retried after the records behind it. */
export interface Overtakable {
  readonly overtakable: true;
}

const isOvertakable = (error: unknown): error is Overtakable => (error as Partial<Overtakable> | null)?.overtakable === true;
export class EarlierRecordFailedError extends Error {
  override readonly name = 'EarlierRecordFailedError';
}

export class KeyOrder {
  private readonly lastOfKey = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.lastOfKey.get(key);
    const next = previous
      ? previous.then(
          task,
          (error: unknown) => {
            if (isOvertakable(error)) return task();
            throw new EarlierRecordFailedError(`an earlier record with partition key ${key} failed: ${error instanceof Error ? error.message : String(error)}`);
          },
        )
      : task();
    this.lastOfKey.set(key, next);
    return next;
  }
}
