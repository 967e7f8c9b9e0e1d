import { type CommandIO, parseOptions, UsageError } from '../io.ts';

const DEFAULT_DATA_DIR = '.rotor/bench';
const RESULTS_DIR = 'bench/results';
const PROFILES = ['quick', 'full'] as const;
type Profile = (typeof PROFILES)[number];

const HELP = `Usage: rotor bench [--json] [--profile quick|full] [--data-dir DIR]

Measures the pipeline on a fresh twin of its own, started in this process as \`rotor up\` starts it (its data
directory is wiped first), and stops it at the end:

  1. ceiling   the emulator calls one trade leg costs in the pipeline (counted from the stages' code over the
               generator's mix: stream puts and gets, safe-store writes, idempotency records, SQL transactions,
               broker sends and acks) run bare against the active region's Kinesis, DynamoDB, MQ broker and
               PostgreSQL, at a few fixed concurrencies; the best is ceiling_legs_per_s
  2. pipeline  the generator function at rising rates; a rate is sustained when the iterator ages and queue
               depths stay bounded and the legs sent reach their terminal state: legs_per_s, ratio
  3. latency   at half the sustained rate, every leg from acknowledged (inbound gateway) to terminal (its final
               response delivered): p50_ms, p95_ms, p99_ms; emulator calls per leg; CPU and peak RSS per process

Prints a table (or one JSON object with --json) and writes ${RESULTS_DIR}/<timestamp>/: result.json, report.md and
its SVG charts (throughput over time, latency distribution, memory, CPU). Progress goes to stderr. See
docs/performance.md for every field.

Options:
  --json            print the result as one JSON object
  --profile NAME    quick (default; under 5 minutes on 2 cores) or full (about 15 minutes)
  --data-dir DIR    where the bench's twin lives (default ${DEFAULT_DATA_DIR}); wiped at the start, so it must be
                    new, empty, or an earlier bench's
  -h, --help        show this help

Exit codes:
  0  measured (whatever the figures)
  1  the twin could not start, or the bench failed
  2  bad arguments
  3  a port of the data directory's saved layout is taken by another process
  4  a twin already runs on the data directory
  130 interrupted (Ctrl-C); the twin is stopped first
`;

export interface BenchArguments {
  readonly help: boolean;
  readonly json: boolean;
  readonly profile: Profile;
  readonly dataDir: string;
}

export function parseBenchArguments(args: string[]): BenchArguments {
  const options = parseOptions(args, {
    json: { type: 'boolean' },
    profile: { type: 'string' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  const profile = options.profile ?? 'quick';
  if (!(PROFILES as readonly string[]).includes(profile)) throw new UsageError(`--profile must be quick or full, got "${profile}"`);
  const dataDir = options['data-dir'] ?? DEFAULT_DATA_DIR;
  if (dataDir.trim() === '') throw new UsageError('--data-dir must name a directory');
  return { help: options.help ?? false, json: options.json ?? false, profile: profile as Profile, dataDir };
}

export async function runBench(args: string[], io: CommandIO): Promise<number> {
  const options = parseBenchArguments(args);
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const [{ runBench: bench, BenchAbortedError, BenchDataDirError }, { PROFILES: profiles }, { formatTable, writeReport }, errors] = await Promise.all([
    import('#local/bench/bench.ts'),
    import('#local/bench/profiles.ts'),
    import('#local/bench/report.ts'),
    import('#local/controller/errors.ts'),
  ]);
  const abort = new AbortController();
  const interrupt = () => {
    io.err('\nrotor bench: interrupted; stopping the twin…\n');
    abort.abort();
    process.once('SIGINT', () => process.exit(130));
  };
  process.once('SIGINT', interrupt);
  const began = Date.now();
  const progress = (line: string) => io.err(`  ${String(Math.round((Date.now() - began) / 1000)).padStart(4)} s  ${line}\n`);
  try {
    const { result, series } = await bench({ profile: profiles[options.profile], dataDir: options.dataDir, progress, signal: abort.signal });
    const directory = await writeReport(result, series, RESULTS_DIR);
    io.out(options.json ? `${JSON.stringify({ ...result, report: `${directory}/report.md` })}\n` : formatTable(result, `${directory}/report.md`));
    return 0;
  } catch (error) {
    if (error instanceof BenchDataDirError) throw new UsageError(error.message);
    if (error instanceof BenchAbortedError) {
      io.err(`rotor bench: ${error.message}\n`);
      return 130;
    }
    if (error instanceof errors.PortInUseError || error instanceof errors.TwinAlreadyRunningError) {
      io.err(`rotor bench: ${error.message}\n`);
      return error instanceof errors.PortInUseError ? 3 : 4;
    }
    throw error;
  } finally {
    process.off('SIGINT', interrupt);
  }
}
