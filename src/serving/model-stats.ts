/**
 * Per-version counters for the protocol's statistics extension (`GET /v2/models/{m}/stats`), in
 * the shape Triton reports them.
 */

interface Duration {
  count: number;
  ns: number;
}

interface BatchDurations {
  compute_input: Duration;
  compute_infer: Duration;
  compute_output: Duration;
}

/** The statistics of one model version, as sent. */
export interface ModelStatistics {
  readonly name: string;
  readonly version: string;
  readonly last_inference: number;
  readonly inference_count: number;
  readonly execution_count: number;
  readonly inference_stats: {
    readonly success: Duration;
    readonly fail: Duration;
    readonly queue: Duration;
    readonly compute_input: Duration;
    readonly compute_infer: Duration;
    readonly compute_output: Duration;
  };
  readonly batch_stats: readonly ({ readonly batch_size: number } & BatchDurations)[];
}

const zero = (): Duration => ({ count: 0, ns: 0 });

/** Accumulates statistics for one model version. */
export class ModelStats {
  #lastInference = 0;
  #inferenceCount = 0;
  #executionCount = 0;
  readonly #inference = {
    success: zero(),
    fail: zero(),
    queue: zero(),
    compute_input: zero(),
    compute_infer: zero(),
    compute_output: zero(),
  };
  readonly #batches = new Map<number, BatchDurations>();

  constructor(
    readonly name: string,
    readonly version: string,
  ) {}

  /** Records a request's outcome and total duration. */
  request(ok: boolean, ns: number): void {
    const d = ok ? this.#inference.success : this.#inference.fail;
    d.count++;
    d.ns += ns;
  }

  /** Records one request's time in the queue. */
  queued(ns: number): void {
    this.#inference.queue.count++;
    this.#inference.queue.ns += ns;
  }

  /** Records an executed batch. */
  batch(options: { size: number; requests: number; inputNs: number; inferNs: number; outputNs: number }): void {
    this.#lastInference = Date.now();
    this.#inferenceCount += options.size;
    this.#executionCount++;
    const add = (d: Duration, ns: number, count: number): void => {
      d.count += count;
      d.ns += ns;
    };
    add(this.#inference.compute_input, options.inputNs, options.requests);
    add(this.#inference.compute_infer, options.inferNs, options.requests);
    add(this.#inference.compute_output, options.outputNs, options.requests);
    let b = this.#batches.get(options.size);
    if (b === undefined) {
      b = { compute_input: zero(), compute_infer: zero(), compute_output: zero() };
      this.#batches.set(options.size, b);
    }
    add(b.compute_input, options.inputNs, 1);
    add(b.compute_infer, options.inferNs, 1);
    add(b.compute_output, options.outputNs, 1);
  }

  /** A snapshot. */
  snapshot(): ModelStatistics {
    const copy = (d: Duration): Duration => ({ count: d.count, ns: d.ns });
    return {
      name: this.name,
      version: this.version,
      last_inference: this.#lastInference,
      inference_count: this.#inferenceCount,
      execution_count: this.#executionCount,
      inference_stats: {
        success: copy(this.#inference.success),
        fail: copy(this.#inference.fail),
        queue: copy(this.#inference.queue),
        compute_input: copy(this.#inference.compute_input),
        compute_infer: copy(this.#inference.compute_infer),
        compute_output: copy(this.#inference.compute_output),
      },
      batch_stats: [...this.#batches.entries()]
        .sort(([a], [b]) => a - b)
        .map(([size, d]) => ({
          batch_size: size,
          compute_input: copy(d.compute_input),
          compute_infer: copy(d.compute_infer),
          compute_output: copy(d.compute_output),
        })),
    };
  }
}
