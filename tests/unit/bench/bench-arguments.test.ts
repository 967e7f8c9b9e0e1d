import { describe, expect, it } from 'vitest';
import { UsageError } from '#cli/io.ts';
import { parseBenchArguments } from '#cli/commands/bench.ts';

describe('rotor bench arguments', () => {
  it('defaults to the quick profile, a table and .rotor/bench', () => {
    expect(parseBenchArguments([])).toEqual({ help: false, json: false, profile: 'quick', dataDir: '.rotor/bench' });
  });

  it('takes --json, --profile full and --data-dir', () => {
    expect(parseBenchArguments(['--json', '--profile', 'full', '--data-dir', '/tmp/b'])).toEqual({ help: false, json: true, profile: 'full', dataDir: '/tmp/b' });
  });

  it.each([
    [['--profile', 'bogus'], '--profile must be quick or full, got "bogus"'],
    [['--profile'], "Option '--profile <value>' argument missing"],
    [['--fast'], "Unknown option '--fast'"],
    [['extra'], 'Unexpected argument'],
    [['--data-dir', ' '], '--data-dir must name a directory'],
  ])('refuses %j as a usage error', (args, message) => {
    expect(() => parseBenchArguments(args)).toThrow(UsageError);
    expect(() => parseBenchArguments(args)).toThrow(message);
  });
});
