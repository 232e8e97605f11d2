/**
 * Compressed sparse rows (CSR) of a feature matrix that is mostly zeros, such as hashed TF-IDF
 * text features: the linear objective then reads only the non-zeros of each row instead of
 * scanning every column. Columns stay in ascending order within a row, so sums over a row run in
 * the dense loop's order and give the same bits.
 */
import { StratumError } from '../../errors/index.ts';

/** A row-major `N×F` matrix's non-zero entries in CSR layout. */
export interface SparseRows {
  /** N. */
  readonly rows: number;
  /** F. */
  readonly numFeatures: number;
  /** `N + 1` offsets: row `r`'s entries are `[offsets[r], offsets[r + 1])` of `columns` and `values`. */
  readonly offsets: Uint32Array;
  /**
   * Column of each non-zero, ascending (so distinct) within a row. 32-bit even when 16 would do:
   * the objective's gather and scatter loops ran ~20% faster over `Int32Array` indices than over
   * `Uint16Array` ones (spam, 3.4M non-zeros), worth the 2 more bytes per non-zero.
   */
  readonly columns: Int32Array;
  /** Value of each non-zero. */
  readonly values: Float32Array;
}

/**
 * Below this share of non-zeros the CSR loops beat the dense ones. A CSR entry costs an index
 * load and a gather (forward) or scatter (gradient), about twice a dense element, and the dense
 * loop touches every element; so CSR wins well before a quarter of the entries are non-zero, and
 * its memory (8 bytes per non-zero against 4 per element) stays below the dense matrix's half.
 */
export const SPARSE_DENSITY_THRESHOLD = 0.25;

/** Number of entries of `values` that are not zero (`-0` counts as zero). */
export function countNonzeros(values: Float32Array): number {
  const bits = bitsOf(values);
  let count = 0;
  for (let i = 0; i < bits.length; i++) count += nonzeroBit(bits[i] as number);
  return count;
}

/** The float32 bit patterns of `values` (same memory). */
function bitsOf(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

/**
 * 1 when a float32 bit pattern is not ±0, else 0, without a branch: with the sign cleared, adding
 * 2³¹ − 1 carries into bit 31 exactly when some bit was set. Zeros fall at random in sparse rows,
 * so a branch there is mispredicted often enough to double the cost of a pass.
 */
function nonzeroBit(bits: number): number {
  return ((bits & 0x7fffffff) + 0x7fffffff) >>> 31;
}

/** Options for {@link toSparseRows}. */
export interface ToSparseRowsOptions {
  /** Row-major `N×F`. */
  readonly features: Float32Array;
  /** F. */
  readonly numFeatures: number;
  /** Non-zeros of `features`, when already counted. */
  readonly nonzeros?: number;
  /** Allocate the arrays on SharedArrayBuffers, for worker threads. @default false */
  readonly shared?: boolean;
  /**
   * Write into these arrays instead of new ones (from {@link sparseRowsBuffers}, with room for
   * the non-zeros plus one); `shared` is then ignored. @default new arrays
   */
  readonly into?: SparseRowsBuffers;
}

/** Converts a dense row-major matrix to CSR, dropping its zeros. */
export function toSparseRows(options: ToSparseRowsOptions): SparseRows {
  const { features, numFeatures } = options;
  const rows = features.length / numFeatures;
  const nonzeros = options.nonzeros ?? countNonzeros(features);
  const buffer = (bytes: number): ArrayBuffer | SharedArrayBuffer =>
    options.shared === true ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  const offsets = options.into?.offsets ?? new Uint32Array(buffer((rows + 1) * 4));
  // One spare slot: every entry is written at `next`, which only advances past non-zeros.
  const columns = options.into?.columns ?? new Int32Array(buffer((nonzeros + 1) * 4));
  const values = options.into?.values ?? new Float32Array(buffer((nonzeros + 1) * 4));
  if (offsets.length < rows + 1 || columns.length < nonzeros + 1 || values.length < nonzeros + 1) {
    throw new StratumError('INTERNAL', `toSparseRows: the given arrays have no room for ${nonzeros} non-zeros`);
  }
  offsets[0] = 0;
  // Values move as bit patterns: one load per entry, and the same float32 bits arrive.
  const bits = bitsOf(features);
  const valueBits = bitsOf(values);
  let next = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * numFeatures;
    for (let j = 0; j < numFeatures; j++) {
      const word = bits[base + j] as number;
      columns[next] = j;
      valueBits[next] = word;
      next += nonzeroBit(word);
    }
    offsets[r + 1] = next;
  }
  if (next !== nonzeros) {
    throw new StratumError('INTERNAL', `toSparseRows: counted ${nonzeros} non-zeros but found ${next}`);
  }
  return {
    rows,
    numFeatures,
    offsets,
    columns: columns.subarray(0, nonzeros),
    values: values.subarray(0, nonzeros),
  };
}

