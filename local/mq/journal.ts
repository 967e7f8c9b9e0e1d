/**
 * One append-only journal file per queue. A message is written (and fsynced) before the broker confirms it to the
 * sender, an acknowledgement is written before the broker confirms the ack, so a broker killed at any instant
 * comes back with exactly the confirmed-and-unacknowledged messages. Concurrent appends share one fsync.
 */
import { readFileIfPresent } from '#local/support/state-files.ts';
import { mkdir, open, rename, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface StoredMessage {
  readonly seq: number;
  readonly id: string;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

type JournalRecord =
  | { t: 'm'; seq: number; id: string; h: Record<string, string>; b: string }
  | { t: 'a'; id: string };

/** The journal on disk cannot be read back; the broker refuses to start rather than silently lose messages. */
export class JournalCorruptError extends Error {
  override name = 'JournalCorruptError';
}

const COMPACT_AFTER_DEAD_RECORDS = 1_000;

export class QueueJournal {
  private pending: { line: string; done: () => void; failed: (error: Error) => void }[] = [];
  private writing: Promise<void> = Promise.resolve();
  private deadRecords = 0;
  private liveRecords = 0;

  private constructor(
    private readonly path: string,
    private handle: FileHandle,
  ) {}

  /** Opens (creating if needed) the queue's journal and returns the messages still on the queue, oldest first. */
  static async open(dataDir: string, queue: string): Promise<{ journal: QueueJournal; messages: StoredMessage[] }> {
    await mkdir(dataDir, { recursive: true });
    const path = join(dataDir, `${encodeURIComponent(queue)}.journal`);
    const messages = await readLiveMessages(path);
    const journal = new QueueJournal(path, await open(path, 'a'));
    journal.liveRecords = messages.length;
    // Rewriting on open drops acked records and any torn tail a crash left behind.
    await journal.compact(messages);
    return { journal, messages };
  }

  appendMessage(message: StoredMessage): Promise<void> {
    this.liveRecords++;
    return this.append({ t: 'm', seq: message.seq, id: message.id, h: message.headers, b: message.body.toString('base64') });
  }

  appendAck(messageId: string): Promise<void> {
    this.liveRecords--;
    this.deadRecords += 2;
    return this.append({ t: 'a', id: messageId });
  }

  /** Worth compacting once acked records outweigh the live ones. */
  needsCompaction(): boolean {
    return this.deadRecords > COMPACT_AFTER_DEAD_RECORDS && this.deadRecords > this.liveRecords;
  }

  /** Rewrites the journal with only the given live messages, atomically (write aside, fsync, rename). */
  compact(liveMessages: readonly StoredMessage[]): Promise<void> {
    const run = this.writing.then(async () => {
      const aside = `${this.path}.compacting`;
      const file = await open(aside, 'w');
      try {
        const lines = liveMessages.map((message) =>
          JSON.stringify({ t: 'm', seq: message.seq, id: message.id, h: message.headers, b: message.body.toString('base64') }),
        );
        await file.writeFile(lines.length > 0 ? `${lines.join('\n')}\n` : '');
        await file.sync();
      } finally {
        await file.close();
      }
      await this.handle.close();
      await rename(aside, this.path);
      await syncDirectory(this.path);
      this.handle = await open(this.path, 'a');
      this.deadRecords = 0;
      this.liveRecords = liveMessages.length;
    });
    this.writing = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.flushPending();
    await this.writing;
    await this.handle.close();
  }

  private append(record: JournalRecord): Promise<void> {
    return new Promise<void>((done, failed) => {
      this.pending.push({ line: `${JSON.stringify(record)}\n`, done, failed });
      if (this.pending.length === 1) void this.flushPending();
    });
  }

  /** Writes everything queued so far with one write and one fsync, then confirms each record. */
  private flushPending(): Promise<void> {
    const run = this.writing.then(async () => {
      const batch = this.pending;
      this.pending = [];
      if (batch.length === 0) return;
      try {
        await this.handle.write(batch.map((entry) => entry.line).join(''));
        await this.handle.datasync();
        for (const entry of batch) entry.done();
      } catch (error) {
        for (const entry of batch) entry.failed(error as Error);
      }
    });
    this.writing = run;
    return run;
  }
}

async function readLiveMessages(path: string): Promise<StoredMessage[]> {
  const text = await readFileIfPresent(path);
  if (text === undefined) return [];
  const live = new Map<string, StoredMessage>();
  // The text after the last newline is empty or a write the crash interrupted; it was never confirmed.
  const completeLines = text.split('\n').slice(0, -1);
  for (const [index, line] of completeLines.entries()) {
    if (line === '') continue;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch (error) {
      throw new JournalCorruptError(`${path}: record ${index + 1} is not valid JSON`, { cause: error });
    }
    if (record.t === 'm') live.set(record.id, { seq: record.seq, id: record.id, headers: record.h, body: Buffer.from(record.b, 'base64') });
    else live.delete(record.id);
  }
  return [...live.values()].sort((a, b) => a.seq - b.seq);
}

async function syncDirectory(filePath: string): Promise<void> {
  const directory = await open(join(filePath, '..'), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}
