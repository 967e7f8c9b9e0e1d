import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchResult, BenchSeries } from '#local/bench/bench.ts';
import { charts, formatTable, renderMarkdown, throughputSeries, writeReport } from '#local/bench/report.ts';
import { histogramChart, lineChart, niceTicks } from '#local/bench/svg-charts.ts';

function aResult(overrides: Partial<BenchResult> = {}): BenchResult {
  return {
    legs_per_s: 8,
    ceiling_legs_per_s: 32,
    ratio: 0.25,
    p50_ms: 900,
    p95_ms: 2_100,
    p99_ms: 2_900,
    rss_mb: 2_400,
    cpu_s: { controller: 12.5, 'us-east-1': 80, 'us-west-2': 20 },
    calls_per_leg: { dynamodb: 41.5, kinesis: 3.2 },
    zero_rpo: { rate: 4, legs: 78, p50_ms: 930, p95_ms: 2_150, p99_ms: 2_960, added_p50_ms: 30, added_p99_ms: 60, peer_wait_avg_ms: 6, peer_wait_max_ms: 41, sync_writes: 80, sync_unavailable: 0 },
    profile: 'quick',
    started_at: '2026-05-01T10:00:00.000Z',
    duration_s: 250,
    machine: { cpus: 2, cpu_model: 'Test CPU', memory_mb: 8_000, node: 'v22.0.0', platform: 'linux 6', load_average_at_start: [0.5, 0.4, 0.3] },
    twin: { data_dir: '/tmp/bench', regions: ['us-east-1', 'us-west-2'], active_region: 'us-east-1', startup_s: 12 },
    mix: { pairs: 300, seed: 1, mix: { matched: 1, mismatched: 1, unmatched: 1 }, recordsPerLeg: { 'tm-ingestion': 2.79 }, perLeg: { kinesisPutRecords: 20.5, kinesisGetRecords: 20.5, dynamodbPutItem: 31, dynamodbUpdateItem: 10.5, sqlTransactions: { 'tm-db': 2.79 }, brokerSends: 6.2, brokerConsumeAcks: 4.6, avgRecordBytes: 600, avgItemBytes: 480, avgMessageBytes: 280 } },
    ceiling: { legs_per_s: 32, region: 'us-east-1', seconds: 6, concurrency: 64, by_concurrency: [{ concurrency: 16, legs_per_s: 12 }, { concurrency: 64, legs_per_s: 32 }], put_records_per_call: 100, get_records_limit: 1000, calls_per_leg: { 'dynamodb.PutItem': 31 }, calls: { 'dynamodb.PutItem': { calls: 6_000, errors: 0, per_s: 1_000, mean_ms: 15, p95_ms: 30 } }, notes: ['PostgreSQL sm-db left out: refused'] },
    pipeline: {
      sustained_rate: 8,
      seconds: 100,
      steps: [
        { rate: 8, seconds: 15, legs_sent: 120, send_rate: 8, terminal: 120, terminal_fraction: 1, drain_s: 4.2, completion_rate: 7.5, peak_iterator_age_ms: 1_200, peak_max_iterator_age_ms: 700, peak_queue_depth: 4, iterator_age_growth_ms_per_s: 10, queue_depth_growth_per_s: 0, sustained: true, reasons: [], growth: [], samples: [] },
        { rate: 16, seconds: 15, legs_sent: 240, send_rate: 16, terminal: 100, terminal_fraction: 0.417, drain_s: null, completion_rate: 9, peak_iterator_age_ms: 15_000, peak_max_iterator_age_ms: 9_000, peak_queue_depth: 90, iterator_age_growth_ms_per_s: 700, queue_depth_growth_per_s: 5, sustained: false, reasons: ['a Kinesis iterator age grew 700 ms/s to 9000 ms'], growth: ['a Kinesis iterator age grew 700 ms/s to 9000 ms'], samples: [] },
      ],
    },
    latency: { rate: 4, seconds: 20, legs_sent: 80, legs: 80, terminal: 80, unfinished: 0, p50_ms: 900, p95_ms: 2_100, p99_ms: 2_900, max_ms: 3_000, by_status: { SETTLED: { legs: 26, p50_ms: 2_000, p99_ms: 2_900 } }, calls_per_leg: { by_service: { dynamodb: 41.5, kinesis: 3.2 }, by_region: { 'us-east-1': { dynamodb: { PutItem: 30 } } } } },
    processes: [{ name: 'controller', pid: 10, cpu_s: { ceiling: 2, ramp: 8, total: 12.5 }, peak_rss_mb: 300 }],
    ...overrides,
  };
}

const aSeries = (): BenchSeries => ({
  acknowledged: Array.from({ length: 100 }, (_, i) => 1_000_000 + i * 100),
  terminal: Array.from({ length: 100 }, (_, i) => 1_001_000 + i * 100),
  latencies: Array.from({ length: 100 }, (_, i) => 500 + i * 20),
  resources: [{ t: 1, rss_mb: 2_000, cores: 0 }, { t: 2, rss_mb: 2_100, cores: 1.5 }],
});