/** CSR of `features` when fewer than {@link SPARSE_DENSITY_THRESHOLD} of its entries are non-zero, else `undefined`. */
export function sparseIfWorthwhile(options: ToSparseRowsOptions): SparseRows | undefined {
  const nonzeros = options.nonzeros ?? countNonzeros(options.features);
  if (nonzeros >= SPARSE_DENSITY_THRESHOLD * options.features.length) return undefined;
  return toSparseRows({ ...options, nonzeros });
}

/** The arrays a CSR copy is written into, with room to spare (see {@link sparseRowsBuffers}). */
export interface SparseRowsBuffers {
  /** `N + 1` entries. */
  readonly offsets: Uint32Array;
  readonly columns: Int32Array;
  readonly values: Float32Array;
}

/**
 * Arrays with room for the CSR copy of any `rows × numFeatures` matrix that
 * {@link scanToSparseRows} would keep sparse: {@link SPARSE_DENSITY_THRESHOLD} of its entries plus
 * one. Only the pages written are ever backed by memory, so the unused room costs address space.
 */
export function sparseRowsBuffers(options: { rows: number; numFeatures: number; shared: boolean }): SparseRowsBuffers {
  const { rows, numFeatures, shared } = options;
  const buffer = (bytes: number): ArrayBuffer | SharedArrayBuffer =>
    shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  const capacity = Math.ceil(SPARSE_DENSITY_THRESHOLD * rows * numFeatures) + 1;
  return {
    offsets: new Uint32Array(buffer((rows + 1) * 4)),
    columns: new Int32Array(buffer(capacity * 4)),
    values: new Float32Array(buffer(capacity * 4)),
  };
}

/** Options for {@link scanToSparseRows}. */
export interface ScanToSparseRowsOptions {
  /** Row-major `N×F`. */
  readonly features: Float32Array;
  /** F. */
  readonly numFeatures: number;
  /** Allocate the CSR arrays on SharedArrayBuffers, for worker threads. @default false */
  readonly shared?: boolean;
  /**
   * Build the CSR copy in these arrays, from {@link sparseRowsBuffers} for the same shape (so
   * worker threads can be handed them before the scan); `shared` is then ignored. @default new arrays
   */
  readonly into?: SparseRowsBuffers;
}

/** What {@link scanToSparseRows} found. */
export interface ScannedFeatures {
  /** Entries that are not zero (`-0` counts as zero). */
  readonly nonzeros: number;
  /** False when some entry is NaN or ±Infinity (`sparse` is then undefined). */
  readonly finite: boolean;
  /** The CSR copy when fewer than {@link SPARSE_DENSITY_THRESHOLD} of the entries are non-zero. */
  readonly sparse: SparseRows | undefined;
}

/**
 * Checks finiteness, counts the non-zeros and builds the CSR copy in one pass over the matrix,
 * where separate passes read it three times (the first pass of each loop also runs before the
 * optimising compiler has caught up, which costs most on a busy machine). The CSR arrays are
 * allocated for the density threshold's worth of entries and used up to the count found: the
 * pages past it are never touched, so they cost address space, not memory. Once the entries
 * pass the threshold the rest of the matrix is only counted and checked.
 */
export function scanToSparseRows(options: ScanToSparseRowsOptions): ScannedFeatures {
  const { features, numFeatures } = options;
  const rows = features.length / numFeatures;
  const limit = SPARSE_DENSITY_THRESHOLD * features.length;
  // Room for every entry below the threshold plus a spare slot (see toSparseRows).
  const buffers = options.into ?? sparseRowsBuffers({ rows, numFeatures, shared: options.shared === true });
  const { offsets, columns, values } = buffers;
  const capacity = Math.min(columns.length, values.length);
  if (offsets.length < rows + 1 || capacity < Math.ceil(limit) + 1) {
    throw new StratumError('INTERNAL', `scanToSparseRows: the given arrays are too small for ${rows}×${numFeatures}`);
  }
  offsets[0] = 0;
  const bits = bitsOf(features);
  const valueBits = bitsOf(values);
  let next = 0;
  let flags = 0;
  let r = 0;
  for (; r < rows && next + numFeatures < capacity; r++) {
    const base = r * numFeatures;
    for (let j = 0; j < numFeatures; j++) {
      const word = bits[base + j] as number;
      columns[next] = j;
      valueBits[next] = word;
      next += nonzeroBit(word);
      flags |= ((word >>> 23) & 0xff) + 1;
    }
    offsets[r + 1] = next;
  }
  const built = r;
  let nonzeros = next;
  for (let i = built * numFeatures; i < bits.length; i++) {
    const word = bits[i] as number;
    nonzeros += nonzeroBit(word);
    flags |= ((word >>> 23) & 0xff) + 1;
  }
  const finite = (flags & 0x100) === 0;
  if (!finite || nonzeros >= limit) return { nonzeros, finite, sparse: undefined };
  // Rows left over by a near-full buffer (the count ends below the threshold): build once more.
  const sparse =
    built === rows
      ? {
          rows,
          numFeatures,
          offsets,
          columns: columns.subarray(0, nonzeros),
          values: values.subarray(0, nonzeros),
        }
      : toSparseRows({ features, numFeatures, nonzeros, into: buffers });
  return { nonzeros, finite, sparse };
}
