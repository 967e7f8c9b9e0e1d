import path from 'node:path';
import { DEFAULT_TWIN_DATA_DIR } from '#local/controller/twin-layout.ts';
import { type CommandIO, parseOptions, UsageError, wholeNumber } from '../io.ts';

const HELP = `Usage: rotor fix-client --pairs N [--rate R] [--host H] [--port P] [--timeout SECONDS] [--json]

A FIX 4.4 load client: an investment manager (IMQAINS012) and a broker (BRQABRO010) session log on to the FIX
gateway (TargetCompID ROTOR) and send both legs of N matching trades as AllocationInstructions (35=J), R pairs per
second, resending any leg not acknowledged after a reconnect. Waits for every acknowledgement (AllocStatus 3), then
prints what was sent, acknowledged and rejected and the acknowledgement latency.

Options:
  --pairs N           trade pairs to send (2 N legs)
  --rate R            pairs per second (default 2)
  --host H, --port P  the gateway or its front (default 127.0.0.1:9880)
  --timeout SECONDS   how long to wait for the last acknowledgements (default 60)
  --json              print the summary as JSON
  -h, --help          show this help
`;

export async function runFixClient(args: string[], io: CommandIO): Promise<number> {
  const options = parseOptions(args, {
    pairs: { type: 'string' },
    rate: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    timeout: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const pairs = wholeNumber('pairs', options.pairs);
  const rate = Number(options.rate ?? 2);
  if (!(Number.isFinite(rate) && rate > 0)) throw new UsageError(`--rate must be a positive number of pairs per second, not ${options.rate}`);
  const { FixLoad } = await import('#local/fix/load.ts');
  const began = Date.now();
  const load = new FixLoad({ host: options.host ?? '127.0.0.1', port: wholeNumber('port', options.port, 9880), pairsPerSecond: rate, pairs, runId: `C${Date.now().toString(36).toUpperCase()}` });
  load.start();
  const deadline = began + (pairs / rate) * 1_000 + wholeNumber('timeout', options.timeout, 60) * 1_000;
  while (!load.done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  load.abort();
  const summary = { pairs, legs_sent: load.sent(), legs_acked: load.acked(), legs_rejected: load.rejected(), unacknowledged: load.unacknowledged(), outcomes: load.outcomes(), duration_ms: Date.now() - began };
  if (options.json) io.out(`${JSON.stringify(summary)}\n`);
  else io.out(`${summary.legs_sent} legs sent, ${summary.legs_acked} acknowledged, ${summary.legs_rejected} rejected, ${summary.unacknowledged} unacknowledged in ${summary.duration_ms} ms; ${summary.outcomes} outcomes received\n`);
  return summary.unacknowledged === 0 && summary.legs_rejected === 0 ? 0 : 1;
}

const DRILL_HELP = `Usage: rotor drill fix-failover [--json] [--rate PAIRS_PER_S] [--warm-up SECONDS] [--after SECONDS]
                                 [--settle-timeout SECONDS] [--data-dir DIR]

A fresh twin, two FIX gateway processes and the front, FIX clients sending both legs of matching trades steadily.
The leader is SIGKILLed and the standby takes over; later the new leader is SIGSTOPped until it has lost its lease,
then SIGCONTed: it must write nothing (its writes are refused by the epoch conditions, and counted). Every
acknowledged leg must reach SETTLED in trade matching, once. Prints ok, failover_ms, lost, duplicates,
fenced_writes_refused, legs_sent, legs_acked.

Options:
  --rate PAIRS_PER_S        trade pairs per second (default 2)
  --warm-up SECONDS         load before the kill (default 10)
  --after SECONDS           load after each fault (default 8)
  --settle-timeout SECONDS  how long to wait for the legs to settle (default 300)
  --data-dir DIR            where the drill's twin lives (default .rotor/drills/fix-failover)
  --json                    print the result as JSON
`;

export async function runFixFailoverDrill(args: string[], io: CommandIO): Promise<number> {
  const options = parseOptions(args, {
    json: { type: 'boolean' },
    rate: { type: 'string' },
    'warm-up': { type: 'string' },
    after: { type: 'string' },
    'settle-timeout': { type: 'string' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(DRILL_HELP);
    return 0;
  }
  const rate = Number(options.rate ?? 2);
  if (!(Number.isFinite(rate) && rate > 0)) throw new UsageError(`--rate must be a positive number of pairs per second, not ${options.rate}`);
  const { fixFailoverDrill } = await import('#local/fix/failover-drill.ts');
  const result = await fixFailoverDrill({
    dataDir: options['data-dir'] ?? path.join(path.dirname(DEFAULT_TWIN_DATA_DIR), 'drills', 'fix-failover'),
    pairsPerSecond: rate,
    warmUpSeconds: wholeNumber('warm-up', options['warm-up'], 10),
    afterSeconds: wholeNumber('after', options.after, 8),
    settleTimeoutSeconds: wholeNumber('settle-timeout', options['settle-timeout'], 300),
    progress: (message) => io.err(`${new Date().toISOString().slice(11, 19)}  ${message}\n`),
  });
  if (options.json) io.out(`${JSON.stringify(result)}\n`);
  else {
    io.out(
      [
        `${result.ok ? 'OK' : 'NOT OK'} — fix-failover: failover ${result.failover_ms ?? 'n/a'} ms (first acknowledgement ${result.first_ack_ms ?? 'n/a'} ms), lease taken from the paused leader in ${result.pause_takeover_ms ?? 'n/a'} ms`,
        `  legs sent ${result.legs_sent}, acknowledged ${result.legs_acked}, rejected ${result.legs_rejected}, lost ${result.lost}, duplicates ${result.duplicates}`,
        `  paused leader fenced: ${result.old_leader_fenced}, its writes refused: ${result.fenced_writes_refused}`,
        ...result.notes.map((note) => `  note: ${note}`),
      ].join('\n') + '\n',
    );
  }
  return result.ok ? 0 : 1;
}
