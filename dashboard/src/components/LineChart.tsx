export interface ChartSeries {
  readonly label: string;
  /** Oldest first, one per step; null is a gap. */
  readonly values: readonly (number | null)[];
  readonly color: string;
}

interface LineChartProps {
  readonly title: string;
  readonly series: readonly ChartSeries[];
  readonly format: (value: number) => string;
  /** What the x axis spans, e.g. "last 60 s". */
  readonly span: string;
  readonly width?: number;
  readonly height?: number;
}

const PAD = { left: 56, right: 8, top: 8, bottom: 18 };

/** Several series on one time axis (right edge = now), with a zero line, the maximum, and a legend. */
export function LineChart({ title, series, format, span, width = 520, height = 140 }: LineChartProps) {
  const all = series.flatMap((line) => line.values.filter((value): value is number => value !== null));
  const max = Math.max(1, ...all);
  const length = Math.max(2, ...series.map((line) => line.values.length));
  const plotWidth = width - PAD.left - PAD.right;
  const plotHeight = height - PAD.top - PAD.bottom;
  const x = (index: number) => PAD.left + (index / (length - 1)) * plotWidth;
  const y = (value: number) => PAD.top + plotHeight - (value / max) * plotHeight;
  const paths = series.map((line) => {
    const offset = length - line.values.length;
    let d = '';
    let pen = false;
    line.values.forEach((value, index) => {
      if (value === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(index + offset).toFixed(1)},${y(value).toFixed(1)}`;
      pen = true;
    });
    return d;
  });
  const latest = series.map((line) => [...line.values].reverse().find((value) => value !== null) ?? null);
  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}, ${span}`}>
        <line x1={PAD.left} x2={width - PAD.right} y1={y(0)} y2={y(0)} className="chart-axis" />
        <line x1={PAD.left} x2={width - PAD.right} y1={y(max)} y2={y(max)} className="chart-grid" />
        <text x={PAD.left - 4} y={y(max) + 4} className="chart-label" textAnchor="end">{format(max)}</text>
        <text x={PAD.left - 4} y={y(0)} className="chart-label" textAnchor="end">0</text>
        <text x={PAD.left} y={height - 4} className="chart-label">{span}</text>
        <text x={width - PAD.right} y={height - 4} className="chart-label" textAnchor="end">now</text>
        {paths.map((d, index) => (d ? <path key={series[index]!.label} d={d} stroke={series[index]!.color} className="chart-line" /> : null))}
      </svg>
      <ul className="legend">
        {series.map((line, index) => (
          <li key={line.label}>
            <span className="swatch" style={{ background: line.color }} aria-hidden="true" />
            {line.label}: <strong>{latest[index] === null ? 'no data' : format(latest[index]!)}</strong>
          </li>
        ))}
      </ul>
    </figure>
  );
}
