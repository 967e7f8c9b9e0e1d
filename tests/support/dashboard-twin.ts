import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { startTwin, type RunningTwin, type TwinOptions } from '#local/controller/controller.ts';
import { DASHBOARD_STATE_FILE, startDashboardServer, type RunningDashboardServer } from '#local/dashboard/server.ts';
import { twinDashboardBackend } from '#local/dashboard/twin-backend.ts';

/**
 * A whole twin with its operations dashboard, wired as `rotor up` wires them (cli/commands/up.ts): startTwin, the
 * dashboard backend over it, and the dashboard server on 127.0.0.1 serving dashboard/dist. Also what a browser test
 * needs around it: the built UI and Debian's Chromium.
 */

const REPO_ROOT = path.resolve(import.meta.dirname, '../..');
const DASHBOARD_DIR = path.join(REPO_ROOT, 'dashboard');
const DIST_INDEX = path.join(DASHBOARD_DIR, 'dist', 'index.html');

/** Debian's chromium (`apt-get install -y chromium`); ROTOR_CHROMIUM points elsewhere. */
export const CHROMIUM_PATH = process.env.ROTOR_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_INSTALL_HINT = 'apt-get install -y chromium';

export function chromiumAvailable(): boolean {
  return existsSync(CHROMIUM_PATH);
}

/** The newest modification time under `target` (a file or a folder, recursively), in ms. */
async function newestMtime(target: string): Promise<number> {
  const info = await stat(target).catch(() => undefined);
  if (!info) return 0;
  if (!info.isDirectory()) return info.mtimeMs;
  const entries = await readdir(target);
  const times = await Promise.all(entries.map((entry) => newestMtime(path.join(target, entry))));
  return Math.max(info.mtimeMs, ...times);
}

/**
 * Builds dashboard/dist (`vite build`, ~2 s) when it is missing or older than the UI's sources, so the test never
 * drives a stale bundle. Returns whether it built.
 */
export async function ensureDashboardBuilt(): Promise<boolean> {
  if (existsSync(DIST_INDEX)) {
    const built = (await stat(DIST_INDEX)).mtimeMs;
    const sources = Math.max(
      await newestMtime(path.join(DASHBOARD_DIR, 'src')),
      await newestMtime(path.join(DASHBOARD_DIR, 'index.html')),
      await newestMtime(path.join(REPO_ROOT, 'local', 'dashboard', 'contract.ts')),
    );
    if (built >= sources) return false;
  }
  await promisify(execFile)('npx', ['vite', 'build', '--config', 'dashboard/vite.config.ts'], { cwd: REPO_ROOT, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 });
  if (!existsSync(DIST_INDEX)) throw new Error(`vite build wrote no ${DIST_INDEX}`);
  return true;
}

export interface DashboardTwin {
  readonly twin: RunningTwin;
  readonly dashboard: RunningDashboardServer;
  /** What an operator reads from `<data dir>/dashboard.json`. */
  readonly access: { readonly url: string; readonly token: string };
  /** Dashboard first, then the twin, as `rotor up` stops on SIGTERM; each step runs even when one before failed. */
  stop(): Promise<void>;
}

/** Starts the twin in `dataDir` and the dashboard beside it on a free port, as `rotor up --data-dir dataDir` does. */
export async function startDashboardTwin(options: TwinOptions & { readonly dataDir: string }): Promise<DashboardTwin> {
  const twin = await startTwin(options);
  const backend = twinDashboardBackend(twin);
  let dashboard: RunningDashboardServer;
  try {
    dashboard = await startDashboardServer({ backend, dataDir: twin.layout.dataDir, port: 0 });
  } catch (error) {
    backend.close();
    await twin.stop();
    throw error;
  }
  const access = JSON.parse(await readFile(path.join(twin.layout.dataDir, DASHBOARD_STATE_FILE), 'utf8')) as { url: string; token: string };
  let stopping: Promise<void> | undefined;
  return {
    twin,
    dashboard,
    access,
    stop: () =>
      (stopping ??= (async () => {
        const failures: unknown[] = [];
        await dashboard.close().catch((error: unknown) => failures.push(error));
        try {
          backend.close();
        } catch (error) {
          failures.push(error);
        }
        await twin.stop().catch((error: unknown) => failures.push(error));
        if (failures.length > 0) throw new AggregateError(failures, 'stopping the dashboard twin failed');
      })()),
  };
}
