/**
 * The span of one request as the serving path sees it: enough to start children and record timed
 * stages, and no OpenTelemetry type. It exists only for a request that is traced and sampled;
 * every other request carries none, and the hot path checks for `undefined` and does nothing.
 */

/** Span attributes. */
export type TraceAttributes = Readonly<Record<string, string | number | boolean>>;

/** A finished stage between two `performance.now()` times. */
export interface RecordedTimes {
  readonly start: number;
  readonly end: number;
  readonly attributes?: TraceAttributes;
}

/** A live span of a request. */
export interface RequestTrace {
  /** Starts a child span; end it with `end()`. */
  child(name: string, attributes?: TraceAttributes): RequestTrace;
  /**
   * Records a finished child span between two `performance.now()` times. The span is made on a
   * later turn of the event loop (at once by `Tracing.flush`), off the path of the batch it times.
   */
  record(name: string, span: RecordedTimes): void;
  /**
   * Records one finished child span shared with the spans of `sharers` (a batch's run, for every
   * traced request in the batch): a child of this span that links to each sharer's span, and each
   * sharer's span links back to it. Made later, like {@link record}.
   */
  recordShared(name: string, span: RecordedTimes, sharers: readonly RequestTrace[]): void;
  setAttributes(attributes: TraceAttributes): void;
  /** Ends the span, marking it failed when `error` is given. */
  end(error?: unknown): void;
}
