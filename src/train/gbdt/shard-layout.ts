/**
 * How one shard stores its rows' bins for histogram building: features whose most frequent bin
 * (their "default bin") holds most of the shard's rows are stored sparse, as per-row lists of the
 * (feature, bin) pairs that differ from the default (CSR); the others stay dense, row-major and
 * packed to just those features. One-hot and text columns are almost all default, so a histogram
 * then touches a few entries per row instead of every feature. Each shard decides for its own
 * rows, so a feature may be sparse in one shard and dense in another. Both store a bin as its
 * histogram code `feature * BIN_STRIDE + bin`, so the histogram loop finds a slot with one load
 * and a multiply instead of a per-feature offset plus the bin.
 */
import { BIN_STRIDE } from './histogram-slots.ts';

/** A shard's bins split into dense and sparse features. */
export interface ShardLayout {
  /** First global row of the shard; row `r` is local row `r - lo`. */
  readonly lo: number;
  /** Dense features, ascending. */
  readonly denseFeatures: Int32Array;
  /**
   * Codes `feature * BIN_STRIDE + bin` of the dense features, row-major:
   * `denseCodes[(r - lo) * denseFeatures.length + j]`; 16-bit up to 256 features.
   */
  readonly denseCodes: Uint16Array | Uint32Array;
  /**
   * The same bins column by column, `denseColumns[j * rows + (r - lo)]`, for partitions: a split
   * reads one feature of scattered rows, which hits one small column instead of a cache line each.
   */
  readonly denseColumns: Uint8Array;
  /** Sparse features, ascending. */
  readonly sparseFeatures: Int32Array;
  /** Default bin per feature (global id); -1 for a dense feature. */
  readonly defaultBin: Int32Array;
  /** One past the largest bin any of the shard's rows has, per feature. */
  readonly binsSeen: Int32Array;
  /** Local row `i`'s sparse entries are `codes[offsets[i] .. offsets[i + 1])`. */
  readonly offsets: Uint32Array;
  /** Sparse entries `feature * BIN_STRIDE + bin`, ascending per row, never a default bin. */
  readonly codes: Uint32Array;
  /** The same entries by feature (CSC): feature `f`'s are `postingRows/Bins[postings[f] .. postings[f + 1])`. */
  readonly postings: Uint32Array;
  /** Local rows of the entries, ascending per feature. */
  readonly postingRows: Uint32Array;
  /** Bins of the entries. */
  readonly postingBins: Uint8Array;
}

/**
 * Lays out rows `[lo, hi)` of the row-major `bins` (`numFeatures` per row). A feature is sparse
 * when its default bin holds more than `sparseThreshold` of the rows, so 1 keeps every feature dense.
 */
export function buildShardLayout(args: {
  bins: Uint8Array;
  numFeatures: number;
  range: { lo: number; hi: number };
  sparseThreshold: number;
}): ShardLayout {
  const { bins, numFeatures, sparseThreshold } = args;
  const { lo, hi } = args.range;
  const size = hi - lo;
  const counts = new Uint32Array(numFeatures * BIN_STRIDE);
  for (let r = lo; r < hi; r++) {
    const base = r * numFeatures;
    for (let f = 0; f < numFeatures; f++) {
      const code = f * BIN_STRIDE + (bins[base + f] as number);
      counts[code] = (counts[code] as number) + 1;
    }
  }
  const defaultBin = new Int32Array(numFeatures).fill(-1);
  const binsSeen = new Int32Array(numFeatures);
  const dense: number[] = [];
  const sparse: number[] = [];
  let numEntries = 0;
  const postings = new Uint32Array(numFeatures + 1);
  for (let f = 0; f < numFeatures; f++) {
    let top = 0;
    for (let b = 0; b < BIN_STRIDE; b++) {
      const count = counts[f * BIN_STRIDE + b] as number;
      if (count > 0) binsSeen[f] = b + 1;
      // Ties go to the lower bin, so the layout is a function of the data alone.
      if (count > (counts[f * BIN_STRIDE + top] as number)) top = b;
    }
    const topCount = counts[f * BIN_STRIDE + top] as number;
    if (size > 0 && topCount > sparseThreshold * size) {
      sparse.push(f);
      defaultBin[f] = top;
      numEntries += size - topCount;
    } else {
      dense.push(f);
    }
    postings[f + 1] = numEntries;
  }
  const denseFeatures = Int32Array.from(dense);
  const sparseFeatures = Int32Array.from(sparse);
  const numDense = denseFeatures.length;
  const denseCodes =
    numFeatures * BIN_STRIDE <= 0x10000 ? new Uint16Array(size * numDense) : new Uint32Array(size * numDense);
  const denseColumns = new Uint8Array(size * numDense);
  const offsets = new Uint32Array(size + 1);
  const codes = new Uint32Array(numEntries);
  const postingRows = new Uint32Array(numEntries);
  const postingBins = new Uint8Array(numEntries);
  const posted = postings.slice(0, numFeatures);
  let at = 0;
  for (let i = 0; i < size; i++) {
    const base = (lo + i) * numFeatures;
    for (let j = 0; j < numDense; j++) {
      const f = denseFeatures[j] as number;
      const bin = bins[base + f] as number;
      denseCodes[i * numDense + j] = f * BIN_STRIDE + bin;
      denseColumns[j * size + i] = bin;
    }
    for (let j = 0; j < sparseFeatures.length; j++) {
      const f = sparseFeatures[j] as number;
      const bin = bins[base + f] as number;
      if (bin === defaultBin[f]) continue;
      codes[at++] = f * BIN_STRIDE + bin;
      const entry = posted[f] as number;
      posted[f] = entry + 1;
      postingRows[entry] = i;
      postingBins[entry] = bin;
    }
    offsets[i + 1] = at;
  }
  return {
    lo,
    denseFeatures,
    denseCodes,
    denseColumns,
    sparseFeatures,
    defaultBin,
    binsSeen,
    offsets,
    codes,
    postings,
    postingRows,
    postingBins,
  };
}
