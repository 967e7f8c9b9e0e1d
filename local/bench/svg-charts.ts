/**
 * Self-contained SVG charts for the bench report: a line chart (one or more series over a shared x axis) and a
 * bar histogram. No library and no script: the files open in any browser and render inline on GitHub.
 */

export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<{ x: number; y: number }>;
}

export interface ChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly width?: number;
  readonly height?: number;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd'];
const MARGIN = { top: 36, right: 20, bottom: 46, left: 64 };

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** About `count` round tick values from 0 (or `min`) to at least `max`: steps of 1, 2 or 5 times a power of ten. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min, min + 1];
  const raw = (max - min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((candidate) => candidate >= raw) ?? 10 * power;
  const start = Math.floor(min / step) * step;
  const ticks: number[] = [];
  for (let value = start; value < max + step - 1e-9; value += step) ticks.push(Number(value.toPrecision(12)));
  return ticks;
}

const label = (value: number) => (Math.abs(value) >= 10_000 ? `${Math.round(value / 1000)}k` : String(Number(value.toPrecision(4))));

type Scale = (value: number) => number;

function frame(options: ChartOptions, xTicks: number[], yTicks: number[], body: (sx: Scale, sy: Scale) => string[], legend: string[]): string {
  const width = options.width ?? 720;
  const height = options.height ?? 320;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const [x0, x1] = [xTicks[0]!, xTicks.at(-1)!];
  const [y0, y1] = [yTicks[0]!, yTicks.at(-1)!];
  const sx = (x: number) => MARGIN.left + ((x - x0) / (x1 - x0 || 1)) * plotW;
  const sy = (y: number) => MARGIN.top + plotH - ((y - y0) / (y1 - y0 || 1)) * plotH;
  const grid = [
    ...yTicks.map((y) => `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${sy(y).toFixed(1)}" y2="${sy(y).toFixed(1)}" stroke="#e5e5e5"/><text x="${MARGIN.left - 6}" y="${(sy(y) + 4).toFixed(1)}" text-anchor="end">${label(y)}</text>`),
    ...xTicks.map((x) => `<text x="${sx(x).toFixed(1)}" y="${MARGIN.top + plotH + 16}" text-anchor="middle">${label(x)}</text>`),
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(options.title)}</text>`,
    ...grid,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
    ...body(sx, sy),
    ...legend.map((entry, index) => `<g transform="translate(${MARGIN.left + 10 + index * 170} ${MARGIN.top - 8})">${entry}</g>`),
    '</svg>',
    '',
  ].join('\n');
}

export function lineChart(series: readonly Series[], options: ChartOptions): string {
  const points = series.flatMap((s) => s.points);
  if (points.length === 0) return emptyChart(options);
  const xTicks = niceTicks(Math.min(...points.map((p) => p.x)), Math.max(...points.map((p) => p.x)), 8);
  const yTicks = niceTicks(0, Math.max(...points.map((p) => p.y), 1e-9), 5);
  const body = (sx: Scale, sy: Scale) =>
    series.map((s, index) => {
      const path = s.points.map((p) => `${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
      return `<polyline fill="none" stroke="${COLORS[index % COLORS.length]}" stroke-width="1.8" points="${path}"/>`;
    });
  const legend = series.map((s, index) => `<rect width="12" height="3" y="-4" fill="${COLORS[index % COLORS.length]}"/><text x="16">${escapeXml(s.name)}</text>`);
  return frame(options, xTicks, yTicks, body, legend);
}

/** Bars for `counts[i]` over [start + i·width, start + (i+1)·width). */
export function histogramChart(counts: readonly number[], start: number, width: number, options: ChartOptions): string {
  if (counts.length === 0 || counts.every((count) => count === 0)) return emptyChart(options);
  const xTicks = niceTicks(start, start + counts.length * width, 8);
  const yTicks = niceTicks(0, Math.max(...counts), 5);
  const body = (sx: Scale, sy: Scale) =>
    counts.map((count, index) => {
      const left = sx(start + index * width);
      const right = sx(start + (index + 1) * width);
      const top = sy(count);
      return `<rect x="${left.toFixed(1)}" y="${top.toFixed(1)}" width="${Math.max(1, right - left - 1).toFixed(1)}" height="${(sy(0) - top).toFixed(1)}" fill="${COLORS[0]}"><title>${label(start + index * width)}: ${count}</title></rect>`;
    });
  return frame(options, xTicks, yTicks, body, []);
}

function emptyChart(options: ChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 320;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif"><rect width="${width}" height="${height}" fill="white"/><text x="${width / 2}" y="${height / 2}" text-anchor="middle">${escapeXml(options.title)}: no data</text></svg>\n`;
}
