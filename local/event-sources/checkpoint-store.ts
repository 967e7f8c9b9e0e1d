import { readFileIfPresent, writeFileDurably } from '#local/support/state-files.ts';
import { CheckpointCorruptError } from '#local/event-sources/errors.ts';

/** Where a shard's processing resumes. */
export interface ShardCheckpoint {
  /** Every record up to and including this one is finished (processed or handed to the on-failure destination). */
  sequenceNumber?: string;
  /**
   * Set when a LATEST mapping first saw the shard: records that arrived before this instant are not the
   * mapping's, even if it restarts before checkpointing anything (AWS keeps the position it started from).
   */
  latestAnchorMs?: number;
  /** The shard was closed by a reshard and fully processed. */
  closed?: boolean;
}

type CheckpointFile = { version: 1; shards: Record<string, ShardCheckpoint> };

/**
 * All shard checkpoints of one mapping in one JSON file. Writes are atomic (temp file, fsync, rename, fsync of
 * the directory) and serialized; updates arriving while a write is in flight are coalesced into the next one.
 */
export class CheckpointStore {
  private shards: Record<string, ShardCheckpoint> = {};
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(readonly filePath: string) {}

  async load(): Promise<Record<string, ShardCheckpoint>> {
    const text = await readFileIfPresent(this.filePath);
    if (text === undefined) return {};
    let parsed: CheckpointFile;
    try {
      parsed = JSON.parse(text) as CheckpointFile;
    } catch (error) {
      throw new CheckpointCorruptError(`${this.filePath} is not valid JSON`, { cause: error });
    }
    if (parsed?.version !== 1 || typeof parsed.shards !== 'object' || parsed.shards === null) {
      throw new CheckpointCorruptError(`${this.filePath} is not a version 1 checkpoint file`);
    }
    this.shards = parsed.shards;
    return structuredClone(this.shards);
  }

  /** Records a shard's new checkpoint; resolves when it (or a later state) is on disk. */
  save(shardId: string, checkpoint: ShardCheckpoint): Promise<void> {
    this.shards[shardId] = { ...this.shards[shardId], ...checkpoint };
    this.dirty = true;
    const write = this.writing.then(() => this.flushIfDirty());
    // A failed write leaves the state dirty, so the next save retries it; the chain itself never breaks.
    this.writing = write.catch(() => {
      this.dirty = true;
    });
    return write;
  }

  /** Resolves when every save requested so far has been attempted. */
  settled(): Promise<void> {
    return this.writing;
  }

  private async flushIfDirty(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    const body: CheckpointFile = { version: 1, shards: this.shards };
    await writeFileDurably(this.filePath, JSON.stringify(body, null, 2));
  }
}
