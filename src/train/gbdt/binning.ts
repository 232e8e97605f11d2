/**
 * Quantile binning for histogram-based tree learning. Each feature gets at most `maxBins - 1`
 * ascending float32 edges; a value's bin is the first edge it is `<=` (or the last bin). Because
 * edges are float32 and the data is float32, "bin <= b" is exactly "x <= edges[b]", so a split
 * found on bins exports as a `BRANCH_LEQ` threshold with no rounding gap.
 *
 * Missing values are not supported yet: NaN features are rejected with BAD_REQUEST.
 */
import { StratumError } from '../../errors/index.ts';

/** Largest number of bins per feature, so bin indices fit a `Uint8Array`. */
export const MAX_BINS = 255;

/** Options for {@link computeBinEdges}. */
export interface BinEdgesOptions {
  /** Row-major `numRows × numFeatures` matrix. */
  readonly features: Float32Array;
  /** Columns per row. */
  readonly numFeatures: number;
  /** Bins per feature, 2 to 255. @default 255 */
  readonly maxBins?: number;
}

/**
 * Computes per-feature quantile bin edges (ascending float32 values, at most `maxBins - 1` each).
 * Every edge lies halfway between two neighbouring distinct training values: one between each
 * pair when a feature has fewer distinct values than bins, else after each quantile.
 *
 * @example
 * ```ts
 * const edges = computeBinEdges({ features, numFeatures: 20 })
 * const bins = applyBins({ features, numFeatures: 20, edges })
 * ```
 */
export function computeBinEdges(options: BinEdgesOptions): Float32Array[] {
  const { features, numFeatures } = options;
  const maxBins = options.maxBins ?? MAX_BINS;
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_BINS) {
    throw new StratumError('BAD_REQUEST', `maxBins must be an integer in [2, ${MAX_BINS}], got ${maxBins}`);
  }
  checkFeatures({ features, numFeatures, name: 'features' });
  const numRows = features.length / numFeatures;
  const column = new Float32Array(numRows);
  const edges: Float32Array[] = [];
  for (let f = 0; f < numFeatures; f++) {
    for (let i = 0; i < numRows; i++) column[i] = features[i * numFeatures + f] as number;
    column.sort();
    edges.push(edgesOfSorted(column, maxBins));
  }
  return edges;
}

/** Columns {@link binFeatures} gathers per pass over the rows; 16 float32 are a cache line. */
const BLOCK_COLUMNS = 16;

/** Options for {@link binFeatures}. */
export interface BinFeaturesOptions extends BinEdgesOptions {
  /** Where to write the row-major bins (e.g. shared memory). @default a new array */
  readonly output?: Uint8Array;
  /** Writes input row `i`'s bins as output row `outputRow[i]` (a permutation). @default the input order */
  readonly outputRow?: Uint32Array;
}

/**
 * {@link computeBinEdges} and {@link applyBins} of the same rows in one pass per feature: a radix
 * sort of each column carries the row ids, so every row's bin follows from walking the sorted
 * column instead of a binary search per value. Same edges and bins as the two calls.
 */
