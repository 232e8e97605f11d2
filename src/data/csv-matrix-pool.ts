/**
 * The worker threads of the numeric CSV reader, on the shared worker pool: `parse` sends a byte
 * range to the least busy worker and resolves with its response. Every request is settled by its
 * worker: by the reply, or, when the worker exits first (crashed, or terminated by `close`), by a
 * rejection naming the range; a worker that exits unasked fails the ranges sent afterwards.
 * `close` terminates the workers (idempotent). A worker keeps the event loop alive while it owes a
 * reply or is being terminated, and only then: an abandoned iteration never keeps the process alive.
 */
import { StratumError } from '../errors/index.ts';
import {
  createWorkerPool,
  describeEnd,
  describeLoss,
  type LossWords,
  type WorkerPool,
} from '../runtime/worker-pool.ts';
import {
  CSV_MATRIX_WORKER_READY,
  type CsvMatrixWorkerData,
  type RangeRequest,
  type RangeResponse,
} from './csv-matrix-protocol.ts';

/** Options of {@link CsvMatrixPool}. */
export interface CsvMatrixPoolOptions {
  /** Worker threads. */
  readonly size: number;
  /** What every worker needs: the file and the layout of its records. */
  readonly data: CsvMatrixWorkerData;
}

/** How error messages name the workers and why they were terminated. */
const WORDS: LossWords = { worker: 'csv worker', closedBecause: 'the reader was closed' };

/** Worker threads parsing byte ranges of one file. */
export class CsvMatrixPool {
  readonly #pool: WorkerPool<RangeRequest, RangeResponse>;
  #failure: StratumError | undefined;

  constructor(options: CsvMatrixPoolOptions) {
    const { data } = options;
    const { path } = data;
    this.#pool = createWorkerPool({
      entry: new URL('./csv-matrix-worker.ts', import.meta.url),
      size: options.size,
      name: 'stratum-csv-matrix',
      workerData: () => data,
      keepAlive: 'while-busy',
      readySignal: CSV_MATRIX_WORKER_READY,
      lostError: ({ start, end }, loss) =>
        new StratumError('INTERNAL', `${path}: bytes [${start}, ${end}): ${describeLoss(loss, WORDS)}`, {
          details: { file: path, start, end },
        }),
      onExit: (end) => {
        if (end.closing) return;
        this.#failure ??= new StratumError('INTERNAL', `${path}: ${describeEnd(end, WORDS)}`, { cause: end.crash });
      },
    });
  }

  /** Whether every worker has loaded its modules (starting one takes a few hundred milliseconds). */
  get ready(): boolean {
    return this.#pool.ready;
  }

  /**
   * Parses the range `[start, end)` of the file (see {@link RangeRequest}); `recycled`, an array
   * the workers sent before, is transferred back to be filled again.
   */
  parse(range: Omit<RangeRequest, 'id' | 'recycled'>, recycled?: ArrayBuffer): Promise<RangeResponse> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const request: RangeRequest = { ...range, id: this.#pool.nextId(), recycled };
    return this.#pool.request('least-busy', request, recycled === undefined ? undefined : [recycled]);
  }

  /** Terminates the workers; ranges still out are rejected as their workers exit. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}
