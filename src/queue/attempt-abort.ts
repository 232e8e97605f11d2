/**
 * The abort of one attempt — a cancel, a timeout or a shutdown — whose `AbortSignal` is created
 * only when the handler reads `job.signal`. On Node 20 creating an AbortSignal costs about 7 µs
 * (and listening to it 3 µs more), as much as a third of BullMQ's own CPU per no-op job, while
 * short handlers often never look at it (docs/BENCHMARKS.md, "Job queue"). A class rather than a
 * closure factory: its methods are shared, so an attempt allocates one small object.
 */

/** Aborts an attempt; hands its reason to a signal if one was asked for, and to one listener. */
export class AttemptAbort {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;
  #listener: ((reason: unknown) => void) | undefined;

  /** Whether the attempt was aborted. */
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Why it was aborted (a StratumError: JOB_CANCELLED, JOB_TIMEOUT or SHUTTING_DOWN); undefined before. */
  get reason(): unknown {
    return this.#reason;
  }

  /** The handler's signal, made on first use (already aborted if the attempt was). */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Aborts once; later calls keep the first reason. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
    this.#listener?.(reason);
  }

  /**
   * The one listener of the attempt's runner (called at once if already aborted); `undefined`
   * removes it.
   */
  listen(listener: ((reason: unknown) => void) | undefined): void {
    this.#listener = listener;
    if (listener !== undefined && this.#aborted) listener(this.#reason);
  }
}
