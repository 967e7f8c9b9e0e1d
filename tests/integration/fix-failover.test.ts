import { rm } from 'node:fs/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { fixFailoverDrill } from '#local/fix/failover-drill.ts';

/**
 * The FIX failover drill at CI scale on a fresh twin of its own: the leader SIGKILLed, then the new leader paused
 * past its lease and resumed. Listed in WHOLE_TWIN_UNDER_LOAD (vitest.config.ts): it runs alone.
 */

const DATA_DIR = '/tmp/fix-failover-test';

afterAll(() => rm(DATA_DIR, { recursive: true, force: true }));

describe('rotor drill fix-failover', () => {
  it('fails over in under 5 s, loses and duplicates nothing, and fences the paused leader', async () => {
    // Act
    const result = await fixFailoverDrill({
      dataDir: DATA_DIR,
      pairsPerSecond: 0.5,
      warmUpSeconds: 3,
      afterSeconds: 3,
      ackTimeoutSeconds: 20,
      settleTimeoutSeconds: 50,
      progress: (message) => process.stderr.write(`fix-failover: ${message}\n`),
    });

    // Assess
    expect(result).toMatchObject({ ok: true, lost: 0, duplicates: 0, old_leader_fenced: true });
    expect(result.failover_ms).toBeLessThan(5_000);
    expect(result.legs_acked).toBeGreaterThan(0);
    expect(result.legs_acked).toBeGreaterThan(result.legs_sent / 2);
  }, 175_000);
});
