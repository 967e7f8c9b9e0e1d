import { writeFileDurably } from '#local/support/state-files.ts';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ExecutionHistoryCorruptError } from '#local/stepfunctions/errors.ts';
import type { ExecutionRecord } from '#local/stepfunctions/execution.ts';

/**
 * Execution history on disk: one JSON file per execution under
 * `<dataDir>/stepfunctions/<state machine>/executions/`, so `rotor` and the dashboard still show past
 * rotations after a region restarts. Files are replaced atomically, so a region killed mid-write leaves the
 * previous version rather than half a file.
 */

export const INTERRUPTED_ERROR = 'Rotor.ExecutionInterrupted';

/** Saves of a running execution are coalesced to at most one per this many milliseconds. */
const SAVE_INTERVAL_MS = 200;

export class ExecutionStore {
  readonly directory: string;
  readonly #pendingSaves = new Map<string, { record: ExecutionRecord; timer: NodeJS.Timeout }>();
  readonly #writes = new Map<string, Promise<void>>();

  constructor(dataDir: string, stateMachineName: string) {
    this.directory = join(dataDir, 'stepfunctions', stateMachineName, 'executions');
  }

  /**
   * Reads every stored execution. One that was RUNNING when its process died cannot be resumed by the local
   * engine, so it is stored back as FAILED with error Rotor.ExecutionInterrupted rather than shown as running forever.
   */
  async loadAll(): Promise<ExecutionRecord[]> {
    await mkdir(this.directory, { recursive: true });
    const files = (await readdir(this.directory)).filter((file) => file.endsWith('.json'));
    const records: ExecutionRecord[] = [];
    for (const file of files) {
      const path = join(this.directory, file);
      let record: ExecutionRecord;
      try {
        record = JSON.parse(await readFile(path, 'utf8')) as ExecutionRecord;
      } catch (error) {
        throw new ExecutionHistoryCorruptError(`execution history file ${path} is not readable JSON: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (record.status === 'RUNNING') {
        record.status = 'FAILED';
        record.stopDate = new Date().toISOString();
        record.error = INTERRUPTED_ERROR;
        record.cause = 'the process running this execution stopped before it finished; start a new execution';
        await this.saveNow(record);
      }
      records.push(record);
    }
    return records;
  }

  /** Saves soon, coalescing bursts of events (a Map over many items) into one write. */
  saveSoon(record: ExecutionRecord): void {
    if (this.#pendingSaves.has(record.name)) return;
    const timer = setTimeout(() => {
      this.#pendingSaves.delete(record.name);
      void this.saveNow(record).catch(() => undefined);
    }, SAVE_INTERVAL_MS);
    timer.unref();
    this.#pendingSaves.set(record.name, { record, timer });
  }

  /** Writes now; writes of one execution happen in call order, so the last call wins on disk. */
  async saveNow(record: ExecutionRecord): Promise<void> {
    const pending = this.#pendingSaves.get(record.name);
    if (pending) {
      clearTimeout(pending.timer);
      this.#pendingSaves.delete(record.name);
    }
    const text = JSON.stringify(record, null, 2);
    const previous = this.#writes.get(record.name) ?? Promise.resolve();
    const write = previous
      .catch(() => undefined)
      .then(async () => {
        await writeFileDurably(join(this.directory, `${record.name}.json`), text);
      });
    this.#writes.set(record.name, write);
    try {
      await write;
    } finally {
      if (this.#writes.get(record.name) === write) this.#writes.delete(record.name);
    }
  }

  /** Writes whatever is still waiting; call before the process exits. */
  async flush(): Promise<void> {
    const pending = [...this.#pendingSaves.values()].map(({ record }) => this.saveNow(record));
    await Promise.all([...pending, ...this.#writes.values()]);
  }
}