export function binFeatures(options: BinFeaturesOptions): { edges: Float32Array[]; bins: Uint8Array } {
  const { features, numFeatures } = options;
  const maxBins = options.maxBins ?? MAX_BINS;
  if (!Number.isInteger(maxBins) || maxBins < 2 || maxBins > MAX_BINS) {
    throw new StratumError('BAD_REQUEST', `maxBins must be an integer in [2, ${MAX_BINS}], got ${maxBins}`);
  }
  // NaN is looked for while the columns are gathered, which reads every value anyway.
  checkShape({ features, numFeatures, name: 'features' });
  const numRows = features.length / numFeatures;
  const bins = options.output ?? new Uint8Array(features.length);
  const { outputRow } = options;
  const sorted = new Float32Array(numRows);
  const order = new Uint32Array(numRows);
  const edges: Float32Array[] = [];
  const table = distinctTable(numRows);
  // A block of columns at a time: one pass over the rows gathers them and one scatters their bins,
  // where a pass per column would read every row's cache line once per feature.
  const width = Math.min(BLOCK_COLUMNS, numFeatures);
  const columns = new Float32Array(width * numRows);
  const columnBins = new Uint8Array(width * numRows);
  for (let first = 0; first < numFeatures; first += width) {
    const count = Math.min(width, numFeatures - first);
    let nan = false;
    for (let i = 0; i < numRows; i++) {
      const base = i * numFeatures + first;
      for (let j = 0; j < count; j++) {
        const value = features[base + j] as number;
        if (Number.isNaN(value)) nan = true;
        columns[j * numRows + i] = value;
      }
    }
    if (nan) throwOnNaN({ features, numFeatures, name: 'features' });
    for (let j = 0; j < count; j++) {
      const column = columns.subarray(j * numRows, (j + 1) * numRows);
      const out = columnBins.subarray(j * numRows, (j + 1) * numRows);
      const distinct = fewDistinct({ column, maxBins, table });
      if (distinct !== undefined) {
        // One-hot, flag and date-part columns: a hash lookup per value instead of a sort.
        edges.push(Float32Array.from(midpointEdges(distinct)));
        binByLookup({ column, table, bins: out });
        continue;
      }
      sortWithOrder({ values: column, sorted, order });
      const featureEdges = edgesOfSorted(sorted, maxBins);
      edges.push(featureEdges);
      let bin = 0;
      for (let i = 0; i < numRows; i++) {
        const value = sorted[i] as number;
        while (bin < featureEdges.length && value > (featureEdges[bin] as number)) bin++;
        out[order[i] as number] = bin;
      }
    }
    for (let i = 0; i < numRows; i++) {
      const base = (outputRow === undefined ? i : (outputRow[i] as number)) * numFeatures + first;
      for (let j = 0; j < count; j++) bins[base + j] = columnBins[j * numRows + i] as number;
    }
  }
  return { edges, bins };
}

/**
 * LSD radix sort (three 11-bit passes, small enough count tables to stay in cache) of float32
 * `values` into `sorted`, with `order[i]` the index of `sorted[i]` in `values`; the same order as
 * `Float32Array.prototype.sort` for values without NaN.
 */
function sortWithOrder(args: { values: Float32Array; sorted: Float32Array; order: Uint32Array }): void {
  const { values, sorted, order } = args;
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, n);
  let keys = new Uint32Array(n);
  let index = new Uint32Array(n);
  let nextKeys = new Uint32Array(n);
  let nextIndex = new Uint32Array(n);
  // Flipping the sign bit of positives and every bit of negatives makes unsigned order numeric order.
  for (let i = 0; i < n; i++) {
    const b = bits[i] as number;
    keys[i] = (b & 0x80000000) !== 0 ? ~b >>> 0 : (b | 0x80000000) >>> 0;
    index[i] = i;
  }
  const counts = new Uint32Array(2048);
  for (let shift = 0; shift < 32; shift += 11) {
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const digit = ((keys[i] as number) >>> shift) & 0x7ff;
      counts[digit] = (counts[digit] as number) + 1;
    }
    prefixSums(counts);
    for (let i = 0; i < n; i++) {
      const key = keys[i] as number;
      const digit = (key >>> shift) & 0x7ff;
      const at = counts[digit] as number;
      counts[digit] = at + 1;
      nextKeys[at] = key;
      nextIndex[at] = index[i] as number;
    }
    [keys, nextKeys] = [nextKeys, keys];
    [index, nextIndex] = [nextIndex, index];
  }
  order.set(index);
  for (let i = 0; i < n; i++) sorted[i] = values[index[i] as number] as number;
}

