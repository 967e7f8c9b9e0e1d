import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { BenchResult, BenchSeries } from '#local/bench/bench.ts';
import { histogram, percentile, round } from '#local/bench/stats.ts';
import { histogramChart, lineChart, niceTicks } from '#local/bench/svg-charts.ts';

/** The bench's outputs: the terminal table, and `bench/results/<timestamp>/` with the JSON, charts and report.md. */

export const CHART_FILES = { throughput: 'throughput.svg', latency: 'latency.svg', memory: 'memory.svg', cpu: 'cpu.svg' } as const;

const show = (value: number | null | undefined, unit = '') => (value === null || value === undefined ? 'n/a' : `${value}${unit}`);

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join('  ').trimEnd());
}

const markdownTable = (rows: string[][]) => [`| ${rows[0]!.join(' | ')} |`, `|${rows[0]!.map(() => '---').join('|')}|`, ...rows.slice(1).map((row) => `| ${row.join(' | ')} |`)];

const stepRows = (result: BenchResult) => [
  ['RATE', 'SENT/S', 'TERMINAL', '98% AFTER', 'DONE/S', 'PEAK AGES SUM / MAX', 'PEAK DEPTH', 'VERDICT'],
  ...result.pipeline.steps.map((step) => [
    `${step.rate}`,
    `${step.send_rate}`,
    `${step.terminal}/${step.legs_sent}`,
    show(step.drain_s, ' s'),
    show(step.completion_rate),
    `${step.peak_iterator_age_ms} ms / ${step.peak_max_iterator_age_ms} ms`,
    `${step.peak_queue_depth}`,
    step.sustained ? `sustained${step.growth.length > 0 ? ' (grew, drained fast)' : ''}` : `not sustained: ${step.reasons.join('; ')}`,
  ]),
];

const processRows = (result: BenchResult) => {
  const phases = [...new Set(result.processes.flatMap((entry) => Object.keys(entry.cpu_s)).filter((phase) => phase !== 'total')), 'total'];
  return [
    ['PROCESS', 'PID', ...phases.map((phase) => `CPU s ${phase}`), 'PEAK RSS'],
    ...result.processes.map((entry) => [entry.name, String(entry.pid), ...phases.map((phase) => show(entry.cpu_s[phase])), show(entry.peak_rss_mb, ' MB')]),
  ];
};

/** What `rotor bench` prints without --json. */
export function formatTable(result: BenchResult, reportPath?: string): string {
  const latency = result.latency;
  const lines = [
    `Rotor bench (${result.profile}) — ${result.machine.cpus} cores, Node ${result.machine.node}, ${result.duration_s} s`,
    '',
    ...table([
      ['legs_per_s', show(result.legs_per_s), 'highest rate the pipeline sustained, both apps end to end'],
      ['ceiling_legs_per_s', show(result.ceiling_legs_per_s), "one leg's emulator calls run bare"],
      ['ratio', show(result.ratio), 'legs_per_s / ceiling_legs_per_s'],
      ['p50_ms / p95_ms / p99_ms', `${show(result.p50_ms)} / ${show(result.p95_ms)} / ${show(result.p99_ms)}`, latency ? `acknowledged → terminal at ${latency.rate} legs/s (${latency.terminal} legs, ${latency.unfinished} unfinished)` : ''],
      ['rss_mb', show(result.rss_mb), 'peak of all processes together'],
      ['calls_per_leg', result.calls_per_leg ? Object.entries(result.calls_per_leg).map(([service, calls]) => `${service} ${calls}`).join(', ') : 'n/a', result.calls_per_leg_reason ?? 'emulator calls per leg, both regions'],
      ['zero_rpo p50 / p99', zeroRpoFigures(result), zeroRpoNote(result)],
    ]).map((line) => `  ${line}`),
    '',
    ...table(stepRows(result)),
    '',
    ...table(processRows(result)),
  ];
  if ('error' in result.ceiling) lines.push('', `Ceiling failed: ${result.ceiling.error}`);
  else if (result.ceiling.notes.length > 0) lines.push('', ...result.ceiling.notes.map((note) => `Ceiling: ${note}`));
  if (reportPath) lines.push('', `Report: ${reportPath}`);
  return `${lines.join('\n')}\n`;
}

/** Legs per second acknowledged and terminal, in buckets, over seconds since the first leg was acknowledged. */
export function throughputSeries(series: Pick<BenchSeries, 'acknowledged' | 'terminal'>, bucketSeconds = 5) {
  const start = Math.min(...series.acknowledged, ...series.terminal);
  const end = Math.max(...series.acknowledged, ...series.terminal);
  if (!Number.isFinite(start)) return [];
  const buckets = Math.max(1, Math.ceil((end - start) / 1000 / bucketSeconds));
  const rate = (times: number[]) =>
    histogram(times.map((time) => (time - start) / 1000), 0, bucketSeconds, buckets).map((count, index) => ({ x: round((index + 0.5) * bucketSeconds, 1), y: round(count / bucketSeconds, 2) }));
  return [
    { name: 'acknowledged legs/s', points: rate(series.acknowledged) },
    { name: 'terminal legs/s', points: rate(series.terminal) },
  ];
}

