import { Readable } from 'node:stream';
import type { CommandIO } from '#cli/io.ts';

/** Runs a command in-process with its output captured and, optionally, text on standard input. */
export function capturedIO(stdinText = ''): CommandIO & { stdout: () => string; stderr: () => string } {
  let out = '';
  let err = '';
  return {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    stdin: () => Readable.from([stdinText]),
    stdout: () => out,
    stderr: () => err,
  };
}
