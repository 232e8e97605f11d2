/**
 * What one version answered during a window of live traffic (a canary step): requests, failures,
 * a latency sample for the p99, and comparisons with the other version. Bounded memory: the
 * latency sample is a reservoir.
 */

/** A snapshot of a window. */
export interface WindowSnapshot {
  readonly requests: number;
  readonly errors: number;
  /** ms; undefined with no samples. */
  readonly p99Ms: number | undefined;
  readonly compared: number;
  readonly disagreements: number;
  readonly startedAt: number;
}

const RESERVOIR = 4096;

/** Accumulates one version's observations. */
export class WindowStats {
  #requests = 0;
  #errors = 0;
  #compared = 0;
  #disagreements = 0;
  #latencies: number[] = [];
  #seen = 0;
  readonly startedAt = Date.now();

  request(ok: boolean, latencyMs: number): void {
    this.#requests++;
    if (!ok) this.#errors++;
    this.#seen++;
    if (this.#latencies.length < RESERVOIR) this.#latencies.push(latencyMs);
    else {
      // Reservoir sampling keeps a uniform sample of every latency seen.
      const slot = Math.floor(Math.random() * this.#seen);
      if (slot < RESERVOIR) this.#latencies[slot] = latencyMs;
    }
  }

  comparison(agree: boolean): void {
    this.#compared++;
    if (!agree) this.#disagreements++;
  }

  snapshot(): WindowSnapshot {
    return {
      requests: this.#requests,
      errors: this.#errors,
      p99Ms: quantile(this.#latencies, 0.99),
      compared: this.#compared,
      disagreements: this.#disagreements,
      startedAt: this.startedAt,
    };
  }
}

function quantile(values: readonly number[], q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}