export function charts(series: BenchSeries): Record<keyof typeof CHART_FILES, string> {
  const top = percentile(series.latencies, 99) ?? 0;
  const ticks = niceTicks(0, Math.max(1, top), 20);
  const width = ticks[1]! - ticks[0]!;
  const buckets = Math.max(1, ticks.length - 1);
  return {
    throughput: lineChart(throughputSeries(series), { title: 'Throughput over the bench (ramp steps, then the latency run)', xLabel: 'seconds since the first leg', yLabel: 'legs/s (5 s buckets)' }),
    latency: histogramChart(histogram(series.latencies, 0, width, buckets), 0, width, { title: 'Latency, acknowledged → terminal (last bar: up to p99 and beyond)', xLabel: 'ms', yLabel: 'legs' }),
    memory: lineChart([{ name: 'RSS, all processes', points: series.resources.map((point) => ({ x: point.t, y: point.rss_mb })) }], { title: 'Memory', xLabel: 'seconds since the twin started', yLabel: 'MB' }),
    cpu: lineChart([{ name: 'CPU cores busy, all processes', points: series.resources.map((point) => ({ x: point.t, y: point.cores })) }], { title: 'CPU', xLabel: 'seconds since the twin started', yLabel: 'cores' }),
  };
}

export function renderMarkdown(result: BenchResult): string {
  const ceiling = result.ceiling;
  const latency = result.latency;
  const lines = [
    `# Rotor bench — ${result.profile}, ${result.started_at}`,
    '',
    `${result.machine.cpus} × ${result.machine.cpu_model}, ${result.machine.memory_mb} MB, Node ${result.machine.node}, ${result.machine.platform}; load average at start ${result.machine.load_average_at_start.join(' ')}. ` +
      `A fresh twin in \`${result.twin.data_dir}\` (${result.twin.regions.join(', ')}; active ${result.twin.active_region}), up in ${result.twin.startup_s} s; the whole bench took ${result.duration_s} s.`,
    '',
    '## Summary',
    '',
    ...markdownTable([
      ['field', 'value', 'what it is'],
      ['`legs_per_s`', show(result.legs_per_s), 'highest rate whose backlog stayed bounded (both apps, settlement and ledger included)'],
      ['`ceiling_legs_per_s`', show(result.ceiling_legs_per_s), "the same emulator calls per leg, run bare"],
      ['`ratio`', show(result.ratio), '`legs_per_s / ceiling_legs_per_s`'],
      ['`p50_ms` / `p95_ms` / `p99_ms`', `${show(result.p50_ms)} / ${show(result.p95_ms)} / ${show(result.p99_ms)}`, latency ? `acknowledged → terminal at ${latency.rate} legs/s` : ''],
      ['`rss_mb`', show(result.rss_mb), 'peak RSS of all processes together'],
      ['`calls_per_leg`', result.calls_per_leg ? Object.entries(result.calls_per_leg).map(([s, n]) => `${s} ${n}`).join(', ') : 'n/a', result.calls_per_leg_reason ?? 'emulator calls per leg at half load, both regions'],
      ['`zero_rpo` p50 / p99', zeroRpoFigures(result), zeroRpoNote(result)],
    ]),
    '',
    '## Ceiling',
    '',
  ];
  if ('error' in ceiling) lines.push(`The ceiling could not be measured: ${ceiling.error}`);
  else {
    lines.push(
      `Against ${ceiling.region}'s emulators, ${ceiling.seconds} s at each concurrency: ${ceiling.by_concurrency.map((run) => `${run.legs_per_s} legs/s at ${run.concurrency}`).join(', ')}; ` +
        `the calls below are the best run's (concurrency ${ceiling.concurrency}). PutRecords of ${ceiling.put_records_per_call} records, GetRecords up to ${ceiling.get_records_limit}.`,
      '',
      ...markdownTable([
        ['call', 'per leg', 'completed', 'errors', 'per s', 'mean ms', 'p95 ms'],
        ...Object.entries(ceiling.calls).map(([call, stats]) => [call, show(ceiling.calls_per_leg[call]), String(stats.calls), String(stats.errors), String(stats.per_s), show(stats.mean_ms), show(stats.p95_ms)]),
      ]),
      ...ceiling.notes.map((note) => `\n- ${note}`),
    );
  }
  lines.push(
    '',
    `Per leg, counted from the code over ${result.mix.pairs} generated pairs (seed ${result.mix.seed}, mix ${JSON.stringify(result.mix.mix)}):`,
    '',
    ...markdownTable([['stage function', 'records per leg'], ...Object.entries(result.mix.recordsPerLeg).map(([fn, n]) => [fn, String(n)])]),
    '',
    ...markdownTable([['call', 'per leg'], ...Object.entries(result.mix.perLeg).map(([call, n]) => [call, typeof n === 'number' ? String(n) : JSON.stringify(n)])]),
    '',
    '## Pipeline ramp',
    '',
    ...markdownTable(stepRows(result)),
    '',
    `![throughput](${CHART_FILES.throughput})`,
    '',
    '## Latency at half the sustained rate',
    '',
  );
  if (latency) {
    lines.push(
      `${latency.legs_sent} legs at ${latency.rate} legs/s for ${latency.seconds} s; ${latency.terminal} terminal, ${latency.unfinished} unfinished. p50 ${show(latency.p50_ms)} ms, p95 ${show(latency.p95_ms)} ms, p99 ${show(latency.p99_ms)} ms, max ${show(latency.max_ms)} ms.`,
      '',
      ...markdownTable([['ends as', 'legs', 'p50 ms', 'p99 ms'], ...Object.entries(latency.by_status).map(([status, figures]) => [status, String(figures.legs), show(figures.p50_ms), show(figures.p99_ms)])]),
      '',
      `![latency](${CHART_FILES.latency})`,
      '',
    );
  }
  lines.push('## Calls per leg by service', '');
  if (latency?.calls_per_leg) {
    const rows = Object.entries(latency.calls_per_leg.by_region).flatMap(([region, services]) =>
      Object.entries(services).flatMap(([service, operations]) => Object.entries(operations).map(([operation, n]) => [region, service, operation, String(n)])),
    );
    lines.push(...markdownTable([['region', 'service', 'operation', 'per leg'], ...rows]), '');
  } else lines.push(`n/a: ${result.calls_per_leg_reason ?? 'not measured'}`, '');
  lines.push('## Processes', '', ...markdownTable(processRows(result)), '', `![memory](${CHART_FILES.memory})`, '', `![cpu](${CHART_FILES.cpu})`, '', '## Zero-RPO mode', '', ...zeroRpoSection(result), '');
  return lines.join('\n');
}