/** Exclusive prefix sums in place. */
function prefixSums(counts: Uint32Array): void {
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const count = counts[i] as number;
    counts[i] = total;
    total += count;
  }
}

/** Options for {@link applyBins}. */
export interface ApplyBinsOptions {
  /** Row-major `numRows × numFeatures` matrix. */
  readonly features: Float32Array;
  /** Columns per row. */
  readonly numFeatures: number;
  /** Edges from {@link computeBinEdges}. */
  readonly edges: readonly Float32Array[];
}

/** Maps every value to its bin index, row-major like the input; into `output` when given (e.g. shared memory). */
export function applyBins(options: ApplyBinsOptions & { readonly output?: Uint8Array }): Uint8Array {
  const { features, numFeatures, edges } = options;
  const bins = options.output ?? new Uint8Array(features.length);
  for (let f = 0; f < numFeatures; f++) {
    const featureEdges = edges[f] as Float32Array;
    for (let i = f; i < features.length; i += numFeatures) {
      bins[i] = binOf(featureEdges, features[i] as number);
    }
  }
  return bins;
}

/** Throws BAD_REQUEST unless `features` is a non-empty `N × numFeatures` matrix without NaN. */
export function checkFeatures(options: { features: Float32Array; numFeatures: number; name: string }): void {
  checkShape(options);
  throwOnNaN(options);
}

/** Throws BAD_REQUEST unless `features` is a non-empty `N × numFeatures` matrix (values unchecked). */
export function checkShape(options: { features: Float32Array; numFeatures: number; name: string }): void {
  const { features, numFeatures, name } = options;
  if (!Number.isInteger(numFeatures) || numFeatures < 1) {
    throw new StratumError('BAD_REQUEST', `numFeatures must be an integer >= 1, got ${numFeatures}`);
  }
  if (features.length === 0 || features.length % numFeatures !== 0) {
    throw new StratumError(
      'BAD_REQUEST',
      `${name}: length ${features.length} is not a non-zero multiple of numFeatures (${numFeatures})`,
      { details: { length: features.length, numFeatures } },
    );
  }
}

/** Throws BAD_REQUEST naming the first NaN of row-major `features`, if any. */
function throwOnNaN(options: { features: Float32Array; numFeatures: number; name: string }): void {
  const { features, numFeatures, name } = options;
  let bad = -1;
  for (let i = 0; i < features.length; i++) {
    if (Number.isNaN(features[i])) {
      bad = i;
      break;
    }
  }
  if (bad >= 0) {
    const row = Math.floor(bad / numFeatures);
    const column = bad % numFeatures;
    throw new StratumError(
      'BAD_REQUEST',
      `${name}: row ${row}, feature ${column} is NaN; missing values are not supported yet, impute them first`,
      { details: { row, feature: column } },
    );
  }
}

