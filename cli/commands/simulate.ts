import { readFile } from 'node:fs/promises';
import { GroundTruth } from '#domain/generator.ts';
import { DEFAULT_FEE_BPS } from '#domain/ledger.ts';
import { checkAgainstTruth } from '#shared/simulation/ground-truth-check.ts';
import { simulate } from '#shared/simulation/in-memory-pipeline.ts';
import { type CommandIO, parseOptions, readLines, UsageError, wholeNumber } from '../io.ts';

const HELP = `Usage: rotor simulate --in FILE [--truth FILE] [--fee-bps N]

Runs trade legs through Rotor's rules entirely in memory, in arrival order — validation, trade matching,
settlement creation and pairing, the settled-status roll-up and the ledger — and prints the outcome as JSON.
Nothing is sent anywhere: use it to dry-run the rules over a file before it reaches the platform.

Options:
  --in FILE        one JSON trade leg per line (the body of a TM "trades" message); "-" reads standard input
  --truth FILE     a ground-truth file from \`rotor generate\`: also judge the outcome against it, print the verdict
                   on standard error, and exit 1 if any leg disagrees
  --fee-bps N      ledger fee in basis points (default ${DEFAULT_FEE_BPS})
  -h, --help       show this help

Output (standard output):
  {"trades": {"<trade id>": "<status>"}, "allocations": {"<settlement id>": "<status>"},
   "settlements": {"<settlement id>": "<status>"}, "nacks": [{"index": 0, "code": "…", "reason": "…"}],
   "ledger": {"cash": {"<account>": "<decimal>"}, "securities": {"<account>": {"<security>": 0}}, "balanced": true}}
  A rejected line becomes a NACK whose index is its 0-based line number; blank lines are skipped.

Example:
  rotor generate --pairs 1000 --seed 1 --out legs.jsonl
  rotor simulate --in legs.jsonl --truth legs.truth.json
`;

export async function runSimulate(args: string[], io: CommandIO): Promise<number> {
  const options = parseOptions(args, {
    in: { type: 'string' },
    truth: { type: 'string' },
    'fee-bps': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  if (!options.in) throw new UsageError('--in FILE is required ("-" for standard input)');
  const feeBps = wholeNumber('fee-bps', options['fee-bps'], DEFAULT_FEE_BPS);
  if (feeBps > 10_000) throw new UsageError('--fee-bps must be at most 10000');
  const truth = options.truth ? await loadTruth(options.truth) : undefined;

  const result = await simulate(readLines(options.in, io), { feeBps });
  io.out(`${JSON.stringify(result, null, 2)}\n`);

  if (!truth) return 0;
  const check = checkAgainstTruth(result, truth);
  if (check.disagreements.length === 0) {
    io.err(`ground truth: all ${check.legs} legs agree; ledger balanced: ${result.ledger.balanced}\n`);
    return result.ledger.balanced ? 0 : 1;
  }
  const shown = check.disagreements.slice(0, 20).map((d) => `  ${d.what} ${d.id}: expected ${d.expected ?? '(none)'}, got ${d.actual ?? '(none)'}`);
  io.err(
    `ground truth: ${check.agreeing} of ${check.legs} legs agree; ${check.disagreements.length} disagreement(s):\n${shown.join('\n')}\n`,
  );
  return 1;
}

async function loadTruth(path: string): Promise<GroundTruth> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --truth ${path}: ${(error as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = GroundTruth.safeParse(json);
  if (!parsed.success) throw new UsageError(`--truth ${path} is not a ground-truth file from rotor generate`);
  return parsed.data;
}
