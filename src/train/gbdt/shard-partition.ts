/**
 * Splits a node's rows in place by one feature's bin, reading the bin from the shard's
 * {@link ShardLayout}: a dense feature from its column of bins (one byte per row, where the
 * full matrix has a cache line), a sparse one from the row's entries, or its default bin when the
 * row has none.
 */
import type { ShardLayout } from './shard-layout.ts';

/** Options for {@link partitionRows}. */
export interface PartitionRowsOptions {
  readonly layout: ShardLayout;
  /** Row ids; the node's are `rows[start, end)`, all in the shard. */
  readonly rows: Uint32Array;
  readonly start: number;
  readonly end: number;
  readonly feature: number;
  /** Rows with `bin <= bin` go left. */
  readonly bin: number;
  /** Room for the node's right rows. */
  readonly scratch: Uint32Array;
  /** One zero per shard row, left zero again; marks rows with a sparse entry during a partition. */
  readonly marks: Uint16Array;
}

/**
 * Moves the node's left rows to the front of its segment and the right ones after them, both in
 * their previous (ascending) order, so sums over a child run in a fixed order; returns where the
 * right rows start.
 */
export function partitionRows(options: PartitionRowsOptions): number {
  const { layout, rows, start, end, feature, scratch } = options;
  if (start === end) return start;
  const defaultBin = layout.defaultBin[feature] as number;
  let right: number;
  if (defaultBin < 0) {
    right = partitionDense(options);
  } else {
    const entries = (layout.postings[feature + 1] as number) - (layout.postings[feature] as number);
    right = entries <= 4 * (end - start) ? partitionByPostings(options) : partitionByRowEntries(options);
  }
  const left = end - right;
  rows.set(scratch.subarray(0, right), left);
  return left;
}

// Each loop below moves a row to the left run (`rows`) or the right one (`scratch`) without a
// branch: a split of scattered rows would mispredict one on every other row.

/** Partitions by a dense feature; returns the number of right rows, now at the start of `scratch`. */
function partitionDense(options: PartitionRowsOptions): number {
  const { layout, rows, start, end, feature, bin, scratch } = options;
  const { lo, denseColumns, denseFeatures } = layout;
  const size = denseColumns.length / denseFeatures.length;
  const column = denseColumns.subarray(denseFeatures.indexOf(feature) * size);
  let left = start;
  let right = 0;
  for (let i = start; i < end; i++) {
    const row = rows[i] as number;
    const goesLeft = ((bin - (column[row - lo] as number)) >> 31) + 1;
    rows[left] = row;
    scratch[right] = row;
    left += goesLeft;
    right += 1 - goesLeft;
  }
  return right;
}

/**
 * Partitions by a sparse feature: marks the rows of the feature's entries within the node's row
 * span (bin + 1, so 0 means "default"), reads each node row's mark, then clears the marks.
 */
function partitionByPostings(options: PartitionRowsOptions): number {
  const { layout, rows, start, end, feature, bin, scratch, marks } = options;
  const { lo, postings, postingRows, postingBins } = layout;
  const defaultBin = layout.defaultBin[feature] as number;
  const first = firstAtLeast({
    sorted: postingRows,
    from: postings[feature] as number,
    to: postings[feature + 1] as number,
    value: (rows[start] as number) - lo,
  });
  const last = firstAtLeast({
    sorted: postingRows,
    from: first,
    to: postings[feature + 1] as number,
    value: (rows[end - 1] as number) - lo + 1,
  });
  for (let e = first; e < last; e++) marks[postingRows[e] as number] = (postingBins[e] as number) + 1;
  let left = start;
  let right = 0;
  for (let i = start; i < end; i++) {
    const row = rows[i] as number;
    const mark = (marks[row - lo] as number) - 1;
    // Branch-free "mark < 0 ? defaultBin : mark".
    const rowBin = mark + ((mark >> 31) & (defaultBin + 1));
    const goesLeft = ((bin - rowBin) >> 31) + 1;
    rows[left] = row;
    scratch[right] = row;
    left += goesLeft;
    right += 1 - goesLeft;
  }
  for (let e = first; e < last; e++) marks[postingRows[e] as number] = 0;
  return right;
}

/** Partitions by a sparse feature, looking it up in each row's entries (for small nodes). */
function partitionByRowEntries(options: PartitionRowsOptions): number {
  const { layout, rows, start, end, feature, bin, scratch } = options;
  const { lo, offsets, codes } = layout;
  const defaultBin = layout.defaultBin[feature] as number;
  let left = start;
  let right = 0;
  for (let i = start; i < end; i++) {
    const row = rows[i] as number;
    const local = row - lo;
    let rowBin = defaultBin;
    const stop = offsets[local + 1] as number;
    for (let k = offsets[local] as number; k < stop; k++) {
      const code = codes[k] as number;
      const f = code >>> 8;
      if (f < feature) continue;
      // A row's entries ascend by feature, so none further on is this feature's.
      if (f === feature) rowBin = code & 0xff;
      break;
    }
    const goesLeft = ((bin - rowBin) >> 31) + 1;
    rows[left] = row;
    scratch[right] = row;
    left += goesLeft;
    right += 1 - goesLeft;
  }
  return right;
}

/** The first index in `sorted[from, to)` whose value is >= `value` (`to` when none). */
function firstAtLeast(args: { sorted: Uint32Array; from: number; to: number; value: number }): number {
  const { sorted, value } = args;
  let lo = args.from;
  let hi = args.to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
