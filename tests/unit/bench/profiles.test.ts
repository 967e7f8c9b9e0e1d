import { describe, expect, it } from 'vitest';
import { latencySeconds, PROFILES } from '#local/bench/profiles.ts';

describe('bench profiles', () => {
  it('runs the latency phase long enough for its target number of legs, within bounds', () => {
    expect(latencySeconds(PROFILES.quick, 0.5)).toBe(30);
    expect(latencySeconds(PROFILES.quick, 2.5)).toBe(24);
    expect(latencySeconds(PROFILES.quick, 100)).toBe(20);
  });

  it('budgets the quick profile within five minutes, with twice the start-up the twin usually needs', () => {
    // Prepare: the longest each phase may take by its own settings, plus fixed costs seen on a 2-core machine
    const quick = PROFILES.quick;
    const startup = 30; // twin start-up, ~15 s usually
    const fixed = 3 + 5 + 10 + 10; // leg-mix trace, ceiling set-up, replication quiet wait, twin stop

    // Act
    const worst = startup + fixed + quick.ceiling.concurrencies.length * (quick.ceiling.warmupSeconds + quick.ceiling.seconds) + quick.quietSeconds + quick.ramp.budgetSeconds + quick.ramp.drainSeconds + quick.latency.maxSeconds + quick.latency.settleSeconds;

    // Assess
    expect(worst).toBeLessThan(300);
  });
});
