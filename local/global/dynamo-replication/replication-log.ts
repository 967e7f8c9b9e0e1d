import { readFileIfPresent, writeFileDurably } from '#local/support/state-files.ts';
import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ReplicationClosedError, ReplicationLogCorruptError } from '#local/global/dynamo-replication/errors.ts';
import type { ItemChange, UnsequencedChange } from '#local/global/dynamo-replication/item-change.ts';

type PositionsFile = { version: 1; shippedThrough: Record<string, number> };

const COMPACT_AFTER_SHIPPED_ENTRIES = 2_000;

/**
 * The region's durable record of its own writes to replicated tables, one JSON line per change. append() resolves
 * only after the lines are fsynced, and the endpoint answers the client only after that, so an acknowledged write
 * reaches every peer even if the process dies right after answering. Concurrent appends share one fsync.
 *
 * Each peer's position ("shipped through seq N") lives in positions.json beside the log, written atomically, so a
 * link resumes where it stopped; entries every known peer has are dropped when the file is compacted.
 */
export class ReplicationLog {
  private entries: ItemChange[] = [];
  private shippedThrough: Record<string, number> = {};
  private nextSeq = 1;
  private lastLoggedAtMs = 0;
  private queued: { lines: string; done: () => void; failed: (error: Error) => void }[] = [];
  private writing: Promise<void> = Promise.resolve();
  private positionsWriting: Promise<void> = Promise.resolve();
  private droppedSinceCompaction = 0;
  private closed = false;

  private constructor(
    private readonly logPath: string,
    private readonly positionsPath: string,
    private handle: FileHandle,
  ) {}

  static async open(dataDir: string): Promise<ReplicationLog> {
    await mkdir(dataDir, { recursive: true });
    const logPath = join(dataDir, 'replication.log');
    const positionsPath = join(dataDir, 'positions.json');
    const entries = await readEntries(logPath);
    const log = new ReplicationLog(logPath, positionsPath, await open(logPath, 'a'));
    log.shippedThrough = await readPositions(positionsPath);
    log.entries = entries;
    const last = entries.at(-1);
    log.nextSeq = Math.max(last ? last.seq + 1 : 1, ...Object.values(log.shippedThrough).map((seq) => seq + 1));
    log.lastLoggedAtMs = last?.loggedAtMs ?? 0;
    // Rewriting on open drops shipped entries and any torn line a crash left at the end.
    await log.compact();
    return log;
  }

  /** Every entry still held, oldest first (what a restarted endpoint replays into its version store). */
  retained(): readonly ItemChange[] {
    return this.entries;
  }

  /** Logs the changes durably; resolves with them sequenced once they are on disk. */
  append(changes: readonly UnsequencedChange[]): Promise<ItemChange[]> {
    if (this.closed) return Promise.reject(new ReplicationClosedError('replication log is closed'));
    this.lastLoggedAtMs = Math.max(this.lastLoggedAtMs, Date.now());
    const sequenced = changes.map((change): ItemChange => ({ ...change, seq: this.nextSeq++, loggedAtMs: this.lastLoggedAtMs }));
    const lines = sequenced.map((change) => `${JSON.stringify(change)}\n`).join('');
    return new Promise<ItemChange[]>((resolve, reject) => {
      this.queued.push({
        lines,
        done: () => {
          // Visible to links only once durable, so nothing is shipped that a crash could take back.
          this.entries.push(...sequenced);
          resolve(sequenced);
        },
        failed: reject,
      });
      this.writing = this.writing.then(() => this.flushQueued());
    });
  }

  /**
   * Makes `peer` a reader of this log; a new peer starts from what the log still holds. Persisted at once, so a
   * restart never compacts away entries this peer has not had just because it had not shipped anything yet.
   */
  async registerPeer(peer: string): Promise<void> {
    if (this.shippedThrough[peer] !== undefined) return;
    this.shippedThrough[peer] = 0;
    await this.writePositions();
  }