/** First bin whose edge is >= value (binary search), or the last bin. */
function binOf(edges: Float32Array, value: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (value <= (edges[mid] as number)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function edgesOfSorted(sorted: Float32Array, maxBins: number): Float32Array {
  // Only whether there are more distinct values than bins matters, so stop counting there.
  const distinct: number[] = [];
  for (let i = 0; i < sorted.length && distinct.length <= maxBins; i++) {
    const value = sorted[i] as number;
    if (i === 0 || value !== sorted[i - 1]) distinct.push(value);
  }
  if (distinct.length <= maxBins) return Float32Array.from(midpointEdges(distinct));
  const edges: number[] = [];
  const n = sorted.length;
  const last = sorted[n - 1] as number;
  let previous = Number.NEGATIVE_INFINITY;
  for (let k = 1; k < maxBins; k++) {
    const value = sorted[Math.min(n - 1, Math.floor((k * n) / maxBins))] as number;
    if (value === last || value === previous) continue;
    previous = value;
    // Halfway to the next distinct value rather than the value itself: a feature that another
    // engine computes one ulp away (L2-normalised text in onnxruntime) must not change branch.
    edges.push(midpoint(value, sorted[firstAbove(sorted, value)] as number));
  }
  return Float32Array.from(edges);
}

/** One edge between each pair of ascending distinct values. */
function midpointEdges(distinct: ArrayLike<number>): number[] {
  const edges: number[] = [];
  // Midpoints (rounded to float32) keep unseen values between two training values balanced.
  for (let i = 0; i + 1 < distinct.length; i++) edges.push(midpoint(distinct[i] as number, distinct[i + 1] as number));
  return edges;
}

/** Open-addressing set of float32 bit patterns, each with the bin of its value. */
interface DistinctTable {
  readonly keys: Uint32Array;
  readonly bins: Int32Array;
  /** The slot of each value of the last column, so binning it needs no second lookup. */
  readonly slots: Uint16Array;
}

/** Slots of a {@link DistinctTable}: a power of two, at least four per possible distinct value. */
const TABLE_BITS = 10;

function distinctTable(numRows: number): DistinctTable {
  return {
    keys: new Uint32Array(1 << TABLE_BITS),
    bins: new Int32Array(1 << TABLE_BITS),
    slots: new Uint16Array(numRows),
  };
}

/** The table slot of `bits`, which holds it or is free (`bins` -1). */
function slotOf(table: DistinctTable, bits: number): number {
  const mask = (1 << TABLE_BITS) - 1;
  let slot = Math.imul(bits, 0x9e3779b1) >>> (32 - TABLE_BITS);
  while (table.bins[slot] !== -1 && table.keys[slot] !== bits) slot = (slot + 1) & mask;
  return slot;
}

/**
 * The ascending distinct values of `column` when there are at most `maxBins` (else `undefined`),
 * with `table` then mapping each value's bits to its index among them, the value's bin. Zero and
 * negative zero are one value, represented by negative zero when the column has it, as in a sort.
 */
function fewDistinct(args: { column: Float32Array; maxBins: number; table: DistinctTable }): Float32Array | undefined {
  const { column, maxBins, table } = args;
  const bits = new Uint32Array(column.buffer, column.byteOffset, column.length);
  table.bins.fill(-1);
  let count = 0;
  let negativeZero = false;
  for (let i = 0; i < bits.length; i++) {
    let key = bits[i] as number;
    if (key === 0x80000000) {
      key = 0;
      negativeZero = true;
    }
    const slot = slotOf(table, key);
    table.slots[i] = slot;
    if (table.bins[slot] !== -1) continue;
    if (++count > maxBins) return undefined;
    table.keys[slot] = key;
    table.bins[slot] = 0;
  }
  const values = new Float32Array(count);
  const keyBits = new Uint32Array(values.buffer);
  let at = 0;
  for (let slot = 0; slot < table.keys.length; slot++) {
    if (table.bins[slot] === -1) continue;
    const key = table.keys[slot] as number;
    keyBits[at++] = key === 0 && negativeZero ? 0x80000000 : key;
  }
  values.sort();
  for (let i = 0; i < count; i++) {
    const key = keyBits[i] === 0x80000000 ? 0 : (keyBits[i] as number);
    table.bins[slotOf(table, key)] = i;
  }
  return values;
}

/** Writes each value's bin, from the table {@link fewDistinct} filled, into `bins`. */
function binByLookup(args: { column: Float32Array; table: DistinctTable; bins: Uint8Array }): void {
  const { column, table, bins } = args;
  for (let i = 0; i < column.length; i++) bins[i] = table.bins[table.slots[i] as number] as number;
}

/** Index of the first element of `sorted` greater than `value` (which must be below its last element). */
function firstAbove(sorted: Float32Array, value: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) > value) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A float32 in `[a, b)`, so `a` and everything below it fall left and `b` falls right. */
function midpoint(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a;
  const mid = Math.fround(a + (b - a) / 2);
  return mid >= b ? a : mid;
}
