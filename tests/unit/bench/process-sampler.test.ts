import { describe, expect, it } from 'vitest';
import { parseProcStat, parseVmRssKb, ProcessSampler } from '#local/bench/process-sampler.ts';

describe('process sampling', () => {
  it('reads utime + stime past a command name holding spaces and parentheses', () => {
    // Prepare
    const stat = '4242 (node (rotor) x) S 1 4242 4242 0 -1 4194560 9000 0 0 0 1234 567 0 0 20 0 11 0 100 1000000 5000';

    // Act / Assess
    expect(parseProcStat(stat)).toBe(1234 + 567);
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('reads VmRSS in kB', () => {
    expect(parseVmRssKb('Name:\tnode\nVmPeak:\t  999 kB\nVmRSS:\t  204800 kB\nThreads: 11\n')).toBe(204_800);
    expect(parseVmRssKb('Name:\tzombie\n')).toBeUndefined();
  });

  it.runIf(process.platform === 'linux')('charges this process its CPU per phase and records its peak RSS', () => {
    // Prepare
    const sampler = new ProcessSampler(() => [{ name: 'self', pid: process.pid }], 60_000);
    sampler.start();

    // Act
    sampler.phase('busy');
    const until = performance.now() + 50;
    while (performance.now() < until); // some CPU to charge
    sampler.stop();

    // Assess
    const [self] = sampler.summary().processes;
    expect(self).toMatchObject({ name: 'self', pid: process.pid });
    expect(Object.keys(self!.cpu_s)).toEqual(['busy', 'total']);
    expect(self!.peak_rss_mb).toBeGreaterThan(10);
    expect(sampler.summary().peak_total_rss_mb).toBe(self!.peak_rss_mb);
  });
});
