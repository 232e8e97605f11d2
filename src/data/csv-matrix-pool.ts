/**
 * The worker threads of the numeric CSV reader: `parse` sends a byte range to the least busy
 * worker and resolves with its response. Every request is settled by its worker: by the reply, or,
 * when the worker exits first (crashed, or terminated by `close`), by a rejection naming the range;
 * a worker that exits unasked fails the ranges sent afterwards. `close` terminates the workers
 * (idempotent). A worker keeps the event loop alive while it owes a reply or is being terminated,
 * and only then: an abandoned iteration never keeps the process alive.
 */
import type { Worker } from 'node:worker_threads';
import { StratumError } from '../errors/index.ts';
import { startWorker } from '../runtime/start-worker.ts';
import type { CsvMatrixWorkerData, RangeRequest, RangeResponse, WorkerMessage } from './csv-matrix-protocol.ts';

interface Call {
  readonly start: number;
  readonly end: number;
  readonly resolve: (response: RangeResponse) => void;
  readonly reject: (error: unknown) => void;
}

interface Slot {
  readonly index: number;
  readonly worker: Worker;
  /** Requests sent and not answered yet, by seq, oldest first (a worker answers in order). */
  readonly calls: Map<number, Call>;
  /** The uncaught error the worker reported, given as the reason when it exits. */
  crash: Error | undefined;
  exited: boolean;
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
  #nextSeq = 0;
  #readyWorkers = 0;
  #failure: StratumError | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: CsvMatrixPoolOptions) {
    this.#path = options.data.path;
    this.#slots = Array.from({ length: options.size }, (_, index) => {
      const worker = startWorker(new URL('./csv-matrix-worker.ts', import.meta.url), {
        name: `stratum-csv-matrix-${index}`,
        workerData: options.data,
      });
      const slot: Slot = { index, worker, calls: new Map(), crash: undefined, exited: false };
      worker.unref();
      worker.on('message', (message: WorkerMessage) => {
        if (message.kind === 'ready') this.#readyWorkers++;
        else this.#settle(slot, message);
      });
      worker.on('messageerror', (error) => this.#lostReply(slot, error));
      worker.on('error', (error) => {
        slot.crash = error;
        this.#failure ??= this.#workerError(slot, `crashed: ${error.message}`, error);
      });
      worker.on('exit', (code) => this.#exited(slot, code));
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
    const live = this.#slots.filter((candidate) => !candidate.exited);
    if (this.#closing !== undefined || live.length === 0) {
      return Promise.reject(
        new StratumError('INTERNAL', `${this.#path}: bytes [${range.start}, ${range.end}): the csv workers are closed`),
      );
    }
    const slot = live.reduce((best, candidate) => (candidate.calls.size < best.calls.size ? candidate : best));
    const seq = this.#nextSeq++;
    return new Promise((resolve, reject) => {
      const call: Call = { start: range.start, end: range.end, resolve, reject };
      const request: RangeRequest = { ...range, seq, recycled };
      try {
        slot.worker.postMessage(request, recycled === undefined ? [] : [recycled]);
      } catch (error) {
        reject(this.#rangeError(call, `cannot be sent to csv worker ${slot.index}: ${String(error)}`));
        return;
      }
      slot.calls.set(seq, call);
      this.#holdLoop(slot);
    });
  }

  /** Terminates the workers; ranges still out are rejected as their workers exit. */
  close(): Promise<void> {
    this.#closing ??= Promise.all(
      this.#slots.map((slot) => {
        this.#holdLoop(slot);
        return slot.worker.terminate();
      }),
    ).then(() => undefined);
    return this.#closing;
  }

  /**
   * A worker keeps the event loop alive while it owes a reply (the caller awaits it, and nothing
   * else may be pending) or is being terminated (`close` awaits its exit); an idle one does not.
   */
  #holdLoop(slot: Slot): void {
    if (this.#closing !== undefined || slot.calls.size > 0) slot.worker.ref();
    else slot.worker.unref();
  }

  #settle(slot: Slot, response: RangeResponse): void {
    const call = slot.calls.get(response.seq);
    if (call === undefined) return;
    slot.calls.delete(response.seq);
    this.#holdLoop(slot);
    call.resolve(response);
  }

  /** A reply that could not be deserialized: the worker answers in order, so it was its oldest request's. */
  #lostReply(slot: Slot, error: Error): void {
    const oldest = slot.calls.entries().next();
    if (oldest.done === true) return;
    const [seq, call] = oldest.value;
    slot.calls.delete(seq);
    this.#holdLoop(slot);
    call.reject(this.#rangeError(call, `the reply of csv worker ${slot.index} could not be read: ${error.message}`));
  }

  #exited(slot: Slot, code: number): void {
    slot.exited = true;
    const reason =
      this.#closing !== undefined
        ? 'was terminated (the reader was closed)'
        : slot.crash !== undefined
          ? `crashed (${slot.crash.message})`
          : `exited with code ${code}`;
    if (this.#closing === undefined) this.#failure ??= this.#workerError(slot, reason, slot.crash);
    const calls = [...slot.calls.values()];
    slot.calls.clear();
    for (const call of calls) call.reject(this.#rangeError(call, `csv worker ${slot.index} ${reason} before replying`));
  }

  #workerError(slot: Slot, what: string, cause: Error | undefined): StratumError {
    return new StratumError('INTERNAL', `${this.#path}: csv worker ${slot.index} ${what}`, { cause });
  }

  #rangeError(call: Call, what: string): StratumError {
    return new StratumError('INTERNAL', `${this.#path}: bytes [${call.start}, ${call.end}): ${what}`, {
      details: { file: this.#path, start: call.start, end: call.end },
    });
  }
}
