import { runGenerate } from './commands/generate.ts';
import { runSimulate } from './commands/simulate.ts';
import { UsageError, type CommandIO, defaultIO } from './io.ts';

/** `rotor` — the operator's command line (DESIGN §5). Each command returns its exit code. */

interface Command {
  summary: string;
  run(args: string[], io: CommandIO): Promise<number>;
}

const COMMANDS: Record<string, Command> = {
  simulate: { summary: 'run the trade matching and settlement rules over a file of trade legs, offline', run: runSimulate },
  generate: { summary: 'send generated trade legs to the active region (or write them offline with --out FILE)', run: runGenerate },
  // The twin's commands load the controller and the AWS SDK only when used, so the offline commands start fast.
  up: {
    summary: 'start the two-region twin and its global layer; Ctrl-C stops it',
    run: async (args, io) => (await import('./commands/up.ts')).runUp(args, io),
  },
  submit: {
    summary: 'send raw messages (one JSON body per line) to the active region',
    run: async (args, io) => (await import('./commands/submit.ts')).runSubmit(args, io),
  },
  verify: {
    summary: "judge the running twin against the generator's ground truth",
    run: async (args, io) => (await import('./commands/verify.ts')).runVerify(args, io),
  },
  status: {
    summary: 'regions, routing controls and replication lag of the running twin',
    run: async (args, io) => (await import('./commands/status.ts')).runStatus(args, io),
  },
  region: {
    summary: 'stop, kill or start one region of the running twin (outage drills)',
    run: async (args, io) => (await import('./commands/region.ts')).runRegion(args, io),
  },
  rotate: {
    summary: 'move an app to another region: planned rotation, or disaster recovery with --unplanned',
    run: async (args, io) => (await import('./commands/rotate.ts')).runRotate(args, io),
  },
  reconcile: {
    summary: "compare an app's stores stage by stage, replay what is missing, report every replayed id",
    run: async (args, io) => (await import('./commands/reconcile.ts')).runReconcile(args, io),
  },
  chaos: {
    summary: 'inject a fault into the running twin (crashes, duplicates, poison, throttling, partitions, outages)',
    run: async (args, io) => (await import('./commands/chaos.ts')).runChaos(args, io),
  },
  drill: {
    summary: 'run a resilience scenario (planned rotation, region outage) on a fresh twin, judged by verify',
    run: async (args, io) => (await import('./commands/drill.ts')).runDrill(args, io),
  },
  'fix-client': {
    summary: 'FIX 4.4 load client: IM and broker sessions send matching trade legs to the FIX gateway',
    run: async (args, io) => (await import('./commands/fix-client.ts')).runFixClient(args, io),
  },
  bench: {
    summary: 'throughput and latency on a fresh twin, with the emulator ceiling measured in the same run',
    run: async (args, io) => (await import('./commands/bench.ts')).runBench(args, io),
  },
};

const USAGE = `rotor — resilient trade matching and settlement

Usage: rotor <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join('\n')}

Run \`rotor <command> --help\` for a command's options.
`;

export async function main(argv: string[], io: CommandIO = defaultIO): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`rotor: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`rotor ${name}: ${error.message}\nRun \`rotor ${name} --help\` for usage.\n`);
      return 2;
    }
    io.err(`rotor ${name}: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
