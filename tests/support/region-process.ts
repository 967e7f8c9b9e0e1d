import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { RegionReadyReport, RegionStatus } from '#local/region/region.ts';

/** A region run the way operators run it: `node --import tsx local/region/main.ts …` as a child process. */

const REPOSITORY_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const REGION_MAIN = path.join(REPOSITORY_ROOT, 'local/region/main.ts');

export interface RegionProcess {
  readonly child: ChildProcess;
  readonly report: RegionReadyReport;
  /** Everything the region logged on stderr so far, for failure messages. */
  stderr(): string;
  status(): Promise<RegionStatus>;
  /** Resolves with the exit code (or signal) once the process has gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function startRegionProcess(args: string[], { readyTimeoutMs = 30_000 } = {}): Promise<RegionProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', REGION_MAIN, ...args], {
    cwd: REPOSITORY_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    // Keep the tail only: a busy region logs every retried batch.
    stderr = (stderr + chunk).slice(-20_000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const firstLine = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', resolve);
    void exited.then(({ code, signal }) => reject(new Error(`region exited (${code ?? signal}) before it was ready:\n${stderr}`)));
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`region not ready within ${readyTimeoutMs} ms:\n${stderr}`)), readyTimeoutMs);
  });
  let line: string;
  try {
    line = await Promise.race([firstLine, timeout]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearTimeout(timer);
  }
  const report = JSON.parse(line) as RegionReadyReport;
  return {
    child,
    report,
    stderr: () => stderr,
    exited,
    async status() {
      const response = await fetch(`${report.endpoints.status}/status`);
      return (await response.json()) as RegionStatus;
    },
  };
}

/** The checkpoints a mapping has durably saved, per shard id. */
export async function savedCheckpoints(dataDir: string, mappingId: string): Promise<Record<string, string | undefined>> {
  const file = path.join(dataDir, 'event-source-mappings', mappingId, 'checkpoints.json');
  let saved: { shards?: Record<string, { sequenceNumber?: string }> };
  try {
    saved = JSON.parse(await readFile(file, 'utf8')) as typeof saved;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  return Object.fromEntries(Object.entries(saved.shards ?? {}).map(([shardId, checkpoint]) => [shardId, checkpoint.sequenceNumber]));
}

export const recordsSucceeded = (status: RegionStatus, functionName: string): number =>
  (status.mappingMetrics.find((mapping) => mapping.functionArn.endsWith(`:${functionName}`))?.shards ?? []).reduce(
    (sum, shard) => sum + shard.recordsSucceeded,
    0,
  );

/** Every shard of every mapping has nothing read and unfinished, and nothing in flight. */
export const caughtUp = (status: RegionStatus): boolean =>
  status.mappingMetrics.every((mapping) => mapping.shards.every((shard) => shard.unfinishedRecords === 0 && shard.inFlightBatches === 0 && shard.iteratorAgeMs === 0));
