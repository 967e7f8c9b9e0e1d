import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** What a command reads and writes, so tests can run commands in-process and capture their output. */
export interface CommandIO {
  out(text: string): void;
  err(text: string): void;
  stdin(): Readable;
}

export const defaultIO: CommandIO = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  stdin: () => process.stdin,
};

/** Bad arguments: the user gets the message and a pointer to `--help`, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function parseOptions<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** As parseOptions, for commands that also take positional arguments (`rotor reconcile <app>`). */
export function parseCommand<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T) {
  try {
    const { values, positionals } = parseArgs({ args, options, strict: true, allowPositionals: true });
    return { ...values, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

const APPS = ['trade-matching', 'settlement'] as const;

/** The one app a command is about (`rotor reconcile <app>`, `rotor rotate <app>`). */
export function appArgument(positionals: readonly string[]): (typeof APPS)[number] {
  const [app, ...extra] = positionals;
  if (app === undefined || !APPS.includes(app as (typeof APPS)[number]) || extra.length > 0) {
    throw new UsageError(`name one app, trade-matching or settlement${app ? ` (not ${positionals.join(' ')})` : ''}`);
  }
  return app as (typeof APPS)[number];
}

export function wholeNumber(name: string, text: string | undefined, fallback?: number): number {
  if (text === undefined) {
    if (fallback === undefined) throw new UsageError(`--${name} is required`);
    return fallback;
  }
  if (!/^\d+$/.test(text)) throw new UsageError(`--${name} must be a whole number, got "${text}"`);
  return Number(text);
}

export function positiveNumber(name: string, text: string): number {
  if (!/^\d+(\.\d+)?$/.test(text) || !(Number(text) > 0)) throw new UsageError(`--${name} must be a number above 0, got "${text}"`);
  return Number(text);
}

/** Lines of a file, or of standard input for `-`, with their 0-based line numbers; blank lines are skipped. */
export async function* readLines(path: string, io: CommandIO): AsyncGenerator<{ index: number; body: string }> {
  const input = path === '-' ? io.stdin() : createReadStream(path);
  const lines = createInterface({ input, crlfDelay: Infinity });
  let index = 0;
  for await (const line of lines) {
    if (line.trim() !== '') yield { index, body: line };
    index += 1;
  }
}
