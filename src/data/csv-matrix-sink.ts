/**
 * Fixed-size float32 batches filled row by row: the record parser writes into `data` directly,
 * rows parsed elsewhere (a worker's range) are copied in with `append`, and full batches are taken
 * out in order with `takeFull`.
 */
import { StratumError } from '../errors/index.ts';
import type { MatrixSink } from './csv-matrix-records.ts';

/** A {@link MatrixSink} that also takes rows parsed elsewhere and hands out what it has filled. */
export interface RowSink extends MatrixSink {
  /** Copies the first `rows` rows of `source`. */
  append(source: Float32Array, rows: number): void;
  /** The batches filled so far, oldest first; they are no longer held. */
  takeFull(): Float32Array[];
  /** What is left once the input is done, trimmed to its rows, if any rows are left. */
  takeRest(): { data: Float32Array; rows: number } | undefined;
}

/** Options of {@link BatchSink}. */
export interface BatchSinkOptions {
  /** Rows per batch. */
  readonly batchRows: number;
  /** Columns per row. */
  readonly width: number;
}

/** Fills batches of `batchRows` rows; each batch owns its buffer. */
export class BatchSink implements RowSink {
  data = new Float32Array(0);
  rows = 0;
  capacity = 0;
  readonly #batchRows: number;
  readonly #width: number;
  readonly #full: Float32Array[] = [];

  constructor(options: BatchSinkOptions) {
    this.#batchRows = options.batchRows;
    this.#width = options.width;
  }

  /** Sets the full batch aside and starts the next one. */
  grow(): void {
    if (this.rows > 0) this.#full.push(this.data);
    this.data = new Float32Array(this.#batchRows * this.#width);
    this.rows = 0;
    this.capacity = this.#batchRows;
  }

  /** Copies the first `rows` rows of `source`. */
  append(source: Float32Array, rows: number): void {
    const width = this.#width;
    let from = 0;
    while (from < rows) {
      if (this.rows === this.capacity) this.grow();
      const count = Math.min(rows - from, this.capacity - this.rows);
      this.data.set(source.subarray(from * width, (from + count) * width), this.rows * width);
      this.rows += count;
      from += count;
    }
  }

  /** The batches filled so far, oldest first; they are no longer held. */
  takeFull(): Float32Array[] {
    if (this.capacity > 0 && this.rows === this.capacity) {
      this.#full.push(this.data);
      this.data = new Float32Array(0);
      this.rows = 0;
      this.capacity = 0;
    }
    return this.#full.splice(0);
  }

  /** The last, partial batch (trimmed to its rows), if any rows are left. */
  takeRest(): { data: Float32Array; rows: number } | undefined {
    const rest = this.takeFull();
    if (rest.length > 0) throw new StratumError('INTERNAL', 'BatchSink.takeRest: full batches were not taken first');
    if (this.rows === 0) return undefined;
    const data = this.data.slice(0, this.rows * this.#width);
    const rows = this.rows;
    this.data = new Float32Array(0);
    this.rows = 0;
    this.capacity = 0;
    return { data, rows };
  }
}
