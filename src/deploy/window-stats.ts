/**
 * What one version answered during a window of live traffic (a canary step): requests, failures,
 * a latency sample of the successful requests, and comparisons with the other version. Bounded
 * memory: the latency sample is a reservoir, a uniform sample of every latency seen.
 */

/** A snapshot of a window, for status pages. */
export interface WindowSnapshot {
  readonly requests: number;
  readonly errors: number;
  /** Median latency of successful requests (ms); undefined with none. */
  readonly medianMs?: number | undefined;
  /** ms; undefined with no samples. */
  readonly p99Ms: number | undefined;
  readonly compared: number;
  readonly disagreements: number;
  readonly startedAt: number;
}

/** What the canary gates judge: the counts, and the latency sample itself. */
export interface WindowSample {
  readonly requests: number;
  readonly errors: number;
  /** Latencies of successful requests (ms): all of them, or a uniform sample of them. */
  readonly latencies: readonly number[];
  readonly compared: number;
  readonly disagreements: number;
}

/** Latencies kept per window: enough for a rank test to see a 1 ms shift many times over. */
export const RESERVOIR_SIZE = 4096;

/** Options of {@link WindowStats}. */
export interface WindowStatsOptions {
  /** Uniform numbers in [0, 1) for the reservoir. @default Math.random */
  readonly random?: () => number;
  /** When the window opened (ms since the epoch). @default Date.now() */
  readonly startedAt?: number;
}

/** Accumulates one version's observations. */
export class WindowStats {
  #requests = 0;
  #errors = 0;
  #compared = 0;
  #disagreements = 0;
  #latencies: number[] = [];
  #seen = 0;
  readonly #random: () => number;
  readonly startedAt: number;

  constructor(options: WindowStatsOptions = {}) {
    this.#random = options.random ?? Math.random;
    this.startedAt = options.startedAt ?? Date.now();
  }

  /** Requests answered so far (successful or failed). */
  get requests(): number {
    return this.#requests;
  }

  /** Requests compared with the other version so far. */
  get compared(): number {
    return this.#compared;
  }

  /**
   * Records a request. A failed one counts against the error rate only: its latency (often a fast
   * refusal) would make a failing version look quick.
   */
  request(ok: boolean, latencyMs: number): void {
    this.#requests++;
    if (!ok) {
      this.#errors++;
      return;
    }
    this.#seen++;
    if (this.#latencies.length < RESERVOIR_SIZE) this.#latencies.push(latencyMs);
    else {
      // Reservoir sampling (algorithm R) keeps a uniform sample of every latency seen.
      const slot = Math.floor(this.#random() * this.#seen);
      if (slot < RESERVOIR_SIZE) this.#latencies[slot] = latencyMs;
    }
  }

  comparison(agree: boolean): void {
    this.#compared++;
    if (!agree) this.#disagreements++;
  }

  /** The counts and a copy of the latency sample. */
  sample(): WindowSample {
    return {
      requests: this.#requests,
      errors: this.#errors,
      latencies: [...this.#latencies],
      compared: this.#compared,
      disagreements: this.#disagreements,
    };
  }

  snapshot(): WindowSnapshot {
    const sorted = Float64Array.from(this.#latencies).sort();
    return {
      requests: this.#requests,
      errors: this.#errors,
      medianMs: quantile(sorted, 0.5),
      p99Ms: quantile(sorted, 0.99),
      compared: this.#compared,
      disagreements: this.#disagreements,
      startedAt: this.startedAt,
    };
  }
}

function quantile(sorted: Float64Array, q: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
