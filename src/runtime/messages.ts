/**
 * Messages between the runtime pool (main thread) and its session workers. Tensor data travels as
 * transferred ArrayBuffers, so a batch crosses threads without a copy.
 */

/** A tensor as it crosses the thread boundary. `type` is onnxruntime's tensor type. */
export interface WireTensor {
  readonly name: string;
  readonly type: string;
  readonly dims: readonly number[];
  /** A typed array, or string[] for onnxruntime string tensors. */
  readonly data: ArrayBufferView | readonly string[];
}

/** Tensor metadata read from a session. */
export interface WireValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: ReadonlyArray<number | string>;
}

/** onnxruntime session settings a model version is loaded with. */
export interface SessionSettings {
  readonly intraOpThreads: number;
  readonly interOpThreads: number;
}

/** Main thread → worker. */
export type WorkerRequest =
  | {
      readonly op: 'load';
      readonly id: number;
      readonly key: string;
      readonly bytes: Uint8Array;
      readonly settings: SessionSettings;
    }
  | {
      readonly op: 'run';
      readonly id: number;
      readonly key: string;
      readonly feeds: readonly WireTensor[];
      readonly fetches: readonly string[];
    }
  | { readonly op: 'unload'; readonly id: number; readonly key: string }
  /**
   * Finish the requests already received, release every session, then end the thread: the pool
   * closes workers this way rather than with `terminate()`, which stops a thread wherever it is —
   * possibly inside onnxruntime's native code or its finalizers, where a failing N-API call
   * aborts the whole process (`terminate called after throwing an instance of 'Napi::Error'`, seen
   * at a test's teardown).
   */
  | { readonly op: 'close' };

/** The requests the worker answers (all but `close`). */
export type SessionRequest = Exclude<WorkerRequest, { op: 'close' }>;

/** Worker → main thread. */
export type WorkerResponse =
  | {
      readonly id: number;
      readonly ok: true;
      readonly outputs?: readonly WireTensor[];
      readonly inputs?: readonly WireValueMetadata[];
      readonly outputMetadata?: readonly WireValueMetadata[];
      /** Time spent inside session.run, in nanoseconds. */
      readonly computeNs?: number;
    }
  | { readonly id: number; readonly ok: false; readonly message: string; readonly kind: 'load' | 'run' | 'other' };

/**
 * What a session worker posts once onnxruntime is loaded. Terminating a thread while the native
 * module is still initialising can abort the whole process (`terminate called after throwing an
 * instance of 'Napi::Error'`), so the pool waits for this before it terminates a worker.
 */
export const WORKER_READY = 'stratum-session-worker-ready';
