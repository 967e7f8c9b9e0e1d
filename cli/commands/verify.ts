import { DEFAULT_TWIN_DATA_DIR } from '#local/controller/twin-layout.ts';
import type { VerifyResult } from '#shared/verification/verify-run.ts';
import { verifyWhenArrived } from '#local/support/verify-polling.ts';
import { type CommandIO, parseOptions, wholeNumber } from '../io.ts';

const HELP = `Usage: rotor verify [--json] [--timeout SECONDS] [--region REGION] [--data-dir DIR]

Judges the running twin against the generator's ground truth: every leg the generator had sent when verify
started, rebuilt from its run's seed, must be acknowledged by the inbound gateway and reach its expected final
state in every store along its path (trade, allocations, settlements, their outbound messages), with no effect
applied twice and a balanced ledger. Legs still on their way are waited for, up to the timeout, with progress
on stderr; whatever has not arrived by then counts as lost.

Prints ${'`'}ok${'`'}, ${'`'}legs_sent${'`'}, ${'`'}legs_acked${'`'}, ${'`'}lost${'`'}, ${'`'}duplicates${'`'}, ${'`'}unexpected${'`'}, ${'`'}ledger_balanced${'`'} (DESIGN §5). Exit 0 when ok, 1 when not.

Options:
  --json             print the verdict as JSON
  --timeout SECONDS  how long to wait for legs in flight (default 60)
  --region REGION    judge this region's stores (default: where trade matching is active)
  --data-dir DIR     the twin's data directory (default ${DEFAULT_TWIN_DATA_DIR})
  -h, --help         show this help
`;


export async function runVerify(args: string[], io: CommandIO): Promise<number> {
  const options = parseOptions(args, {
    json: { type: 'boolean' },
    timeout: { type: 'string' },
    region: { type: 'string' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const timeoutMs = wholeNumber('timeout', options.timeout, 60) * 1000;
  const { TwinClient } = await import('#local/controller/twin-client.ts');
  const client = await TwinClient.connect(options['data-dir'] ?? DEFAULT_TWIN_DATA_DIR);
  const target = options.region ? { region: options.region } : { app: 'trade-matching' as const };

  const result = await verifyWhenArrived((payload) => client.invoke('ops-verify', payload, target), {
    timeoutMs,
    onWaiting: (progress) =>
      io.err(`  waiting: ${progress.legs_terminal} of ${progress.legs_sent} legs terminal${progress.legs_acked < progress.legs_sent ? `, ${progress.legs_sent - progress.legs_acked} not yet acknowledged` : ''}…\n`),
  });
  if (options.json) io.out(`${JSON.stringify(result)}\n`);
  else io.out(formatVerdict(result));
  return result.ok ? 0 : 1;
}

function formatVerdict(result: VerifyResult): string {
  const lines = [
    `${result.ok ? 'OK' : 'NOT OK'} — ${result.legs_sent} legs sent in ${result.runs} run(s), ${result.legs_acked} acknowledged`,
    `  lost             ${result.lost}`,
    `  duplicates       ${result.duplicates}`,
    `  unexpected       ${result.unexpected}`,
    `  ledger balanced  ${result.ledger_balanced ? 'yes' : 'NO'}`,
  ];
  for (const [kind, ids] of Object.entries(result.examples)) if (ids.length > 0) lines.push(`  ${kind}: ${ids.join(', ')}`);
  return `${lines.join('\n')}\n`;
}
