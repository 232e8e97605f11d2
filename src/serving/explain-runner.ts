/**
 * Runs a version's SHAP computation in a thread of its own (`explain-thread.ts`), started with
 * the first explanation and ended with the version: serving keeps its event loop while a large
 * ensemble is explained. One thread per explained version, through the shared worker pool; a
 * crashed thread fails the requests it held and the next explanation starts a fresh one.
 */
import { StratumError } from '../errors/index.ts';
import { fromThreadFailure } from '../errors/thread-failure.ts';
import { createWorkerPool, describeLoss, type WorkerPool } from '../runtime/worker-pool.ts';
import type { ExplainThreadData, ExplainThreadReply, ExplainThreadRequest } from './explain-thread-messages.ts';

/** The runner; `close()` ends its thread. */
export interface ExplainRunner {
  /**
   * SHAP values of a block of feature rows (row-major `rows × F`; copied, the caller's array is kept).
   * @returns `values`, row-major `rows × outputs × F`, and `base` per output.
   * @throws StratumError as the explainer fails (UNSUPPORTED, INVALID_MODEL), or INTERNAL when the thread is lost.
   */
  explain(features: Float32Array): Promise<{ values: Float64Array; base: readonly number[] }>;
  /** Idempotent. */
  close(): Promise<void>;
}

/**
 * A runner for one model; no thread starts before the first explanation.
 *
 * @example
 * ```ts
 * const runner = createExplainRunner({ bytes, target: 'model "iris" version 3' })
 * const { values, base } = await runner.explain(features)
 * await runner.close()
 * ```
 */
export function createExplainRunner(data: ExplainThreadData): ExplainRunner {
  let pool: WorkerPool<ExplainThreadRequest, ExplainThreadReply> | undefined;
  let closed: Promise<void> | undefined;
  const start = (): WorkerPool<ExplainThreadRequest, ExplainThreadReply> =>
    createWorkerPool<ExplainThreadRequest, ExplainThreadReply>({
      entry: new URL('./explain-thread.ts', import.meta.url),
      size: 1,
      name: 'stratum-explain',
      workerData: () => data,
      keepAlive: 'while-busy',
      lostError: (_request, loss) =>
        new StratumError(
          'INTERNAL',
          `${data.target}: the explain thread: ${describeLoss(loss, { worker: 'explain thread', closedBecause: 'the version is unloading' })}`,
        ),
      onExit: (end) => {
        // A thread that died on its own is replaced with the next explanation.
        if (!end.closing && pool !== undefined) {
          const dead = pool;
          pool = undefined;
          dead.close().catch(() => undefined);
        }
      },
    });
  return {
    async explain(features) {
      if (closed !== undefined) throw new StratumError('MODEL_NOT_READY', `${data.target} is unloaded`);
      pool ??= start();
      // A copy of its own, so the transfer cannot detach a buffer the caller (or onnxruntime) holds.
      const own = features.slice();
      const reply = await pool.request(0, { id: pool.nextId(), features: own }, [own.buffer]);
      if (!reply.ok) throw fromThreadFailure(reply);
      return { values: reply.values, base: reply.base };
    },
    close() {
      closed ??= pool?.close() ?? Promise.resolve();
      return closed;
    },
  };
}
