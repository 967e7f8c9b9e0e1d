import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { TwinAlreadyRunningError } from '#local/controller/errors.ts';
import type { TwinLayout } from '#local/controller/twin-layout.ts';

/** One controller per data directory: `controller.json` says who runs it, and whether that one is still alive. */

const execFileAsync = promisify(execFile);
// A SIGKILLed process lets go of its ports only once it is gone.
const ORPHAN_EXIT_TIMEOUT_MS = 5_000;

/**
 * A controller that answers on this directory is running: refuse. One that died without cleaning up may have left
 * region processes holding the ports and data: they are killed, as the outage they already are.
 */
export async function refuseIfRunning(layout: TwinLayout): Promise<void> {
  const state = await layout.readState();
  if (!state) return;
  if (state.pid !== process.pid && processAlive(state.pid)) {
    const answers = await fetch(`${state.controlUrl}/status`, { signal: AbortSignal.timeout(2_000) }).then(() => true, () => false);
    if (answers) throw new TwinAlreadyRunningError(layout.dataDir, state.pid);
  }
  const killed: number[] = [];
  for (const pid of Object.values(state.regionPids)) {
    if (pid && processAlive(pid) && (await isRegionProcess(pid, layout.dataDir))) {
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    }
  }
  const deadline = Date.now() + ORPHAN_EXIT_TIMEOUT_MS;
  while (killed.some(processAlive) && Date.now() < deadline) await delay(50);
  await layout.removeState();
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Only a process that is one of this twin's regions is ever killed, never a stranger that reused the pid. */
async function isRegionProcess(pid: number, dataDir: string): Promise<boolean> {
  const commandLine =
    (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => undefined)) ??
    // No /proc (macOS): ask ps.
    (await execFileAsync('ps', ['-o', 'command=', '-p', String(pid)]).then(({ stdout }) => stdout, () => ''));
  return commandLine.includes('local/region/main.ts') && commandLine.includes(dataDir);
}
