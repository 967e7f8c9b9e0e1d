import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '#cli/main.ts';
import { capturedIO } from '#tests/helpers/captured-io.ts';

// The bench itself starts a twin and runs for minutes: it is run by hand (docs/performance.md), never in CI.
describe('rotor bench', () => {
  it('explains itself with --help', async () => {
    // Prepare
    const io = capturedIO();

    // Act
    const code = await main(['bench', '--help'], io);

    // Assess
    expect(code).toBe(0);
    expect(io.stdout()).toContain('Usage: rotor bench [--json] [--profile quick|full] [--data-dir DIR]');
    expect(io.stdout()).toContain('ceiling_legs_per_s');
  });

  it('refuses an unknown profile with exit code 2 before starting anything', async () => {
    // Prepare
    const io = capturedIO();

    // Act
    const code = await main(['bench', '--profile', 'bogus'], io);

    // Assess
    expect(code).toBe(2);
    expect(io.stderr()).toContain('--profile must be quick or full, got "bogus"');
    expect(io.stdout()).toBe('');
  });

  it('refuses to wipe a data directory it did not make, with exit code 2', async () => {
    // Prepare
    const directory = await mkdtemp(join(tmpdir(), 'rotor-bench-dir-'));
    await writeFile(join(directory, 'precious.txt'), 'not a bench twin');
    const io = capturedIO();

    try {
      // Act
      const code = await main(['bench', '--data-dir', directory], io);

      // Assess
      expect(code).toBe(2);
      expect(io.stderr()).toContain('is not empty and was not made by rotor bench');
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  });

  it('is listed in the command overview', async () => {
    // Prepare
    const io = capturedIO();

    // Act
    await main(['--help'], io);

    // Assess
    expect(io.stdout()).toMatch(/bench\s+throughput and latency on a fresh twin/);
  });
});
