/**
 * Runs drift comparisons: small ones inline (a thread hop costs more than they do), large ones in
 * a thread of their own, started with the first large window and ended by `close()`.
 */
import type { TransferListItem } from 'node:worker_threads';
import { StratumError } from '../errors/index.ts';
import { fromThreadFailure } from '../errors/thread-failure.ts';
import { createWorkerPool, describeLoss, type WorkerPool } from '../runtime/worker-pool.ts';
import { type ComputeDriftInput, computeDrift, type DriftVerdict } from './compute-drift.ts';
import { currentRows } from './drift-columns.ts';
import type { DriftThreadReply, DriftThreadRequest } from './drift-thread-messages.ts';

/** Options of {@link createDriftRunner}. */
export interface DriftRunnerOptions {
  /**
   * Current values (over all columns) from which a comparison runs in the thread.
   * @default 200000
   */
  readonly threadValues?: number;
}

/** Runs comparisons; `close()` ends its thread. */
export interface DriftRunner {
  /** The verdicts; the current numeric columns are handed over (sorted, or moved to the thread). */
  run(input: ComputeDriftInput): Promise<DriftVerdict>;
  /** Idempotent. */
  close(): Promise<void>;
}

/** A runner whose thread starts with the first large comparison. */
export function createDriftRunner(options: DriftRunnerOptions = {}): DriftRunner {
  const threadValues = options.threadValues ?? 200_000;
  let pool: WorkerPool<DriftThreadRequest, DriftThreadReply> | undefined;
  let closed: Promise<void> | undefined;
  return {
    async run(input) {
      if (closed !== undefined) throw new StratumError('SHUTTING_DOWN', 'the drift runner is closed');
      let values = 0;
      for (const column of input.current.values()) values += currentRows(column);
      if (values < threadValues) return computeDrift(input);
      pool ??= createWorkerPool<DriftThreadRequest, DriftThreadReply>({
        entry: new URL('./drift-thread.ts', import.meta.url),
        size: 1,
        name: 'stratum-drift',
        keepAlive: 'while-busy',
        lostError: (_request, loss) =>
          new StratumError(
            'INTERNAL',
            `the drift thread: ${describeLoss(loss, { worker: 'drift thread', closedBecause: 'the server is shutting down' })}`,
          ),
      });
      const current = [...input.current.entries()];
      // The window's numbers are this comparison's own: moved, not copied.
      const transfer: TransferListItem[] = current.flatMap(([, column]) =>
        column.kind === 'numeric' ? [column.values.buffer as ArrayBuffer] : [],
      );
      const reply = await pool.request(
        0,
        { id: pool.nextId(), references: input.references, current, config: input.config },
        transfer,
      );
      if (!reply.ok) throw fromThreadFailure(reply);
      return reply.verdict;
    },
    close() {
      closed ??= pool?.close() ?? Promise.resolve();
      return closed;
    },
  };
}
