import path from 'node:path';
import { type CommandIO, parseCommand, UsageError, wholeNumber } from '../io.ts';

const HELP = `Usage: rotor chaos list [--json]
       rotor chaos status [--json]
       rotor chaos <experiment> [--target NAME[,NAME…]] [--duration SECONDS] [--json]
       rotor chaos stop [<experiment>]

Injects a fault into the running twin (rotor up), inside its data path: the region processes' Lambda runtime,
Kinesis and DynamoDB fronts and broker, the replication links, the ARC cluster, or the regions themselves. The
fault ends by itself after its duration (each experiment has a default), or with rotor chaos stop.

Options:
  --target NAMES     what the fault applies to (functions, streams, queues, operations, regions or ARC endpoint
                     indexes, as rotor chaos list says); default: the experiment's own
  --duration SECONDS how long the fault lasts
  --json             print JSON
  --data-dir DIR     the twin's data directory (default .rotor/twin)
  -h, --help         show this help
`;

export async function runChaos(args: string[], io: CommandIO): Promise<number> {
  const options = parseCommand(args, {
    target: { type: 'string' },
    duration: { type: 'string' },
    json: { type: 'boolean' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const [command, name, ...extra] = options.positionals;
  if (command === undefined || extra.length > 0) throw new UsageError('name an experiment, or list, status or stop');
  const { TwinClient } = await import('#local/controller/twin-client.ts');
  const client = await TwinClient.connect(options['data-dir']);
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${client.controlUrl}${path}`, {
      method,
      signal: AbortSignal.timeout(180_000),
      ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    const answer = (await response.json()) as T & { error?: string };
    if (!response.ok) throw new UsageError(answer.error ?? `${method} ${path} answered ${response.status}`);
    return answer;
  };
  const print = (value: unknown, text: () => string) => io.out(options.json ? `${JSON.stringify(value)}\n` : `${text()}\n`);

  if (command === 'list') {
    const list = await call<Array<{ name: string; summary: string; targetKind: string; defaultTargets: string[]; defaultDurationMs: number; brokenBuild: boolean }>>('GET', '/chaos/experiments');
    print(list, () =>
      list
        .map((entry) => `${entry.name.padEnd(26)} ${entry.summary}\n${''.padEnd(27)}targets ${entry.targetKind}: ${entry.defaultTargets.join(',') || '-'}; ${entry.defaultDurationMs / 1000} s`)
        .join('\n'),
    );
    return 0;
  }
  if (command === 'status') {
    const status = await call<{ running: unknown[]; recent: unknown[] }>('GET', '/chaos');
    print(status, () => JSON.stringify(status, null, 2));
    return 0;
  }
  if (command === 'stop') {
    const stopped = await call<Array<{ experiment: string; state: string }>>('POST', name === undefined ? '/chaos/stop' : `/chaos/experiments/${encodeURIComponent(name)}/stop`);
    print(stopped, () => (stopped.length === 0 ? 'nothing was running' : stopped.map((run) => `${run.experiment} ${run.state}`).join('\n')));
    return 0;
  }
  if (name !== undefined) throw new UsageError(`unexpected ${name}`);
  const durationSeconds = options.duration === undefined ? undefined : wholeNumber('duration', options.duration, 0);
  if (durationSeconds !== undefined && durationSeconds <= 0) throw new UsageError('--duration must be a positive number of seconds');
  const run = await call<{ id: string; experiment: string; state: string; targets: string[]; durationMs: number; notes: string[]; error?: string }>(
    'POST',
    `/chaos/experiments/${encodeURIComponent(command)}/start`,
    { ...(options.target ? { targets: options.target.split(',').map((target) => target.trim()).filter(Boolean) } : {}), ...(durationSeconds === undefined ? {} : { durationMs: durationSeconds * 1000 }) },
  );
  print(run, () => `${run.experiment} ${run.state} for ${run.durationMs / 1000} s (${run.id})${run.notes.map((note) => `\n  ${note}`).join('')}${run.error ? `\n  error: ${run.error}` : ''}`);
  return run.state === 'failed' ? 1 : 0;
}

const MATRIX_HELP = `Usage: rotor drill chaos-matrix [--json] [--profile ci|soak] [--experiments NAME[,NAME…]] [--rate LEGS_PER_S]
                              [--fault SECONDS] [--data-dir DIR]

Runs the chaos experiments in turn against one fresh twin under steady generator load (its own, under
.rotor/drills/chaos-matrix unless --data-dir is given; its ports must be free). After each: recovery, reconciliation
where the runbook runs it, then verify and the invariants — nothing lost, no effect twice, ledger balanced, every
NACK with a reason, nothing in a failure or dead-letter queue, every mapping caught up. One row per experiment.

  --profile ci|soak     ci (default): one experiment per family, 1 leg/s, 5 s faults; soak: all of them, 4 legs/s, 30 s faults
  --experiments NAMES   run these instead (broken-skip-batch shows the matrix failing)
  --rate, --fault       override the profile's load and fault duration

Exit 0 when every row is ok, 1 when not.
`;

export async function runChaosMatrix(args: string[], io: CommandIO): Promise<number> {
  const options = parseCommand(args, {
    json: { type: 'boolean' },
    profile: { type: 'string' },
    experiments: { type: 'string' },
    rate: { type: 'string' },
    fault: { type: 'string' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(MATRIX_HELP);
    return 0;
  }
  if (options.positionals.length > 0) throw new UsageError(`unexpected ${options.positionals.join(' ')}`);
  const profile = options.profile ?? 'ci';
  if (profile !== 'ci' && profile !== 'soak') throw new UsageError(`--profile must be ci or soak, not ${profile}`);
  const rate = options.rate === undefined ? undefined : Number(options.rate);
  if (rate !== undefined && !(Number.isFinite(rate) && rate > 0)) throw new UsageError(`--rate must be a positive number of legs per second, not ${options.rate}`);
  const { chaosMatrixDrill } = await import('#local/chaos/matrix.ts');
  const result = await chaosMatrixDrill({
    dataDir: options['data-dir'] ?? path.join('.rotor', 'drills', 'chaos-matrix'),
    profile,
    ...(options.experiments ? { experiments: options.experiments.split(',').map((name) => name.trim()).filter(Boolean) } : {}),
    ...(rate === undefined ? {} : { rate }),
    ...(options.fault === undefined ? {} : { faultSeconds: wholeNumber('fault', options.fault) }),
    progress: (message) => io.err(`${new Date().toISOString().slice(11, 19)}  ${message}\n`),
  });
  if (options.json) io.out(`${JSON.stringify(result)}\n`);
  else io.out(`${formatMatrix(result)}\n`);
  return result.ok ? 0 : 1;
}

export function formatMatrix(result: import('#local/chaos/matrix.ts').ChaosMatrixResult): string {
  const header = ['experiment', 'ok', 'lost', 'duplicates', 'recovery_ms', 'notes'];
  const rows = result.rows.map((row) => [row.experiment, String(row.ok), String(row.lost), String(row.duplicates), String(row.recovery_ms ?? 'n/a'), row.notes.join(' | ')]);
  const widths = header.slice(0, 5).map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column < 5 ? cell.padEnd(widths[column]!) : cell)).join('  ');
  return [
    `${result.ok ? 'OK' : 'NOT OK'} — chaos-matrix (${result.profile}): ${result.rows.filter((row) => row.ok).length} of ${result.rows.length} experiments ok; legs sent ${result.legs_sent}, lost ${result.lost}, duplicates ${result.duplicates}, ledger ${result.ledger_balanced ? 'balanced' : 'NOT balanced'}; ${Math.round(result.duration_ms / 1000)} s`,
    line(header),
    ...rows.map(line),
    ...result.notes.map((note) => `note: ${note}`),
  ].join('\n');
}

const BAD_INPUT_HELP = `Usage: rotor drill bad-input [--messages N] [--seed S] [--rate LEGS_PER_S] [--drain-timeout SECONDS] [--json] [--data-dir DIR]

A fresh twin of its own with valid generator load; N adversarial bodies (fast-check: malformed, oversized, missing,
unknown and mistyped fields, bad prices, dates and allocations, senders who are not parties) sent into tm.trades
beside it. Every bad one must come back as a NACK with its code and a reason, every valid leg must reach its
terminal state; the regions' memory is sampled throughout and the NACK rate measured.

  --messages N           bad bodies to send (default 500; 10000 for the soak)
  --seed S               fast-check seed (default 1)
  --rate LEGS_PER_S      valid load beside them (default 2)
  --drain-timeout SECONDS  how long to wait for the last NACK (default 600)
`;

export async function runBadInput(args: string[], io: CommandIO): Promise<number> {
  const options = parseCommand(args, {
    messages: { type: 'string' },
    seed: { type: 'string' },
    rate: { type: 'string' },
    'drain-timeout': { type: 'string' },
    json: { type: 'boolean' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(BAD_INPUT_HELP);
    return 0;
  }
  if (options.positionals.length > 0) throw new UsageError(`unexpected ${options.positionals.join(' ')}`);
  const rate = Number(options.rate ?? 2);
  if (!(Number.isFinite(rate) && rate > 0)) throw new UsageError(`--rate must be a positive number of legs per second, not ${options.rate}`);
  const { badInputDrill } = await import('#local/chaos/bad-input.ts');
  const result = await badInputDrill({
    dataDir: options['data-dir'] ?? path.join('.rotor', 'drills', 'bad-input'),
    messages: wholeNumber('messages', options.messages, 500),
    seed: wholeNumber('seed', options.seed, 1),
    rate,
    drainTimeoutSeconds: wholeNumber('drain-timeout', options['drain-timeout'], 600),
    progress: (message) => io.err(`${new Date().toISOString().slice(11, 19)}  ${message}\n`),
  });
  if (options.json) io.out(`${JSON.stringify(result)}\n`);
  else {
    io.out(
      [
        `${result.ok ? 'OK' : 'NOT OK'} — bad-input: ${result.bad_sent} bad messages, ${result.bad_nacked} NACKed with a reason (${result.bad_unanswered} unanswered, ${result.bad_wrong_code} with another code, ${result.bad_without_reason} without a reason)`,
        `  ${result.nacks_per_minute} NACKs per minute (sent in ${result.send_ms} ms, all answered after ${result.drain_ms} ms); codes ${JSON.stringify(result.codes)}`,
        `  valid load: ${result.valid.legs_sent} legs, lost ${result.valid.lost}, duplicates ${result.valid.duplicates}, unexpected ${result.valid.unexpected}, ledger ${result.valid.ledger_balanced ? 'balanced' : 'NOT balanced'}`,
        `  memory (MB start/peak/end): ${Object.entries(result.rss_mb).map(([region, rss]) => `${region} ${rss.start}/${rss.peak}/${rss.end}`).join(', ')}`,
      ].join('\n') + '\n',
    );
  }
  return result.ok ? 0 : 1;
}
