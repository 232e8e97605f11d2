/**
 * The worker threads of the numeric CSV reader: `parse` sends a byte range to the least busy
 * worker and resolves with its response. A crashed worker fails every range still out; `close`
 * terminates the workers (idempotent). Workers are unref'd whenever idle, so an abandoned
 * iteration never keeps the process alive.
 */
import type { Worker } from 'node:worker_threads';
import { StratumError } from '../errors/index.ts';
import { startTsWorker } from '../runtime/start-ts-worker.ts';
import type { CsvMatrixWorkerData, RangeRequest, RangeResponse, WorkerMessage } from './csv-matrix-protocol.ts';

interface Slot {
  readonly worker: Worker;
  outstanding: number;
}

interface Call {
  readonly resolve: (response: RangeResponse) => void;
  readonly reject: (error: unknown) => void;
  readonly slot: Slot;
}

/** Options of {@link CsvMatrixPool}. */
export interface CsvMatrixPoolOptions {
  /** Worker threads. */
  readonly size: number;
  /** What every worker needs: the file and the layout of its records. */
  readonly data: CsvMatrixWorkerData;
}

/** Worker threads parsing byte ranges of one file. */
export class CsvMatrixPool {
  readonly #path: string;
  readonly #slots: Slot[];
  readonly #calls = new Map<number, Call>();
  #nextSeq = 0;
  #readyWorkers = 0;
  #failure: StratumError | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: CsvMatrixPoolOptions) {
    this.#path = options.data.path;
    this.#slots = Array.from({ length: options.size }, (_, index) => {
      const worker = startTsWorker(new URL('./csv-matrix-worker.ts', import.meta.url), {
        name: `stratum-csv-matrix-${index}`,
        workerData: options.data,
      });
      const slot: Slot = { worker, outstanding: 0 };
      worker.unref();
      worker.on('message', (message: WorkerMessage) => {
        if (message.kind === 'ready') this.#readyWorkers++;
        else this.#settle(message);
      });
      worker.on('error', (error) =>
        this.#fail(
          new StratumError('INTERNAL', `${this.#path}: csv worker crashed: ${error.message}`, { cause: error }),
        ),
      );
      worker.on('exit', (code) => {
        if (this.#closing === undefined) {
          this.#fail(new StratumError('INTERNAL', `${this.#path}: csv worker exited with code ${code}`));
        }
      });
      return slot;
    });
  }

  /** Whether every worker has loaded its modules (starting one takes a few hundred milliseconds). */
  get ready(): boolean {
    return this.#readyWorkers === this.#slots.length;
  }

  /**
   * Parses the range `[start, end)` of the file (see {@link RangeRequest}); `recycled`, an array
   * the workers sent before, is transferred back to be filled again.
   */
  parse(range: Omit<RangeRequest, 'seq' | 'recycled'>, recycled?: ArrayBuffer): Promise<RangeResponse> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const slot = this.#slots.reduce((best, candidate) => (candidate.outstanding < best.outstanding ? candidate : best));
    const seq = this.#nextSeq++;
    return new Promise((resolve, reject) => {
      this.#calls.set(seq, { resolve, reject, slot });
      if (slot.outstanding++ === 0) slot.worker.ref();
      const request: RangeRequest = { ...range, seq, recycled };
      slot.worker.postMessage(request, recycled === undefined ? [] : [recycled]);
    });
  }

  #settle(response: RangeResponse): void {
    const call = this.#calls.get(response.seq);
    if (call === undefined) return;
    this.#calls.delete(response.seq);
    if (--call.slot.outstanding === 0) call.slot.worker.unref();
    call.resolve(response);
  }

  #fail(error: StratumError): void {
    this.#failure ??= error;
    for (const call of this.#calls.values()) call.reject(this.#failure);
    this.#calls.clear();
  }

  /** Terminates the workers; ranges still out are abandoned. */
  close(): Promise<void> {
    // An unref'd worker does not keep the event loop alive until its termination is confirmed.
    this.#closing ??= Promise.all(
      this.#slots.map((slot) => {
        slot.worker.ref();
        return slot.worker.terminate();
      }),
    ).then(() => undefined);
    return this.#closing;
  }
}