  /** Entries `peer` has not had yet that were logged no later than `loggedBy`, oldest first. */
  pendingFor(peer: string, loggedBy: number, limit: number): ItemChange[] {
    const pending: ItemChange[] = [];
    for (let index = this.firstAfter(this.shippedThrough[peer] ?? 0); index < this.entries.length; index++) {
      const entry = this.entries[index]!;
      if (entry.loggedAtMs > loggedBy || pending.length >= limit) break;
      pending.push(entry);
    }
    return pending;
  }

  /** Every entry `peer` has not had yet, regardless of lag. */
  backlogFor(peer: string): ItemChange[] {
    return this.entries.slice(this.firstAfter(this.shippedThrough[peer] ?? 0));
  }

  /** Records that `peer` has applied everything through `seq`; resolves when that is on disk. */
  async markShipped(peer: string, seq: number): Promise<void> {
    if (seq <= (this.shippedThrough[peer] ?? 0)) return;
    this.shippedThrough[peer] = seq;
    await this.writePositions();
    this.dropShippedEntries();
    if (this.droppedSinceCompaction > COMPACT_AFTER_SHIPPED_ENTRIES) await this.compact();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.writing;
    await this.positionsWriting;
    await this.handle.close();
  }

  private writePositions(): Promise<void> {
    const snapshot: PositionsFile = { version: 1, shippedThrough: { ...this.shippedThrough } };
    const write = this.positionsWriting.then(() => writeFileDurably(this.positionsPath, JSON.stringify(snapshot)));
    this.positionsWriting = write.catch(() => undefined);
    return write;
  }

  private dropShippedEntries(): void {
    const peers = Object.values(this.shippedThrough);
    if (peers.length === 0) return;
    const shippedToAll = Math.min(...peers);
    const dropped = this.firstAfter(shippedToAll);
    if (dropped === 0) return;
    this.entries = this.entries.slice(dropped);
    this.droppedSinceCompaction += dropped;
  }

  /** Index of the first entry after `seq`; entries are in seq order (appended in order, compaction keeps it). */
  private firstAfter(seq: number): number {
    let low = 0;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.entries[middle]!.seq <= seq) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private async flushQueued(): Promise<void> {
    const batch = this.queued.splice(0);
    if (batch.length === 0) return;
    try {
      await this.handle.appendFile(batch.map((item) => item.lines).join(''));
      await this.handle.datasync();
    } catch (error) {
      for (const item of batch) item.failed(error as Error);
      return;
    }
    for (const item of batch) item.done();
  }

  /** Rewrites the log with only the retained entries (write aside, fsync, rename), serialized with appends. */
  private compact(): Promise<void> {
    const run = this.writing.then(async () => {
      this.dropShippedEntries();
      await writeFileDurably(this.logPath, this.entries.map((entry) => `${JSON.stringify(entry)}\n`).join(''));
      await this.handle.close();
      this.handle = await open(this.logPath, 'a');
      this.droppedSinceCompaction = 0;
    });
    this.writing = run.catch(() => undefined);
    return run;
  }
}


async function readEntries(path: string): Promise<ItemChange[]> {
  const text = await readFileIfPresent(path);
  if (text === undefined) return [];
  const lines = text.split('\n');
  const entries: ItemChange[] = [];
  for (const [index, line] of lines.entries()) {
    if (line === '') continue;
    try {
      entries.push(JSON.parse(line) as ItemChange);
    } catch (error) {
      // Only the last line can be torn by a crash mid-append; that write was never acknowledged.
      if (index >= lines.length - 2) break;
      throw new ReplicationLogCorruptError(`${path} line ${index + 1} is not valid JSON`, { cause: error });
    }
  }
  return entries;
}

async function readPositions(path: string): Promise<Record<string, number>> {
  const text = await readFileIfPresent(path);
  if (text === undefined) return {};
  let parsed: PositionsFile;
  try {
    parsed = JSON.parse(text) as PositionsFile;
  } catch (error) {
    throw new ReplicationLogCorruptError(`${path} is not valid JSON`, { cause: error });
  }
  if (parsed?.version !== 1 || typeof parsed.shippedThrough !== 'object' || parsed.shippedThrough === null) {
    throw new ReplicationLogCorruptError(`${path} is not a version 1 positions file`);
  }
  return parsed.shippedThrough;
}
