/**
 * Sparse shard layout: mostly-default features are stored as per-row entries; histograms built
 * from the layout equal the dense ones (non-default bins exactly, default bins by subtraction to
 * rounding), and partitions by any feature equal partitions of the full bin matrix.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { binFeatures } from '../../../src/train/gbdt/binning.ts';
import { FEATURE_STRIDE, SLOT } from '../../../src/train/gbdt/row-shard.ts';
import { buildHistogram } from '../../../src/train/gbdt/shard-histogram.ts';
import { buildShardLayout, type ShardLayout } from '../../../src/train/gbdt/shard-layout.ts';
import { partitionRows } from '../../../src/train/gbdt/shard-partition.ts';
import { mulberry32 } from '../../../src/random/mulberry32.ts';
import { makeOneHotDataset } from './synthetic-data.ts';

const data = makeOneHotDataset({ numRows: 4000, seed: 41 });
const numRows = data.labels.length;
// One more column: 90 % zeros, else one of several values, so a sparse feature has many bins.
const numFeatures = data.numFeatures + 1;
const features = new Float32Array(numRows * numFeatures);
const random = mulberry32(42);
for (let i = 0; i < numRows; i++) {
  features.set(data.features.subarray(i * data.numFeatures, (i + 1) * data.numFeatures), i * numFeatures);
  features[(i + 1) * numFeatures - 1] = random() < 0.9 ? 0 : 1 + Math.floor(random() * 6);
}
const { edges, bins } = binFeatures({ features, numFeatures });
const multiBin = numFeatures - 1;
const gradHess = Float64Array.from({ length: 2 * numRows }, (_, i) => (i % 2 === 0 ? random() - 0.5 : 0.05 + random()));

/** Ascending rows of `[lo, hi)`, each kept with probability `fraction`. */
function someRows(args: { lo: number; hi: number; fraction: number }): Uint32Array {
  const rows: number[] = [];
  for (let r = args.lo; r < args.hi; r++) if (random() < args.fraction) rows.push(r);
  return Uint32Array.from(rows);
}

function denseHistogram(rows: Uint32Array, selected: Int32Array): Float64Array {
  const histogram = new Float64Array(numFeatures * FEATURE_STRIDE);
  for (const row of rows) {
    for (const f of selected) {
      const slot = f * FEATURE_STRIDE + (bins[row * numFeatures + f] as number) * SLOT;
      histogram[slot] = (histogram[slot] as number) + (gradHess[2 * row] as number);
      histogram[slot + 1] = (histogram[slot + 1] as number) + (gradHess[2 * row + 1] as number);
    }
  }
  return histogram;
}

function assertSameHistogram(args: {
  layout: ShardLayout;
  actual: Float64Array;
  expected: Float64Array;
  selected: Int32Array;
}): void {
  const { layout, actual, expected, selected } = args;
  for (const f of selected) {
    for (let b = 0; b < (edges[f] as Float32Array).length + 1; b++) {
      const slot = f * FEATURE_STRIDE + b * SLOT;
      const where = `feature ${f}, bin ${b}`;
      if (layout.defaultBin[f] === b) {
        for (const k of [0, 1]) {
          assert.ok(Math.abs((actual[slot + k] as number) - (expected[slot + k] as number)) < 1e-9, where);
        }
      } else {
        assert.equal(actual[slot], expected[slot], `gradient of ${where}`);
        assert.equal(actual[slot + 1], expected[slot + 1], `hessian of ${where}`);
      }
    }
  }
}

describe('buildShardLayout', () => {
  test('one-hot columns are sparse, continuous ones dense, and the entries reproduce the bins', () => {
    const layout = buildShardLayout({ bins, numFeatures, range: { lo: 0, hi: numRows }, sparseThreshold: 0.8 });
    assert.deepEqual(Array.from(layout.denseFeatures), [0, 1, 2, 3, 15]);
    assert.equal(layout.sparseFeatures.length, numFeatures - 5);
    assert.equal(layout.defaultBin[multiBin], 0);
    const rebuilt = new Uint8Array(bins.length);
    for (let i = 0; i < numRows; i++) {
      for (const f of layout.sparseFeatures) rebuilt[i * numFeatures + f] = layout.defaultBin[f] as number;
      layout.denseFeatures.forEach((f, j) => {
        rebuilt[i * numFeatures + f] = (layout.denseCodes[i * layout.denseFeatures.length + j] as number) & 0xff;
      });
      for (let k = layout.offsets[i] as number; k < (layout.offsets[i + 1] as number); k++) {
        const code = layout.codes[k] as number;
        rebuilt[i * numFeatures + (code >>> 8)] = code & 0xff;
      }
    }
    assert.deepEqual(rebuilt, bins);
    for (const f of layout.sparseFeatures) {
      for (let e = layout.postings[f] as number; e < (layout.postings[f + 1] as number); e++) {
        const row = layout.postingRows[e] as number;
        assert.equal(bins[row * numFeatures + f], layout.postingBins[e]);
      }
    }
  });

  test('each shard decides for its own rows, and a threshold of 1 keeps every feature dense', () => {
    // Feature 0 is constant in the first half and uniform in the second.
    const halves = bins.slice();
    for (let i = 0; i < numRows / 2; i++) halves[i * numFeatures] = 7;
    const first = buildShardLayout({ bins: halves, numFeatures, range: { lo: 0, hi: 2000 }, sparseThreshold: 0.8 });
    const second = buildShardLayout({ bins: halves, numFeatures, range: { lo: 2000, hi: 4000 }, sparseThreshold: 0.8 });
    assert.equal(first.defaultBin[0], 7);
    assert.equal(second.defaultBin[0], -1);
    const dense = buildShardLayout({ bins, numFeatures, range: { lo: 0, hi: numRows }, sparseThreshold: 1 });
    assert.equal(dense.sparseFeatures.length, 0);
    assert.equal(dense.codes.length, 0);
  });
});