describe('bench report', () => {
  it('prints the headline fields, every ramp step with its verdict and every process', () => {
    // Act
    const text = formatTable(aResult(), 'bench/results/x/report.md');

    // Assess
    expect(text).toMatch(/legs_per_s\s+8\s/);
    expect(text).toMatch(/ceiling_legs_per_s\s+32\s/);
    expect(text).toMatch(/ratio\s+0\.25\s/);
    expect(text).toContain('900 / 2100 / 2900');
    expect(text).toContain('dynamodb 41.5, kinesis 3.2');
    expect(text).toMatch(/8\s+8\s+120\/120\s+4\.2 s\s+7\.5\s+1200 ms \/ 700 ms\s+4\s+sustained/);
    expect(text).toMatch(/16\s+16\s+100\/240\s+n\/a\s+9\s+15000 ms \/ 9000 ms\s+90\s+not sustained: a Kinesis iterator age grew/);
    expect(text).toMatch(/controller\s+10\s+2\s+8\s+12\.5\s+300 MB/);
    expect(text).toContain('Ceiling: PostgreSQL sm-db left out: refused');
    expect(text).toContain('Report: bench/results/x/report.md');
  });

  it('says n/a where a figure could not be measured', () => {
    // Act
    const text = formatTable(aResult({ legs_per_s: null, ratio: null, calls_per_leg: null, calls_per_leg_reason: 'the regions report no emulatorCalls in their status', ceiling: { error: 'boom' }, zero_rpo: null, zero_rpo_reason: 'twin did not start' }));

    // Assess
    expect(text).toMatch(/legs_per_s\s+n\/a/);
    expect(text).toMatch(/calls_per_leg\s+n\/a\s+the regions report no emulatorCalls/);
    expect(text).toContain('Ceiling failed: boom');
    expect(text).toMatch(/zero_rpo p50 \/ p99\s+n\/a\s+not measured: twin did not start/);
  });

  it('renders a markdown report that links its charts and escapes nothing it should not', () => {
    // Act
    const markdown = renderMarkdown(aResult());

    // Assess
    expect(markdown).toContain('# Rotor bench — quick, 2026-05-01T10:00:00.000Z');
    expect(markdown).toContain('| `legs_per_s` | 8 |');
    expect(markdown).toContain('12 legs/s at 16, 32 legs/s at 64; the calls below are the best run\'s (concurrency 64)');
    expect(markdown).toContain('![throughput](throughput.svg)');
    expect(markdown).toContain('![latency](latency.svg)');
    expect(markdown).toContain('| us-east-1 | dynamodb | PutItem | 30 |');
    expect(markdown).toContain('| SETTLED | 26 | 2000 | 2900 |');
    expect(markdown).toContain('| `zero_rpo` p50 / p99 | 930 / 2960 | TM inbound store synchronous, 4 legs/s: +30 ms / +60 ms against asynchronous; peer wait 6 ms average, 41 ms max |');
    expect(markdown).toContain('| peer wait per acknowledged write, average / max (ms) | 6 / 41 |  |');
    expect(renderMarkdown(aResult({ zero_rpo: null, zero_rpo_reason: 'twin did not start' }))).toContain('Not measured: twin did not start.');
  });

  it('turns acknowledgement and terminal times into legs per second over time', () => {
    // Act
    const [acknowledged, terminal] = throughputSeries(aSeries(), 5);

    // Assess: 100 legs over 10 s, 10 legs/s each way, terminal one second behind
    expect(acknowledged!.points.slice(0, 2)).toEqual([{ x: 2.5, y: 10 }, { x: 7.5, y: 10 }]);
    expect(terminal!.points.reduce((sum, point) => sum + point.y * 5, 0)).toBe(100);
    expect(throughputSeries({ acknowledged: [], terminal: [] })).toEqual([]);
  });

  it('draws well-formed SVG charts, and says so when there is nothing to draw', () => {
    // Act
    const drawn = charts(aSeries());
    const empty = lineChart([], { title: 'Empty & void', xLabel: 'x', yLabel: 'y' });
    const bars = histogramChart([1, 3, 0, 2], 0, 100, { title: 'Bars', xLabel: 'ms', yLabel: 'legs' });

    // Assess
    for (const svg of Object.values(drawn)) {
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.trim().endsWith('</svg>')).toBe(true);
      expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    }
    expect(drawn.throughput).toContain('<polyline');
    expect(drawn.latency).toContain('<rect x=');
    expect(empty).toContain('Empty &amp; void: no data');
    expect(bars.match(/<title>/g)).toHaveLength(4);
    expect(niceTicks(0, 95, 5)).toEqual([0, 20, 40, 60, 80, 100]);
  });

  it('writes the JSON, the report and its charts under a directory named after the start time', async () => {
    // Prepare
    const root = await mkdtemp(join(tmpdir(), 'rotor-bench-report-'));
    try {
      // Act
      const directory = await writeReport(aResult(), aSeries(), root);

      // Assess
      expect(directory).toBe(join(root, '2026-05-01T10-00-00-000Z'));
      expect((await readdir(directory)).sort()).toEqual(['cpu.svg', 'latency.svg', 'memory.svg', 'report.md', 'result.json', 'throughput.svg']);
      expect(JSON.parse(await readFile(join(directory, 'result.json'), 'utf8'))).toMatchObject({ legs_per_s: 8, ceiling_legs_per_s: 32, ratio: 0.25 });
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
