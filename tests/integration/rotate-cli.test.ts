import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '#cli/main.ts';
import type { RotationResult } from '#cli/commands/rotate.ts';
import { startTwin, type RunningTwin } from '#local/controller/controller.ts';
import { capturedIO } from '#tests/helpers/captured-io.ts';

// `rotor rotate` as an operator runs it against a running twin: the CLI finds the twin by its data directory, runs
// the app's rotation in the other region with progress on stderr, and prints DESIGN §5's result.

describe('rotor rotate', () => {
  let dataDir: string;
  let twin: RunningTwin | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'rotor-rotate-'));
    twin = await startTwin({ dataDir, fresh: true });
  }, 180_000);

  afterAll(async () => {
    try {
      await twin?.stop();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);

  it('refuses a target that is not another region of the twin, with a usage error and nothing started', async () => {
    // Prepare
    const io = capturedIO();

    // Act
    const code = await main(['rotate', 'settlement', '--to', 'us-east-1', '--data-dir', dataDir], io);

    // Assess
    expect(code).toBe(2);
    expect(io.stderr()).toContain('--to must be another region of the twin (us-west-2), not us-east-1');
    expect(twin!.activeRegion('settlement')).toBe('us-east-1');
  });

  it('rotates settlement to us-west-2, shows each state, and prints the result as JSON with RTO and equal digests', async () => {
    // Prepare
    const io = capturedIO();

    // Act
    const code = await main(['rotate', 'settlement', '--json', '--propagation', '2', '--data-dir', dataDir], io);

    // Assess
    const result = JSON.parse(io.stdout()) as RotationResult;
    expect(result, io.stderr()).toMatchObject({ ok: true, app: 'settlement', unplanned: false, source_region: 'us-east-1', target_region: 'us-west-2', status: 'SUCCEEDED', digests_equal: true });
    expect(code).toBe(0);
    expect(result.rto_ms).toBeGreaterThan(0);
    expect(result.states.map((state) => state.state)).toContain('CheckCanary');
    expect(io.stderr()).toMatch(/sm-rotation \S+: settlement us-east-1 → us-west-2/);
    expect(twin!.activeRegion('settlement')).toBe('us-west-2');
    expect(twin!.activeRegion('trade-matching')).toBe('us-east-1');
  }, 600_000);
});
