/** Messages between `worker-map.ts` (the main thread) and `map-worker.ts` (a worker thread). */

/** What a map worker is started with (`workerData`). */
export interface MapWorkerData {
  /** The module's URL (`file:` for a local file). */
  readonly module: string;
  /** The name of the function the module exports. */
  readonly exportName: string;
}

/** A chunk of consecutive elements, the first being element `start` of the dataset. */
export interface MapRequest {
  /** The pool's number for the request, echoed by the reply. */
  readonly id: number;
  readonly start: number;
  readonly items: readonly unknown[];
}

/** How a failure crosses the thread boundary (an Error's class does not survive cloning). */
export interface MapFailure {
  /**
   * `load`: the module or export could not be loaded; `call`: the function threw on element
   * `index`; `send`: a result of the chunk starting at `index` could not be cloned back.
   */
  readonly kind: 'load' | 'call' | 'send';
  readonly message: string;
  readonly name: string;
  /** A StratumError's code, kept so the main thread can re-raise with it. */
  readonly code: string | undefined;
  readonly stack: string | undefined;
  /** The dataset index of the element whose call failed. */
  readonly index: number;
}

/** A chunk's results in order; after a failure, the results of the elements before it. */
export interface MapResponse {
  readonly id: number;
  readonly results: readonly unknown[];
  readonly failure?: MapFailure;
}
