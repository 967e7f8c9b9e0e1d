import path from 'node:path';
import { type CommandIO, parseCommand, UsageError, wholeNumber } from '../io.ts';

const HELP = `Usage: rotor drill list
       rotor drill <scenario> [--json] [--rate LEGS_PER_S] [--warm-up SECONDS] [--after SECONDS]
                              [--verify-timeout SECONDS] [--no-failback] [--zero-rpo] [--data-dir DIR]

Runs a self-contained resilience scenario on a fresh twin of its own (under .rotor/drills/<scenario> unless
--data-dir is given, so a twin started with rotor up is not touched — but its ports must be free), judged by
verify: nothing lost, nothing applied twice, the ledger balanced. Prints DESIGN §5's drill fields.

Scenarios:
  planned-rotation   steady load; both apps rotate to the other region (rotation workflow); load goes on there
  region-outage      steady load; the active region is SIGKILLed; disaster recovery for both apps in the
                     survivor; load goes on; failback: the old region restarts, the missing-transaction report
                     lists what it acknowledged that the survivor lacks, it is replayed and reconciled

Options:
  --json                    print the result as JSON
  --rate LEGS_PER_S         generator rate (default 4)
  --warm-up SECONDS         load before the event (default 15)
  --after SECONDS           load after it (default 10)
  --verify-timeout SECONDS  how long verify waits for legs in flight (default 300)
  --no-failback             region-outage: leave the old region down
  --zero-rpo                region-outage: the TM inbound safe store replicates synchronously, so no acknowledged
                            leg is missing in the survivor even before failback
  --data-dir DIR            where the drill's twin lives
  -h, --help                show this help

Exit 0 when the drill is ok, 1 when not.
`;

const SCENARIOS = {
  'planned-rotation': 'steady load; both apps rotate to the other region; verify',
  'region-outage': 'steady load; SIGKILL of the active region; disaster recovery; failback with the missing-transaction report; verify',
  'fix-failover': 'FIX clients sending steadily; the FIX gateway leader SIGKILLed, then paused past its lease: failover, fencing (--help)',
  'chaos-matrix': 'steady load; every chaos experiment in turn, recovery, verify and invariants; one row each (--help for its options)',
  'bad-input': 'valid load plus N fuzzed bad messages into tm.trades: each NACKed with a reason, memory sampled (--help for its options)',
} as const;

export async function runDrill(args: string[], io: CommandIO): Promise<number> {
  if (args[0] === 'fix-failover') return (await import('./fix-client.ts')).runFixFailoverDrill(args.slice(1), io);
  if (args.includes('chaos-matrix')) return (await import('./chaos.ts')).runChaosMatrix(args.filter((arg) => arg !== 'chaos-matrix'), io);
  if (args.includes('bad-input')) return (await import('./chaos.ts')).runBadInput(args.filter((arg) => arg !== 'bad-input'), io);
  const options = parseCommand(args, {
    json: { type: 'boolean' },
    rate: { type: 'string' },
    'warm-up': { type: 'string' },
    after: { type: 'string' },
    'verify-timeout': { type: 'string' },
    'no-failback': { type: 'boolean' },
    'zero-rpo': { type: 'boolean' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const [scenario, ...extra] = options.positionals;
  if (scenario === 'list') {
    io.out(Object.entries(SCENARIOS).map(([name, summary]) => `${name.padEnd(18)} ${summary}`).join('\n') + '\n');
    return 0;
  }
  if (scenario === undefined || !(scenario in SCENARIOS) || extra.length > 0) {
    throw new UsageError(`name a scenario: ${Object.keys(SCENARIOS).join(', ')} (or list)`);
  }
  const rate = Number(options.rate ?? 4);
  if (!(Number.isFinite(rate) && rate > 0)) throw new UsageError(`--rate must be a positive number of legs per second, not ${options.rate}`);
  const drillOptions = {
    dataDir: options['data-dir'] ?? path.join('.rotor', 'drills', scenario),
    rate,
    warmUpSeconds: wholeNumber('warm-up', options['warm-up'], 15),
    afterSeconds: wholeNumber('after', options.after, 10),
    verifyTimeoutSeconds: wholeNumber('verify-timeout', options['verify-timeout'], 300),
    progress: (message: string) => io.err(`${new Date().toISOString().slice(11, 19)}  ${message}\n`),
  };
  const result =
    scenario === 'planned-rotation'
      ? await (await import('#local/drills/planned-rotation.ts')).plannedRotationDrill(drillOptions)
      : await (await import('#local/drills/region-outage.ts')).regionOutageDrill({ ...drillOptions, failback: !options['no-failback'], zeroRpo: options['zero-rpo'] ?? false });
  if (options.json) io.out(`${JSON.stringify(result)}\n`);
  else {
    io.out(
      [
        `${result.ok ? 'OK' : 'NOT OK'} — ${result.scenario}: RTO ${result.rto_ms ?? 'n/a'} ms, RPO ${result.rpo_ms ?? 'n/a'} ms`,
        `  legs sent ${result.legs_sent}, acknowledged ${result.legs_acked}, lost ${result.lost} (before recovery ${result.lost_before_recovery}), duplicates ${result.duplicates}, unexpected ${result.unexpected}, ledger ${result.ledger_balanced ? 'balanced' : 'NOT balanced'}`,
        `  recovered by replay ${result.recovered_by_replay}${result.report ? `, report ${result.report}` : ''}`,
        ...result.workflows.map((run) => `  ${run.state_machine} ${run.status} RTO ${run.rto_ms ?? 'n/a'} ms${run.error ? ` — ${run.error}` : ''}`),
        ...result.notes.map((note) => `  note: ${note}`),
      ].join('\n') + '\n',
    );
  }
  return result.ok ? 0 : 1;
}
