import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '#cli/main.ts';
import type { TwinStatus } from '#local/controller/twin-status.ts';
import { capturedIO } from '#tests/helpers/captured-io.ts';
import { controllerStateExists, processAlive } from '#tests/support/twin-probes.ts';
import { waitFor } from '#tests/support/wait.ts';

// `rotor up` as an operator runs it: the real command in its own process, stopped with SIGTERM.

const ROTOR = path.join(import.meta.dirname, '../../bin/rotor.js');
const READY_MARK = 'Ctrl-C stops everything';

let dataDir: string | undefined;
let up: ChildProcess | undefined;

afterAll(async () => {
  if (up && up.exitCode === null) up.kill('SIGKILL');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
}, 30_000);

function startUp(args: string[]): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [ROTOR, 'up', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => void (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => void (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('rotor up', () => {
  it('starts the twin, prints where everything is, notices a region dying, and stops everything on SIGTERM', async () => {
    // Prepare
    dataDir = await mkdtemp(path.join(tmpdir(), 'rotor-up-'));
    const run = startUp(['--data-dir', dataDir, '--fresh']);
    up = run.child;
    await waitFor(() => run.output().includes(READY_MARK) || run.child.exitCode !== null, { timeoutMs: 150_000, intervalMs: 200, what: 'rotor up to be ready' });

    // Act
    const second = capturedIO();
    const secondCode = await main(['up', '--data-dir', dataDir], second);
    const statusIO = capturedIO();
    await main(['status', '--json', '--data-dir', dataDir], statusIO);
    const status = JSON.parse(statusIO.stdout()) as TwinStatus;
    const westPid = status.regions.find((region) => region.region === 'us-west-2')!.pid!;
    process.kill(westPid, 'SIGKILL');
    await waitFor(() => run.output().includes('region us-west-2 is down (unexpected'), { timeoutMs: 10_000, what: 'the controller to notice' });
    const human = capturedIO();
    await main(['status', '--data-dir', dataDir], human);
    run.child.kill('SIGTERM');
    const exitCode = await run.exited;

    // Assess
    const output = run.output();
    expect(output).toMatch(/us-east-1 \(active\)\s+pid \d+\s+started in [\d.]+ s/);
    expect(output).toMatch(/us-west-2 \(standby\)/);
    expect(output).toContain(`data        ${path.join(dataDir, 'regions', 'us-east-1')}`);
    expect(output).toMatch(/Memory: \d+ MB RSS in total/);
    expect(secondCode).toBe(4);
    expect(second.stderr()).toContain('already running');
    expect(human.stdout()).toMatch(/us-west-2\s+down\s+-/);
    expect(human.stdout()).toMatch(/died \(SIGKILL\)/);
    // The dashboard rotor up serves, as status reports it: the address, and the one to open with the token.
    const { dashboard } = JSON.parse(statusIO.stdout()) as { dashboard: { url: string; openUrl: string } | null };
    expect(dashboard?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(dashboard?.openUrl).toMatch(new RegExp(`^${dashboard?.url}/#token=[0-9a-f]{64}$`));
    expect(output).toContain(dashboard!.openUrl);
    expect(human.stdout()).toContain(`Dashboard  ${dashboard!.openUrl}`);
    expect(human.stdout()).toMatch(/trade-matching-dns\s+On\s+Off/);
    expect(output).toContain('SIGTERM: stopping the regions');
    expect(exitCode).toBe(0);
    expect(await controllerStateExists(dataDir)).toBe(false);
    expect(status.regions.every((region) => region.pid !== null && !processAlive(region.pid))).toBe(true);
  }, 200_000);
});
