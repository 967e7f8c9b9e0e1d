import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { DEFAULT_MIX, generateRun, type PairMix } from '#domain/generator.ts';
import { randomInt } from 'node:crypto';
import { DEFAULT_TWIN_DATA_DIR } from '#local/controller/twin-layout.ts';
import { type CommandIO, parseOptions, positiveNumber, UsageError, wholeNumber } from '../io.ts';

const HELP = `Usage: rotor generate --pairs N [--rate R] [--seed S] [--mix M:X:U] [--json] [--data-dir DIR]
       rotor generate --pairs N [--seed S] [--mix M:X:U] --out FILE [--truth FILE]

Generates trade leg pairs, deterministically for a seed: by default one third that match (and settle), one third
that mismatch (security, price or quantity really differs) and one third that never meet (different tradeID),
each with 1 to 10 allocations. Legs come out in a shuffled, seed-determined arrival order.

Options:
Without --out, the legs go to the running twin: the generator function of the region where trade matching is
active sends them to its tm.trades queue (while the trade-matching-generator routing control is On) and records
the run, so \`rotor verify\` can judge it.

Options:
  --pairs N        number of pairs (2 legs each)
  --rate R         legs per second (default: as fast as the broker takes them)
  --seed S         seed, 0..4294967295 (default: 1 offline, random live); the same seed gives the same legs
  --mix M:X:U      weights of matched:mismatched:unmatched pairs (default 1:1:1)
  --json           print the run as JSON (live mode)
  --data-dir DIR   the twin's data directory (default ${DEFAULT_TWIN_DATA_DIR})
  --out FILE       write the legs as JSON lines to FILE instead (offline mode)
  --truth FILE     where to write the ground truth (default: FILE with .jsonl replaced by .truth.json)
  -h, --help       show this help

Examples:
  rotor generate --pairs 500 --seed 3 && rotor verify
  rotor generate --pairs 1000 --seed 1 --out legs.jsonl && rotor simulate --in legs.jsonl --truth legs.truth.json
`;

export async function runGenerate(args: string[], io: CommandIO): Promise<number> {
  const options = parseOptions(args, {
    pairs: { type: 'string' },
    seed: { type: 'string' },
    mix: { type: 'string' },
    out: { type: 'string' },
    truth: { type: 'string' },
    rate: { type: 'string' },
    json: { type: 'boolean' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const pairs = wholeNumber('pairs', options.pairs);
  if (pairs < 1) throw new UsageError('--pairs must be at least 1');
  const live = !options.out;
  const seed = options.seed === undefined && live ? randomInt(0, 0xffffffff) : wholeNumber('seed', options.seed, 1);
  if (seed > 0xffffffff) throw new UsageError('--seed must be at most 4294967295');
  const mix = options.mix ? parseMix(options.mix) : DEFAULT_MIX;
  const rate = options.rate === undefined ? undefined : positiveNumber('rate', options.rate);
  if (!options.out) {
    if (options.truth) throw new UsageError('--truth goes with --out; live runs are judged by `rotor verify`');
    return generateLive({ pairs, seed, mix, ...(rate === undefined ? {} : { rate }) }, options['data-dir'] ?? DEFAULT_TWIN_DATA_DIR, Boolean(options.json), io);
  }
  if (rate !== undefined) throw new UsageError('--rate applies to live runs, not to --out');
  const truthPath = options.truth ?? defaultTruthPath(options.out);
  if (truthPath === options.out) throw new UsageError('--truth must differ from --out');

  const run = generateRun({ pairs, seed, mix });
  await mkdir(dirname(options.out), { recursive: true });
  await mkdir(dirname(truthPath), { recursive: true });
  const file = createWriteStream(options.out);
  for (const { leg } of run.legs) {
    if (!file.write(`${JSON.stringify(leg)}\n`)) await once(file, 'drain');
  }
  file.end();
  await once(file, 'finish');
  await writeFile(truthPath, `${JSON.stringify(run.truth, null, 1)}\n`);
  io.err(`wrote ${run.legs.length} legs to ${options.out} and their ground truth to ${truthPath}\n`);
  return 0;
}

function parseMix(text: string): PairMix {
  const parts = text.split(':');
  if (parts.length !== 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) {
    throw new UsageError(`--mix must be three non-negative weights M:X:U (matched:mismatched:unmatched), got "${text}"`);
  }
  const [matched, mismatched, unmatched] = parts.map(Number) as [number, number, number];
  if (matched + mismatched + unmatched === 0) throw new UsageError('--mix needs at least one weight above 0');
  return { matched, mismatched, unmatched };
}

const defaultTruthPath = (out: string) => (out.endsWith('.jsonl') ? out.slice(0, -'.jsonl'.length) : out) + '.truth.json';

/** Loaded only in live mode: the twin client pulls in the AWS SDK. */
async function generateLive(request: { pairs: number; seed: number; mix: PairMix; rate?: number }, dataDir: string, json: boolean, io: CommandIO): Promise<number> {
  const { generateOnTwin } = await import('./generate-live.ts');
  return generateOnTwin(request, dataDir, json, io);
}
