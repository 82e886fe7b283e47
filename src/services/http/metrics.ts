/**
 * A small Prometheus text-format (0.0.4) registry: counters and histograms with labels,
 * enough for a service's own numbers without a dependency. One registry per HTTP app.
 */

type Labels = Record<string, string | number>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(String(labels[k]))}"`).join(',')}}`;
}

/**
 * The label text of a series, remembered by the labels as given: every answered request
 * counts into a few series, and sorting and escaping their labels each time cost ~2 % of a
 * busy frontend. Label values come from routes, statuses and error codes, so the set is
 * small; past the cap (a misuse), texts are still right, only no longer remembered.
 */
const seriesKeys = new Map<string, string>();
const SERIES_KEYS_CAP = 10_000;
function seriesKey(labels: Labels): string {
  // Length-prefixed, so no two different label sets share a key.
  let raw = '';
  for (const k in labels) {
    const v = String(labels[k]);
    raw += `${k.length}:${k}${v.length}:${v}`;
  }
  let text = seriesKeys.get(raw);
  if (text === undefined) {
    text = labelText(labels);
    if (seriesKeys.size < SERIES_KEYS_CAP) seriesKeys.set(raw, text);
  }
  return text;
}

interface Metric {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  lines(): string[];
}

export class Counter implements Metric {
  readonly type = 'counter';
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = seriesKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  /** The current value for exactly these labels (tests, health checks). */
  get(labels: Labels = {}): number {
    return this.values.get(seriesKey(labels)) ?? 0;
  }

  lines(): string[] {
    return [...this.values].map(([l, v]) => `${this.name}${l} ${v}`);
  }
}

export class Histogram implements Metric {
  readonly type = 'histogram';
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    const key = seriesKey(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  lines(): string[] {
    const out: string[] = [];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => out.push(`${this.name}_bucket${labelText({ ...s.labels, le: b })} ${s.counts[i]}`));
      out.push(`${this.name}_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      out.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`);
      out.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return out;
  }
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  /** The counter of that name, created on first use. */
  counter(name: string, help: string): Counter {
    return this.getOrAdd(name, () => new Counter(name, help)) as Counter;
  }

  histogram(name: string, help: string, buckets: readonly number[]): Histogram {
    return this.getOrAdd(name, () => new Histogram(name, help, buckets)) as Histogram;
  }

  private getOrAdd(name: string, make: () => Metric): Metric {
    let m = this.metrics.get(name);
    if (!m) this.metrics.set(name, (m = make()));
    return m;
  }

  /** The exposition text, `text/plain; version=0.0.4`. */
  render(): string {
    const out: string[] = [];
    for (const m of this.metrics.values()) {
      out.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, ...m.lines());
    }
    return out.join('\n') + '\n';
  }
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
