/**
 * What the dashboard draws from serving samples: requests per second, error rate and p50/p99
 * latency per sample, for one version or for several summed (a deployment's traffic split).
 * Quantiles are estimated from histogram buckets the way Prometheus's `histogram_quantile` does:
 * linear interpolation inside the bucket that holds the rank.
 */
import type { StatsSample } from './serving-stats.ts';

/** One point of a chart. */
export interface StatsPoint {
  /** Epoch ms. */
  readonly at: number;
  /** Requests in the interval (successful and failed). */
  readonly requests: number;
  readonly requestsPerSecond: number;
  /** Failed / all requests in the interval; null when there were none. */
  readonly errorRate: number | null;
  /** Latency quantiles of successful requests, in milliseconds; null when there were none. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

/**
 * The q-quantile of bucketed observations: `counts` per bucket (not cumulative), `bounds` the
 * upper bounds without the last (+Inf) bucket. An answer in the +Inf bucket is the highest bound,
 * as in Prometheus. Null when there are no observations.
 */
export function bucketQuantile(
  q: number,
  options: { bounds: readonly number[]; counts: readonly number[] },
): number | null {
  const { bounds, counts } = options;
  const total = counts.reduce((sum, c) => sum + c, 0);
  if (total <= 0) return null;
  const rank = q * total;
  let cumulative = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] ?? 0;
    if (cumulative + count >= rank && count > 0) {
      if (i >= bounds.length) return bounds.at(-1) ?? null;
      const lower = i === 0 ? 0 : (bounds[i - 1] as number);
      const upper = bounds[i] as number;
      return lower + ((upper - lower) * (rank - cumulative)) / count;
    }
    cumulative += count;
  }
  return bounds.at(-1) ?? null;
}

/** The point of one sample. */
export function pointOf(sample: StatsSample, bounds: readonly number[]): StatsPoint {
  const requests = sample.ok + sample.failed;
  const ms = (q: number): number | null => {
    const seconds = bucketQuantile(q, { bounds, counts: sample.buckets });
    return seconds === null ? null : seconds * 1000;
  };
  return {
    at: sample.at,
    requests,
    requestsPerSecond: requests / sample.seconds,
    errorRate: requests === 0 ? null : sample.failed / requests,
    p50Ms: ms(0.5),
    p99Ms: ms(0.99),
  };
}

/**
 * The samples of several versions summed by time (every version is sampled at the same instants),
 * oldest first: a deployment's whole traffic.
 */
export function sumSamples(series: readonly (readonly StatsSample[])[]): StatsSample[] {
  const byTime = new Map<number, { seconds: number; ok: number; failed: number; buckets: number[] }>();
  for (const samples of series) {
    for (const s of samples) {
      const sum = byTime.get(s.at);
      if (sum === undefined) {
        byTime.set(s.at, { seconds: s.seconds, ok: s.ok, failed: s.failed, buckets: [...s.buckets] });
        continue;
      }
      sum.ok += s.ok;
      sum.failed += s.failed;
      s.buckets.forEach((c, i) => {
        sum.buckets[i] = (sum.buckets[i] ?? 0) + c;
      });
    }
  }
  return [...byTime.entries()].sort(([a], [b]) => a - b).map(([at, sum]) => ({ at, ...sum }));
}
