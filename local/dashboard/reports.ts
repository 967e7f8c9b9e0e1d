import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ReportFile } from '#shared/dashboard/api.ts';

/**
 * The missing-transaction reports under `<data dir>/reports/`, each a JSON file with a CSV beside it:
 *   missing-transactions-<run>.json   the failback's (local/drills/missing-transactions.ts): every message the old
 *                                     region acknowledged that the new active region lacked, and the Aurora tail
 *   reconciliation-<app>-<run>.json   `rotor reconcile`'s (ops-report's output): every id a run replayed
 */

export type { ReportFile };

const REPORT_FILE = /^(missing-transactions|reconciliation)-[A-Za-z0-9._-]+\.json$/;

/** The newest report by modification time; undefined when none was written (or the folder is not there). */
export async function latestReport(dataDir: string): Promise<ReportFile | undefined> {
  const directory = path.join(dataDir, 'reports');
  let names: string[];
  try {
    names = await readdir(directory);
  } catch {
    return undefined;
  }
  const candidates = await Promise.all(
    names
      .filter((name) => REPORT_FILE.test(name))
      .map(async (name) => {
        try {
          const info = await stat(path.join(directory, name));
          return info.isFile() ? { name, mtimeMs: info.mtimeMs } : undefined;
        } catch {
          return undefined;
        }
      }),
  );
  const newest = candidates
    .filter((candidate): candidate is { name: string; mtimeMs: number } => candidate !== undefined)
    .sort((a, b) => b.mtimeMs - a.mtimeMs || b.name.localeCompare(a.name))[0];
  if (!newest) return undefined;
  const jsonPath = path.join(directory, newest.name);
  const csvName = newest.name.replace(/\.json$/, '.csv');
  const csvPath = names.includes(csvName) ? path.join(directory, csvName) : null;
  return {
    kind: newest.name.startsWith('missing-transactions-') ? 'missing-transactions' : 'reconciliation',
    name: newest.name,
    writtenAt: new Date(newest.mtimeMs).toISOString(),
    jsonPath,
    csvPath,
  };
}
