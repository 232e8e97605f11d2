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

/** What {@link scanFeatures} found. */
export interface FeatureScan {
  /** Entries that are not zero (`-0` counts as zero). */
  readonly nonzeros: number;
  /** False when some entry is NaN or ±Infinity. */
  readonly finite: boolean;
}

/**
 * Counts the non-zeros and checks that every value is finite, in one pass over the float32 bits
 * without a branch per value: one read of a large matrix instead of two.
 */
export function scanFeatures(values: Float32Array): FeatureScan {
  const bits = bitsOf(values);
  let count = 0;
  let flags = 0;
  for (let i = 0; i < bits.length; i++) {
    const word = bits[i] as number;
    count += nonzeroBit(word);
    // The 8-bit exponent plus one reaches bit 8 only when it is all ones (NaN, ±Infinity).
    flags |= ((word >>> 23) & 0xff) + 1;
  }
  return { nonzeros: count, finite: (flags & 0x100) === 0 };
}

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
}

/** Converts a dense row-major matrix to CSR, dropping its zeros. */
export function toSparseRows(options: ToSparseRowsOptions): SparseRows {
  const { features, numFeatures } = options;
  const rows = features.length / numFeatures;
  const nonzeros = options.nonzeros ?? countNonzeros(features);
  const buffer = (bytes: number): ArrayBuffer | SharedArrayBuffer =>
    options.shared === true ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
  const offsets = new Uint32Array(buffer((rows + 1) * 4));
  // One spare slot: every entry is written at `next`, which only advances past non-zeros.
  const columns = new Int32Array(buffer((nonzeros + 1) * 4));
  const values = new Float32Array(buffer((nonzeros + 1) * 4));
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
