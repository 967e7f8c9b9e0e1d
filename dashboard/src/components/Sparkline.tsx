interface SparklineProps {
  readonly values: readonly number[];
  /** Spoken and shown on hover, e.g. "tm-ingestion RecordsProcessed per second". */
  readonly label: string;
  readonly width?: number;
  readonly height?: number;
}

/** A per-second series as a small line, scaled to its own maximum. */
export function Sparkline({ values, label, width = 120, height = 28 }: SparklineProps) {
  const max = Math.max(1, ...values);
  const last = values[values.length - 1] ?? 0;
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((value, index) => `${(index * step).toFixed(1)},${(height - 2 - (value / max) * (height - 4)).toFixed(1)}`).join(' ');
  const summary = `${label}: last ${last}/s, peak ${Math.max(0, ...values)}/s over ${values.length} s`;
  return (
    <svg className="sparkline" width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary}>
      <title>{summary}</title>
      <line x1={0} x2={width} y1={height - 2} y2={height - 2} className="sparkline-base" />
      {values.length > 0 && <polyline points={points} className="sparkline-line" />}
    </svg>
  );
}
