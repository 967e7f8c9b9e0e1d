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
  generate: { summary: 'generate trade legs and their ground truth (offline: --out FILE)', run: runGenerate },
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
