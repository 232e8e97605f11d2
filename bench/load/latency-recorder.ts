/**
 * Records request latencies (ms, sub-microsecond resolution) in a growable Float64Array and reads
 * exact nearest-rank percentiles. autocannon's histogram has a 1 ms floor, too coarse for the
 * 0.3 ms added-latency target, so the load generators keep every sample instead.
 */

/** Latency percentiles of one measurement window, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly mean: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

/** A latency recorder. */
export interface LatencyRecorder {
  record(ms: number): void;
  summary(): LatencySummary;
}

/**
 * Creates a recorder that keeps at most `limit` samples (later samples are dropped, so memory is
 * bounded even for a long run).
 * @param limit @default 4_000_000
 */
export function createLatencyRecorder(limit = 4_000_000): LatencyRecorder {
  let samples = new Float64Array(65_536);
  let count = 0;
  return {
    record(ms) {
      if (count === samples.length) {
        if (count >= limit) return;
        const grown = new Float64Array(Math.min(limit, count * 2));
        grown.set(samples);
        samples = grown;
      }
      samples[count++] = ms;
    },
    summary() {
      const sorted = samples.slice(0, count).sort();
      const at = (q: number): number =>
        count === 0 ? Number.NaN : (sorted[Math.min(count - 1, Math.ceil(q * count) - 1)] ?? Number.NaN);
      let sum = 0;
      for (let i = 0; i < count; i++) sum += sorted[i] as number;
      return {
        count,
        mean: count === 0 ? Number.NaN : sum / count,
        p50: at(0.5),
        p90: at(0.9),
        p99: at(0.99),
        max: count === 0 ? Number.NaN : (sorted[count - 1] as number),
      };
    },
  };
}
