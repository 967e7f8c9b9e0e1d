// Runs QuickFIX (C++), an independent FIX 4.4 engine, as an initiator against Rotor's FIX gateway: builds it once
// (tests/interop/quickfix/build.sh, cached by source fingerprint), writes the legs file, runs it, and returns what
// it received, parsed. Needs Debian's libquickfix-dev and g++ (.ci/run installs them).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export class QuickFixInitiatorError extends Error {}

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD_SCRIPT = join(REPO_ROOT, 'tests/interop/quickfix/build.sh');
const DEFAULT_CACHE_DIR = join(REPO_ROOT, 'node_modules/.cache/rotor-quickfix');

export interface QuickFixAllocation { account: string; quantity: string; allocationId: string }

/** One AllocationInstruction (35=J); strings go on the wire exactly as given. */
export interface QuickFixLeg {
  allocId: string;
  side: '1' | '2';
  symbol: string;
  quantity: string;
  price: string;
  /** YYYYMMDD */
  tradeDate: string;
  /** YYYYMMDD */
  settlDate: string;
  execId: string;
  /** PartyID with PartyRole 13 (the investment manager). */
  im: string;
  /** PartyID with PartyRole 1 (the broker). */
  broker: string;
  allocations: readonly QuickFixAllocation[];
  text?: string;
  /** Sent as LastQty (32) at the head of the NoExecs entry, FIX 4.4's standard form; left out by default. */
  lastQty?: string;
  transType?: string;
  allocType?: string;
}

/** A FIX message as the initiator printed it, fields in wire order. */
export interface FixLine {
  /** APP / ADMIN: received (application / session level); OUT: sent by QuickFIX. */
  kind: 'APP' | 'ADMIN' | 'OUT';
  raw: string;
  fields: readonly (readonly [number, string])[];
  /** The first value of `tag`, or undefined. */
  value(tag: number): string | undefined;
}

export interface QuickFixRun {
  /** 0 done, 2 timeout, 3 logon refused, 4 bad arguments; null when killed. */
  status: number | null;
  /** Messages received from the gateway (APP and ADMIN lines), in order. */
  received: FixLine[];
  /** Messages QuickFIX sent, in order (a 35=3 among them means QuickFIX rejected something the gateway sent). */
  sent: FixLine[];
  /** LOGON, LOGOUT, DONE, TIMEOUT …, REFUSED …, ERROR … lines. */
  events: string[];
  stdout: string;
  stderr: string;
}

export interface QuickFixRunOptions {
  host?: string;
  port: number;
  senderCompId: string;
  targetCompId?: string;
  password: string;
  legs: readonly QuickFixLeg[];
  /** Application messages (and session Rejects) to wait for before logging out. */
  expect: number;
  timeoutSeconds?: number;
  /**
   * A QuickFIX FileStore directory kept across runs, so sequence numbers continue from one connection to the next
   * as a real client's do; by default each run starts from a fresh temporary store.
   */
  storeDir?: string;
  /** Send ResetSeqNumFlag (141=Y) in every Logon (default true; false suits a kept `storeDir`). */
  resetOnLogon?: boolean;
  cacheDir?: string;
}

export interface QuickFixBuild { binary: string; dictionary: string }

const builds = new Map<string, Promise<QuickFixBuild>>();

/** Builds the initiator and its FIX44.xml into `cacheDir` (once per process; the script skips unchanged sources). */
export function buildQuickFixInitiator(cacheDir = DEFAULT_CACHE_DIR): Promise<QuickFixBuild> {
  let build = builds.get(cacheDir);
  if (!build) {
    build = run('bash', [BUILD_SCRIPT, cacheDir], 600_000).then(({ status, stdout, stderr }) => {
      if (status !== 0) throw new QuickFixInitiatorError(`QuickFIX initiator build failed (exit ${status}):\n${stdout}${stderr}`);
      return { binary: join(cacheDir, 'rotor-quickfix-initiator'), dictionary: join(cacheDir, 'FIX44.xml') };
    });
    builds.set(cacheDir, build);
  }
  return build;
}

export function legLine(leg: QuickFixLeg): string {
  const fields: [string, string | undefined][] = [
    ['allocId', leg.allocId], ['side', leg.side], ['symbol', leg.symbol], ['quantity', leg.quantity], ['price', leg.price],
    ['tradeDate', leg.tradeDate], ['settlDate', leg.settlDate], ['execId', leg.execId], ['im', leg.im], ['broker', leg.broker],
    ['text', leg.text], ['lastQty', leg.lastQty], ['transType', leg.transType], ['allocType', leg.allocType],
  ];
  const parts = fields.filter((field): field is [string, string] => field[1] !== undefined).map(([key, value]) => `${key}=${value}`);
  for (const allocation of leg.allocations) parts.push(`alloc=${allocation.account},${allocation.quantity},${allocation.allocationId}`);
  for (const part of parts) {
    if (/[|\n]/.test(part)) throw new QuickFixInitiatorError(`a leg field cannot hold '|' or a newline: ${part}`);
  }
  return parts.join('|');
}

/** Parses `APP 8=FIX.4.4|9=…|…|10=…|` (values holding '|' would split; Rotor's messages have none). */
export function parseFixLine(line: string): FixLine | undefined {
  const match = /^(APP|ADMIN|OUT) (.*)$/.exec(line);
  if (!match) return undefined;
  const raw = match[2]!;
  const fields = raw
    .split('|')
    .filter((part) => part.length > 0)
    .map((part): readonly [number, string] => {
      const equals = part.indexOf('=');
      return [Number(part.slice(0, equals)), part.slice(equals + 1)];
    });
  return { kind: match[1] as FixLine['kind'], raw, fields, value: (tag) => fields.find(([candidate]) => candidate === tag)?.[1] };
}

export async function runQuickFixInitiator(options: QuickFixRunOptions): Promise<QuickFixRun> {
  const { binary, dictionary } = await buildQuickFixInitiator(options.cacheDir);
  const dir = await mkdtemp(join(tmpdir(), 'rotor-quickfix-legs-'));
  try {
    const legsFile = join(dir, 'legs.txt');
    await writeFile(legsFile, options.legs.map(legLine).join('\n') + '\n');
    const timeoutSeconds = options.timeoutSeconds ?? 30;
    const args = [
      '--host', options.host ?? '127.0.0.1', '--port', String(options.port), '--sender', options.senderCompId,
      '--target', options.targetCompId ?? 'ROTOR', '--password', options.password, '--legs', legsFile,
      '--expect', String(options.expect), '--timeout', String(timeoutSeconds), '--dictionary', dictionary,
      '--reset', options.resetOnLogon === false ? 'N' : 'Y', ...(options.storeDir ? ['--store', options.storeDir] : []),
    ];
    // The initiator ends itself at its timeout; the kill is for a hung process only.
    const { status, stdout, stderr } = await run(binary, args, (timeoutSeconds + 20) * 1000);
    const lines = stdout.split('\n').filter((line) => line.length > 0);
    const messages = lines.map(parseFixLine).filter((line): line is FixLine => line !== undefined);
    return {
      status,
      received: messages.filter((message) => message.kind !== 'OUT'),
      sent: messages.filter((message) => message.kind === 'OUT'),
      events: lines.filter((line) => parseFixLine(line) === undefined),
      stdout,
      stderr,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(command: string, args: readonly string[], killAfterMs: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('error', (error) => {
      clearTimeout(killer);
      reject(new QuickFixInitiatorError(`cannot run ${command}: ${error.message}`));
    });
    child.on('close', (status) => {
      clearTimeout(killer);
      resolvePromise({ status, stdout, stderr });
    });
  });
}
