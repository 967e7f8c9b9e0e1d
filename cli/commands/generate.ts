import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { DEFAULT_MIX, generateRun, type PairMix } from '#domain/generator.ts';
import { type CommandIO, parseOptions, UsageError, wholeNumber } from '../io.ts';

const HELP = `Usage: rotor generate --pairs N [--seed S] [--mix M:X:U] [--out FILE [--truth FILE]]

Generates trade leg pairs, deterministically for a seed: by default one third that match (and settle), one third
that mismatch (security, price or quantity really differs) and one third that never meet (different tradeID),
each with 1 to 10 allocations. Legs come out in a shuffled, seed-determined arrival order.

Options:
  --pairs N        number of pairs (2 legs each)
  --seed S         seed, 0..4294967295 (default 1); the same seed gives the same legs
  --mix M:X:U      weights of matched:mismatched:unmatched pairs (default 1:1:1)
  --out FILE       write the legs as JSON lines to FILE (offline mode)
  --truth FILE     where to write the ground truth (default: FILE with .jsonl replaced by .truth.json)
  -h, --help       show this help

Sending to a running twin (without --out) arrives with the pipeline functions; today generate works offline only.

Example:
  rotor generate --pairs 1000 --seed 1 --out legs.jsonl && rotor simulate --in legs.jsonl --truth legs.truth.json
`;

export async function runGenerate(args: string[], io: CommandIO): Promise<number> {
  const options = parseOptions(args, {
    pairs: { type: 'string' },
    seed: { type: 'string' },
    mix: { type: 'string' },
    out: { type: 'string' },
    truth: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const pairs = wholeNumber('pairs', options.pairs);
  const seed = wholeNumber('seed', options.seed, 1);
  if (seed > 0xffffffff) throw new UsageError('--seed must be at most 4294967295');
  const mix = options.mix ? parseMix(options.mix) : DEFAULT_MIX;
  if (!options.out) {
    throw new UsageError('--out FILE is required: sending legs to the running twin arrives with the pipeline functions');
  }
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