/** Writes `<root>/<timestamp>/{result.json, report.md, *.svg}`; returns the directory. */
export async function writeReport(result: BenchResult, series: BenchSeries, root: string): Promise<string> {
  const directory = path.join(root, result.started_at.replace(/[:.]/g, '-'));
  await mkdir(directory, { recursive: true });
  const drawn = charts(series);
  await Promise.all([
    writeFile(path.join(directory, 'result.json'), `${JSON.stringify(result, null, 2)}\n`),
    writeFile(path.join(directory, 'report.md'), renderMarkdown(result)),
    ...Object.entries(CHART_FILES).map(([chart, file]) => writeFile(path.join(directory, file), drawn[chart as keyof typeof CHART_FILES])),
  ]);
  return directory;
}

const zeroRpoFigures = (result: BenchResult) => (result.zero_rpo ? `${show(result.zero_rpo.p50_ms)} / ${show(result.zero_rpo.p99_ms)}` : 'n/a');

function zeroRpoNote(result: BenchResult): string {
  const figures = result.zero_rpo;
  if (!figures) return `not measured: ${result.zero_rpo_reason ?? 'unknown'}`;
  return `TM inbound store synchronous, ${figures.rate} legs/s: ${signedMs(figures.added_p50_ms)} / ${signedMs(figures.added_p99_ms)} against asynchronous; peer wait ${show(figures.peer_wait_avg_ms)} ms average, ${show(figures.peer_wait_max_ms)} ms max`;
}

function zeroRpoSection(result: BenchResult): string[] {
  const figures = result.zero_rpo;
  if (!figures) return [`Not measured: ${result.zero_rpo_reason ?? 'unknown'}.`];
  return [
    `A second fresh twin with the TM inbound store replicated synchronously (\`rotor up --zero-rpo\`), at the latency phase's ${figures.rate} legs/s (${figures.legs} legs terminal).`,
    '',
    ...markdownTable([
      ['figure', 'zero-RPO', 'against asynchronous'],
      ['p50_ms', show(figures.p50_ms), signedMs(figures.added_p50_ms)],
      ['p95_ms', show(figures.p95_ms), ''],
      ['p99_ms', show(figures.p99_ms), signedMs(figures.added_p99_ms)],
      ['peer wait per acknowledged write, average / max (ms)', `${show(figures.peer_wait_avg_ms)} / ${show(figures.peer_wait_max_ms)}`, ''],
      ['synchronous writes (failed for an unavailable peer)', `${figures.sync_writes} (${figures.sync_unavailable})`, ''],
    ]),
  ];
}

const signedMs = (value: number | null) => (value === null ? 'n/a' : `${value >= 0 ? '+' : ''}${value} ms`);

