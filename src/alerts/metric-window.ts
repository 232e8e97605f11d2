/**
 * Snapshots of a prom-client registry over time, and what alert rules measure from them: a value
 * now, a counter's rate, a ratio of two counters' increases and a histogram quantile over a window
 * — the few PromQL functions the rules need, on this process's own metrics (Prometheus itself
 * evaluates the same rules from deploy/prometheus/ when it runs).
 */
import type { Registry } from 'prom-client';
import type { Measure } from './alert-rules.ts';

interface Sample {
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
  /** For histogram buckets. */
  readonly le?: number;
}

interface Snapshot {
  readonly at: number;
  /** metric name (for histograms: `<name>_bucket`, `_sum`, `_count`) → samples */
  readonly metrics: ReadonlyMap<string, readonly Sample[]>;
}

/** Registry snapshots kept for the longest window; `sample()` takes one. */
export interface MetricWindow {
  sample(now: number): Promise<void>;
  /** What `measure` gives on the snapshots so far; undefined when there is not enough data. */
  measure(measure: Measure, now: number): number | undefined;
}

export function createMetricWindow(options: { registry: Registry; keepMs: number }): MetricWindow {
  const snapshots: Snapshot[] = [];
  return {
    async sample(now) {
      const metrics = new Map<string, Sample[]>();
      for (const metric of await options.registry.getMetricsAsJSON()) {
        for (const value of metric.values as {
          value: number;
          labels: Record<string, string | number>;
          metricName?: string;
        }[]) {
          const name = value.metricName ?? metric.name;
          const { le, ...labels } = value.labels;
          const sample: Sample = {
            labels,
            value: value.value,
            ...(le !== undefined && { le: le === '+Inf' ? Infinity : Number(le) }),
          };
          const list = metrics.get(name);
          if (list === undefined) metrics.set(name, [sample]);
          else list.push(sample);
        }
      }
      snapshots.push({ at: now, metrics });
      // Keep one snapshot at or before the longest window's start.
      while (snapshots.length > 2 && (snapshots[1]?.at ?? now) <= now - options.keepMs) snapshots.shift();
    },
    measure(measure, now) {
      const latest = snapshots.at(-1);
      if (latest === undefined) return undefined;
      if (measure.kind === 'value') return sumOf(latest, measure.metric, measure.where);
      const start = startOf(snapshots, now - measure.window);
      if (start === undefined || start === latest) return undefined;
      const seconds = (latest.at - start.at) / 1000;
      const span = { start, end: latest };
      switch (measure.kind) {
        case 'rate': {
          const increase = increaseOf(span, measure.metric, measure.where);
          return increase === undefined ? undefined : increase / seconds;
        }
        case 'ratio': {
          const part = increaseOf(span, measure.metric, measure.where);
          const whole = increaseOf(span, measure.of, measure.ofWhere);
          if (part === undefined || whole === undefined || whole === 0) return undefined;
          return part / whole;
        }
        case 'quantile':
          return quantileOf(span, measure);
      }
    },
  };
}

/** Two snapshots: a window's start and end. */
interface Span {
  readonly start: Snapshot;
  readonly end: Snapshot;
}

/** The newest snapshot taken at or before `at` (the window's start). */
function startOf(snapshots: readonly Snapshot[], at: number): Snapshot | undefined {
  let found: Snapshot | undefined;
  for (const s of snapshots) {
    if (s.at <= at) found = s;
    else break;
  }
  return found;
}

function matches(labels: Readonly<Record<string, string | number>>, where: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(where)) if (String(labels[k]) !== v) return false;
  return true;
}

function seriesKey(sample: Sample): string {
  return JSON.stringify(Object.entries(sample.labels).sort(([a], [b]) => (a < b ? -1 : 1))) + (sample.le ?? '');
}

function sumOf(snapshot: Snapshot, metric: string, where: Readonly<Record<string, string>>): number | undefined {
  const samples = snapshot.metrics.get(metric)?.filter((s) => matches(s.labels, where));
  if (samples === undefined || samples.length === 0) return undefined;
  return samples.reduce((sum, s) => sum + s.value, 0);
}

/** Per series: the increase from start to end, a counter reset counting from zero (as PromQL). */
function increases(
  span: Span,
  metric: string,
  where: Readonly<Record<string, string>>,
): Map<string, { sample: Sample; increase: number }> | undefined {
  const { start, end } = span;
  const now = end.metrics.get(metric)?.filter((s) => matches(s.labels, where));
  if (now === undefined || now.length === 0) return undefined;
  const before = new Map((start.metrics.get(metric) ?? []).map((s) => [seriesKey(s), s.value]));
  const out = new Map<string, { sample: Sample; increase: number }>();
  for (const sample of now) {
    const key = seriesKey(sample);
    const was = before.get(key) ?? 0;
    out.set(key, { sample, increase: sample.value >= was ? sample.value - was : sample.value });
  }
  return out;
}

function increaseOf(span: Span, metric: string, where: Readonly<Record<string, string>>): number | undefined {
  const per = increases(span, metric, where);
  if (per === undefined) return undefined;
  let total = 0;
  for (const { increase } of per.values()) total += increase;
  return total;
}

/**
 * PromQL's histogram_quantile over the buckets' increase, summed across the matching series:
 * linear interpolation inside the bucket holding the rank; the highest finite bound when the rank
 * falls in +Inf.
 */
function quantileOf(
  span: Span,
  selector: { metric: string; where: Readonly<Record<string, string>>; quantile: number },
): number | undefined {
  const { metric, where, quantile: q } = selector;
  const per = increases(span, `${metric}_bucket`, where) ?? increases(span, metric, where);
  if (per === undefined) return undefined;
  const byBound = new Map<number, number>();
  for (const { sample, increase } of per.values()) {
    if (sample.le === undefined) continue;
    byBound.set(sample.le, (byBound.get(sample.le) ?? 0) + increase);
  }
  const buckets = [...byBound.entries()].sort(([a], [b]) => a - b);
  const total = buckets.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of buckets) {
    if (count >= rank) {
      if (bound === Infinity) return lowerBound;
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / (count - lowerCount || 1);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}
