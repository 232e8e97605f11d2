/** Messages of `pool-test-worker.ts`, the worker of the worker-pool tests. */

/** The ready signal the worker posts. */
export const TEST_WORKER_READY = 'pool-test-worker-ready';
/** The worker's entry. */
export const TEST_WORKER_ENTRY = new URL('./pool-test-worker.ts', import.meta.url);

export type TestRequest =
  | { readonly id: number; readonly op: 'echo' | 'hold' | 'release' | 'exit' | 'crash'; readonly value?: unknown }
  | { readonly id: number; readonly op: 'sum'; readonly data: Float32Array };

export interface TestReply {
  readonly id: number;
  readonly worker: number;
  readonly value: unknown;
}

export interface TestWorkerData {
  readonly index: number;
  readonly gate?: Int32Array;
  /** Ignore the close message, so only terminate() ends the thread. */
  readonly ignoreClose?: boolean;
}
