import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MetricCollector } from '#local/controller/metric-collector.ts';

/**
 * The dashboard's throughput figures come from the EMF lines the functions print, exactly as CloudWatch would get
 * them; these tests feed the collector lines Powertools itself prints.
 */

/** What Powertools Metrics prints to stdout for one flush, captured. */
function powertoolsLines(service: string, region: string, add: (metrics: Metrics) => void): string[] {
  const printed: string[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    printed.push(String(chunk));
    return true;
  });
  try {
    const metrics = new Metrics({ namespace: 'Rotor', serviceName: service, defaultDimensions: { region } });
    add(metrics);
    metrics.publishStoredMetrics();
  } finally {
    write.mockRestore();
  }
  return printed.join('').split('\n').filter((line) => line !== '');
}

/** A line as a twin region's log holds it (copied from logs/us-east-1.log of a drill run). */
const REGION_LOG_LINE =
  '{"_aws":{"Timestamp":1796624872019,"CloudWatchMetrics":[{"Namespace":"Rotor","Dimensions":[["service","region"]],"Metrics":[{"Name":"RecordsProcessed","Unit":"Count"},{"Name":"RecordsFailed","Unit":"Count"},{"Name":"RecordsForwarded","Unit":"Count"}]}]},"service":"tm-ingestion","region":"us-east-1","RecordsProcessed":1,"RecordsFailed":0,"RecordsForwarded":1}';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('MetricCollector', () => {
  it('adds up what Powertools prints by region, service and metric, arrays of values included', () => {
    // Prepare
    const collector = new MetricCollector({ now: () => 1_000_000 });
    const lines = [
      ...powertoolsLines('tm-inbound-gateway', 'us-east-1', (metrics) => {
        metrics.addMetric('MessagesReceived', MetricUnit.Count, 5);
        metrics.addMetric('MessagesRecorded', MetricUnit.Count, 4);
      }),
      ...powertoolsLines('tm-ingestion', 'us-east-1', (metrics) => {
        metrics.addMetric('RecordsProcessed', MetricUnit.Count, 3);
        metrics.addMetric('RecordsProcessed', MetricUnit.Count, 2);
        metrics.addMetric('Nacks', MetricUnit.Count, 0);
      }),
    ];

    // Act
    const added = lines.map((line) => collector.ingest(line, 'us-east-1'));
    collector.ingest(REGION_LOG_LINE, 'us-east-1');

    // Assess
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain('"RecordsProcessed":[3,2]');
    expect(added).toEqual([2, 2]);
    expect(collector.totals()).toEqual({
      'us-east-1': {
        'tm-inbound-gateway': { MessagesReceived: 5, MessagesRecorded: 4 },
        'tm-ingestion': { RecordsProcessed: 6, Nacks: 0, RecordsFailed: 0, RecordsForwarded: 1 },
      },
    });
    expect(collector.linesCounted).toBe(3);
  });

  it('ignores log lines, broken lines, other JSON and other namespaces without throwing', () => {
    // Prepare
    const collector = new MetricCollector({ now: () => 0 });
    const otherNamespace = REGION_LOG_LINE.replace('"Namespace":"Rotor"', '"Namespace":"Elsewhere"');
    const junk = [
      '{"level":"INFO","message":"batch processed","service":"tm-ingestion","timestamp":"2026-12-07T18:00:00.000Z"}',
      REGION_LOG_LINE.slice(0, 80),
      '',
      'plain text mentioning "_aws"',
      '"_aws"',
      '{"_aws":null}',
      '{"_aws":{"CloudWatchMetrics":"nope"}}',
      '{"_aws":{"CloudWatchMetrics":[null,7,{"Namespace":"Rotor","Metrics":[{"Name":"X"},{"Name":42}]}]},"X":"not a number"}',
      '{"_aws":{"CloudWatchMetrics":[{"Namespace":"Rotor","Metrics":[{"Name":"Y"}]}]},"Y":[null,"a"]}',
      '[{"_aws":1}]',
      otherNamespace,
    ];

    // Act
    const added = junk.map((line) => collector.ingest(line, 'us-east-1'));

    // Assess
    expect(added.every((count) => count === 0)).toBe(true);
    expect(collector.totals()).toEqual({});
    expect(collector.linesCounted).toBe(0);
  });

  it('keeps the region whose process printed the line, or the line’s own region dimension when none is given', () => {
    // Prepare
    const collector = new MetricCollector({ now: () => 0 });

    // Act
    collector.ingest(REGION_LOG_LINE, 'us-west-2');
    collector.ingest(REGION_LOG_LINE);

    // Assess
    expect(Object.keys(collector.totals()).sort()).toEqual(['us-east-1', 'us-west-2']);
  });

  it('sums per second over the last whole seconds, oldest first, forgetting what fell out of the window', () => {
    // Prepare
    let now = 100_000;
    const collector = new MetricCollector({ seriesSeconds: 5, now: () => now });
    const line = (count: number) => REGION_LOG_LINE.replace('"RecordsProcessed":1', `"RecordsProcessed":${count}`);

    // Act
    collector.ingest(line(1), 'us-east-1'); // second 100
    collector.ingest(line(2), 'us-east-1'); // second 100
    now = 102_500;
    collector.ingest(line(4), 'us-east-1'); // second 102
    now = 103_100;
    const early = collector.series()['us-east-1']!['tm-ingestion']!.RecordsProcessed;
    now = 107_000;
    collector.ingest(line(8), 'us-east-1'); // second 107: slot of 102 reused
    now = 108_000;
    const late = collector.series()['us-east-1']!['tm-ingestion']!.RecordsProcessed;

    // Assess: seconds 98…102, then 103…107
    expect(early).toEqual([0, 0, 3, 0, 4]);
    expect(late).toEqual([0, 0, 0, 0, 8]);
    expect(collector.totals()['us-east-1']!['tm-ingestion']!.RecordsProcessed).toBe(15);
    expect(collector.seriesSeconds).toBe(5);
  });

  it('answers the default two minutes of seconds for every metric it has seen', () => {
    // Prepare
    const collector = new MetricCollector({ now: () => 50_000 });

    // Act
    collector.ingest(REGION_LOG_LINE, 'us-east-1');

    // Assess
    const series = collector.series()['us-east-1']!['tm-ingestion']!;
    expect(Object.keys(series).sort()).toEqual(['RecordsFailed', 'RecordsForwarded', 'RecordsProcessed']);
    expect(series.RecordsProcessed).toHaveLength(120);
    expect(series.RecordsProcessed!.every((value) => value === 0)).toBe(true);
  });
});
