/**
 * The functions' own metrics, as CloudWatch would receive them: every Powertools EMF line a region's functions print
 * on stdout (a JSON object with an `_aws.CloudWatchMetrics` block, namespace `Rotor`, dimensions `service` and
 * `region`) is added up by region → service → metric since the controller started, and per second over the last
 * `seriesSeconds` seconds for the dashboard's sparklines. Everything else a function prints (log lines, a line cut
 * short, other JSON) is ignored: `ingest` never throws.
 *
 * Seconds are counted by arrival: a region's stdout is read as it is written, and the EMF `Timestamp` is the moment
 * the function flushed, so the two differ by the pipe's delay only.
 */

export const DEFAULT_SERIES_SECONDS = 120;
export const ROTOR_METRIC_NAMESPACE = 'Rotor';

export interface MetricCollectorOptions {
  /** How many seconds of per-second sums are kept (default 120). */
  readonly seriesSeconds?: number;
  /** Only metrics of this namespace are counted (default `Rotor`). */
  readonly namespace?: string;
  /** Milliseconds since the epoch; tests move it by hand. */
  readonly now?: () => number;
}

/** Region → service → metric → T. */
export type ByMetric<T> = Record<string, Record<string, Record<string, T>>>;

/** One metric of one service in one region: its total and a ring of per-second sums. */
class MetricCounter {
  total = 0;
  readonly #sums: Float64Array;
  /** The second (since the epoch) each slot of the ring holds; a slot holding another second counts as 0. */
  readonly #seconds: Float64Array;

  constructor(length: number) {
    this.#sums = new Float64Array(length);
    this.#seconds = new Float64Array(length).fill(-1);
  }

  add(second: number, value: number): void {
    this.total += value;
    const slot = second % this.#sums.length;
    if (this.#seconds[slot] !== second) {
      this.#seconds[slot] = second;
      this.#sums[slot] = 0;
    }
    this.#sums[slot]! += value;
  }

  /** The sums of seconds `from` … `from + length - 1`, oldest first. */
  window(from: number): number[] {
    const length = this.#sums.length;
    const values = new Array<number>(length);
    for (let index = 0; index < length; index++) {
      const second = from + index;
      const slot = second % length;
      values[index] = this.#seconds[slot] === second ? this.#sums[slot]! : 0;
    }
    return values;
  }
}

export class MetricCollector {
  readonly seriesSeconds: number;
  readonly #namespace: string;
  readonly #now: () => number;
  readonly #counters = new Map<string, Map<string, Map<string, MetricCounter>>>();
  #lines = 0;

  constructor(options: MetricCollectorOptions = {}) {
    const seconds = options.seriesSeconds ?? DEFAULT_SERIES_SECONDS;
    if (!Number.isInteger(seconds) || seconds < 1) throw new RangeError(`seriesSeconds must be a whole number above 0, not ${seconds}`);
    this.seriesSeconds = seconds;
    this.#namespace = options.namespace ?? ROTOR_METRIC_NAMESPACE;
    this.#now = options.now ?? Date.now;
  }

  /** EMF lines counted so far. */
  get linesCounted(): number {
    return this.#lines;
  }

  /**
   * Counts one line of a function's output if it is an EMF document of the namespace; returns how many metric values
   * it added (0 for anything else). `sourceRegion` is the region whose process printed the line; without it the
   * document's own `region` dimension is used.
   */
  ingest(line: string, sourceRegion?: string): number {
    // Most lines are log lines: a substring test costs far less than parsing them.
    if (!line.includes('"_aws"')) return 0;
    let document: unknown;
    try {
      document = JSON.parse(line);
    } catch {
      return 0;
    }
    if (!isRecord(document) || !isRecord(document._aws) || !Array.isArray(document._aws.CloudWatchMetrics)) return 0;
    const names = new Set<string>();
    for (const directive of document._aws.CloudWatchMetrics as unknown[]) {
      if (!isRecord(directive) || directive.Namespace !== this.#namespace || !Array.isArray(directive.Metrics)) continue;
      for (const metric of directive.Metrics as unknown[]) {
        if (isRecord(metric) && typeof metric.Name === 'string' && metric.Name !== '') names.add(metric.Name);
      }
    }
    const region = sourceRegion ?? textOf(document.region) ?? 'unknown';
    const service = textOf(document.service) ?? 'unknown';
    const second = Math.floor(this.#now() / 1000);
    let added = 0;
    for (const name of names) {
      const value = sumOf(document[name]);
      if (value === undefined) continue;
      this.#counter(region, service, name).add(second, value);
      added += 1;
    }
    if (added > 0) this.#lines += 1;
    return added;
  }

  /** Totals since the collector started, by region → service → metric. */
  totals(): ByMetric<number> {
    return this.#map((counter) => counter.total);
  }

  /** Per-second sums of the last `seriesSeconds` whole seconds (the second under way is left out), oldest first. */
  series(): ByMetric<number[]> {
    const from = Math.floor(this.#now() / 1000) - this.seriesSeconds;
    return this.#map((counter) => counter.window(from));
  }

  #counter(region: string, service: string, metric: string): MetricCounter {
    let services = this.#counters.get(region);
    if (!services) this.#counters.set(region, (services = new Map()));
    let metrics = services.get(service);
    if (!metrics) services.set(service, (metrics = new Map()));
    let counter = metrics.get(metric);
    if (!counter) metrics.set(metric, (counter = new MetricCounter(this.seriesSeconds)));
    return counter;
  }

  #map<T>(value: (counter: MetricCounter) => T): ByMetric<T> {
    const result: ByMetric<T> = {};
    for (const [region, services] of this.#counters) {
      const byService: Record<string, Record<string, T>> = (result[region] = {});
      for (const [service, metrics] of services) {
        const byMetric: Record<string, T> = (byService[service] = {});
        for (const [metric, counter] of metrics) byMetric[metric] = value(counter);
      }
    }
    return result;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A metric's value: a number, or the array Powertools prints when one metric was added several times in a flush. */
function sumOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (!Array.isArray(value)) return undefined;
  const numbers = value.filter((entry): entry is number => typeof entry === 'number' && Number.isFinite(entry));
  return numbers.length === 0 ? undefined : numbers.reduce((sum, entry) => sum + entry, 0);
}
