import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_TWIN_DATA_DIR } from '#local/controller/twin-layout.ts';
import type { TwinExecution } from '#local/controller/twin-workflows.ts';
import { appArgument, type CommandIO, parseCommand, wholeNumber } from '../io.ts';
import { followExecution, progressLine } from './execution-progress.ts';

const HELP = `Usage: rotor reconcile <trade-matching|settlement> [--json] [--max-passes N] [--propagation SECONDS]
                       [--region REGION] [--timeout SECONDS] [--data-dir DIR]

Runs the app's reconciliation workflow (workflows/reconciliation.asl.json) in the twin: every pair of adjacent
stores is compared by id and content, what is missing downstream is replayed through the stream or queue that
feeds it, and passes repeat until one finds nothing missing. Shows each state as it runs, then writes the report
(every replayed id) as JSON and CSV under the data directory's reports/ folder.

Exit 0 when a pass found nothing missing, 1 otherwise.

Options:
  --json                  print the result as JSON
  --max-passes N          passes before giving up (default 5)
  --propagation SECONDS   wait after each replay before comparing again (default 3)
  --region REGION         run in this region (default: where the app is active)
  --timeout SECONDS       stop waiting for the execution after this long (default 600)
  --data-dir DIR          the twin's data directory (default ${DEFAULT_TWIN_DATA_DIR})
  -h, --help              show this help
`;


export interface ReconciliationReport {
  readonly app: string;
  readonly runId: string;
  readonly outcome: 'CONVERGED' | 'NOT_CONVERGED' | 'FAILED';
  readonly passes: number;
  readonly replayed: number;
  readonly missingAtEnd: number;
  readonly pairs: ReadonlyArray<{ pair: string; checked: number; missing: number; replayed: number }>;
  readonly replayedIds: ReadonlyArray<{ pair: string; id: string; pass: number }>;
  readonly startedAt?: string;
  readonly finishedAt?: string;
}

export async function runReconcile(args: string[], io: CommandIO): Promise<number> {
  const options = parseCommand(args, {
    json: { type: 'boolean' },
    'max-passes': { type: 'string' },
    propagation: { type: 'string' },
    region: { type: 'string' },
    timeout: { type: 'string' },
    'data-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (options.help) {
    io.out(HELP);
    return 0;
  }
  const app = appArgument(options.positionals);
  const maxPasses = wholeNumber('max-passes', options['max-passes'], 5);
  const propagationSeconds = wholeNumber('propagation', options.propagation, 3);
  const timeoutMs = wholeNumber('timeout', options.timeout, 600) * 1000;
  const { TwinClient } = await import('#local/controller/twin-client.ts');
  const client = await TwinClient.connect(options['data-dir'] ?? DEFAULT_TWIN_DATA_DIR);

  const stateMachine = `${app === 'trade-matching' ? 'tm' : 'sm'}-reconciliation`;
  const input = { app, until: new Date().toISOString(), maxPasses, propagationSeconds };
  const started = await client.startExecution(stateMachine, input, options.region ? { region: options.region } : {});
  io.err(`${stateMachine} ${started.name} in ${started.region}\n`);
  const execution = await followExecution(started.name, timeoutMs, (name) => client.describeExecution(name), (event) => io.err(progressLine(event, started.startDate)));

  const report = reportOf(execution);
  const files = report ? await writeReport(client.dataDir, report) : undefined;
  const result = {
    ok: execution.status === 'SUCCEEDED' && report?.outcome === 'CONVERGED',
    app,
    execution: execution.name,
    region: execution.region,
    status: execution.status,
    outcome: report?.outcome ?? null,
    passes: report?.passes ?? 0,
    replayed: report?.replayed ?? 0,
    missing_at_end: report?.missingAtEnd ?? null,
    pairs: report?.pairs ?? [],
    report: files ?? null,
    elapsed_ms: Date.parse(execution.stopDate ?? new Date().toISOString()) - Date.parse(execution.startDate),
    ...(execution.error ? { error: execution.error, cause: execution.cause } : {}),
  };
  if (options.json) io.out(`${JSON.stringify(result)}\n`);
  else io.out(formatResult(result));
  return result.ok ? 0 : 1;
}

/** The Report state's output: the execution's output when it succeeded, the state's exit otherwise. */
export function reportOf(execution: TwinExecution): ReconciliationReport | undefined {
  const exit = execution.events.filter((event) => event.type === 'StateExited' && event.stateName === 'Report').at(-1);
  return (exit?.output ?? undefined) as ReconciliationReport | undefined;
}

async function writeReport(dataDir: string, report: ReconciliationReport): Promise<{ json: string; csv: string }> {
  const directory = path.join(dataDir, 'reports');
  await mkdir(directory, { recursive: true });
  const base = path.join(directory, `reconciliation-${report.app}-${report.runId}`);
  const csv = ['pair,id,pass', ...report.replayedIds.map((row) => [row.pair, row.id, String(row.pass)].map(csvField).join(','))].join('\n');
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(`${base}.csv`, `${csv}\n`);
  return { json: `${base}.json`, csv: `${base}.csv` };
}

const csvField = (value: string) => (/[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value);

function formatResult(result: {
  ok: boolean;
  app: string;
  status: string;
  outcome: string | null;
  passes: number;
  replayed: number;
  missing_at_end: number | null;
  pairs: ReconciliationReport['pairs'];
  report: { json: string; csv: string } | null;
  elapsed_ms: number;
  error?: string;
  cause?: string;
}): string {
  const lines = [
    `${result.ok ? 'RECONCILED' : 'NOT RECONCILED'} — ${result.app}: ${result.outcome ?? result.status} after ${result.passes} pass(es) in ${(result.elapsed_ms / 1000).toFixed(1)} s, ${result.replayed} replayed, ${result.missing_at_end ?? '?'} missing at the end`,
    ...result.pairs.map((pair) => `  ${pair.pair.padEnd(40)} checked ${String(pair.checked).padStart(7)}  missing ${String(pair.missing).padStart(5)}  replayed ${String(pair.replayed).padStart(5)}`),
    ...(result.error ? [`  error: ${result.error}: ${result.cause ?? ''}`] : []),
    ...(result.report ? [`  report: ${result.report.json}`, `          ${result.report.csv}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