describe('buildHistogram', () => {
  const all = Int32Array.from({ length: numFeatures }, (_, f) => f);
  for (const sparseThreshold of [0, 0.8, 1]) {
    test(`equals the dense histogram (sparseThreshold ${sparseThreshold}, all or some features and rows)`, () => {
      const range = { lo: 1000, hi: 3500 };
      const layout = buildShardLayout({ bins, numFeatures, range, sparseThreshold });
      const some = Int32Array.from([1, 4, 5, 9, 17, multiBin]);
      for (const selected of [all, some]) {
        for (const rows of [someRows({ ...range, fraction: 1 }), someRows({ ...range, fraction: 0.3 })]) {
          const histogram = new Float64Array(numFeatures * FEATURE_STRIDE);
          const sums = buildHistogram({
            layout,
            rows,
            start: 0,
            end: rows.length,
            gradHess,
            features: selected,
            histogram,
          });
          assertSameHistogram({ layout, actual: histogram, expected: denseHistogram(rows, selected), selected });
          let grad = 0;
          for (const row of rows) grad += gradHess[2 * row] as number;
          assert.equal(sums[0], grad);
        }
      }
    });
  }

  test('a default bin no row of the node has is exactly zero', () => {
    const layout = buildShardLayout({ bins, numFeatures, range: { lo: 0, hi: numRows }, sparseThreshold: 0.8 });
    const rows = Uint32Array.from(
      someRows({ lo: 0, hi: numRows, fraction: 1 }).filter((r) => bins[r * numFeatures + 4] === 1),
    );
    const histogram = new Float64Array(numFeatures * FEATURE_STRIDE);
    buildHistogram({ layout, rows, start: 0, end: rows.length, gradHess, features: all, histogram });
    const slot = 4 * FEATURE_STRIDE + (layout.defaultBin[4] as number) * SLOT;
    assert.deepEqual(Array.from(histogram.subarray(slot, slot + SLOT)), [0, 0]);
  });
});

describe('partitionRows', () => {
  const range = { lo: 500, hi: 4000 };
  const layout = buildShardLayout({ bins, numFeatures, range, sparseThreshold: 0.8 });
  const scratch = new Uint32Array(range.hi - range.lo);
  const marks = new Uint16Array(range.hi - range.lo);
  // Big nodes walk a sparse feature's postings, small ones each row's entries; both are covered.
  for (const fraction of [1, 0.5, 0.02]) {
    test(`equals a stable partition of the bin matrix (node of ${fraction * 100} % of the rows)`, () => {
      for (const [feature, bin] of [
        [0, 100],
        [2, 30],
        [4, 0],
        [15, 0],
        [multiBin, 0],
        [multiBin, 2],
        [multiBin, 5],
      ] as const) {
        const node = someRows({ ...range, fraction });
        // The node sits in the middle of the shard's row list, as in a grown tree.
        const rows = new Uint32Array(node.length + 20);
        rows.set(node, 10);
        const left = partitionRows({
          layout,
          rows,
          start: 10,
          end: 10 + node.length,
          feature,
          bin,
          scratch,
          marks,
        });
        const goesLeft = (row: number): boolean => (bins[row * numFeatures + feature] as number) <= bin;
        const expected = [...node.filter(goesLeft), ...node.filter((row) => !goesLeft(row))];
        assert.deepEqual(Array.from(rows.subarray(10, 10 + node.length)), expected, `feature ${feature} <= ${bin}`);
        assert.equal(left, 10 + node.filter(goesLeft).length);
        assert.ok(marks.every((mark) => mark === 0));
      }
    });
  }
});
