/**
 * The seam through which the inference service hands answered requests to the inference log
 * (implemented in `deploy/inference-log-recorder.ts`), so that serving knows nothing of stores. A
 * recorder is only given to the service when the log is on; without one the hot path does nothing.
 */
import type { RequestTrace } from '../monitor/request-trace.ts';
import type { InferInput, InferRequest, InferResponse } from './types.ts';

/**
 * A request chosen for the log. Its inputs are the request's own where running it leaves them
 * intact (views into a request body), copies where it may transfer their buffers away.
 */
export interface InferenceCapture {
  readonly requestId: string;
  /** The name the request addressed. */
  readonly deployment: string;
  readonly inputs: readonly InferInput[];
  /** `performance.now()` when the service took the request. */
  readonly startedAt: number;
  /** The request's span, when traced: the log's write is recorded under it. */
  readonly trace?: RequestTrace;
}

/** What the service tells a recorder. */
export interface InferenceRecorder {
  /**
   * Called before a request is routed. For a name whose requests may be logged, a request without
   * an `id` gets a generated one (returned in the response, so feedback can name it); a sampled
   * request also gets a capture. Names whose sample rate is 0 get the request back untouched.
   */
  begin(name: string, request: InferRequest): { readonly request: InferRequest; readonly capture?: InferenceCapture };
  /** Called once a captured request is answered; never blocks (the record is buffered, or dropped and counted). */
  end(capture: InferenceCapture, answer: { model: string; version: string; response: InferResponse }): void;
}
