/** Quantile binning: edges are float32 and ascending, and bin <= b exactly when x <= edges[b]. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { applyBins, binFeatures, computeBinEdges } from '../../../src/train/gbdt/binning.ts';
import { makeDataset } from './synthetic-data.ts';

test('at most maxBins - 1 ascending float32 edges, and bins agree with <= edge', () => {
  const { features, numFeatures } = makeDataset({ kind: 'regression', numRows: 3000, seed: 31 });
  for (const maxBins of [2, 16, 255]) {
    const edges = computeBinEdges({ features, numFeatures, maxBins });
    const bins = applyBins({ features, numFeatures, edges });
    edges.forEach((featureEdges) => {
      assert.ok(featureEdges.length <= maxBins - 1 && featureEdges.length >= 1);
      for (let i = 1; i < featureEdges.length; i++)
        assert.ok((featureEdges[i] as number) > (featureEdges[i - 1] as number));
    });
    for (let i = 0; i < features.length; i++) {
      const featureEdges = edges[i % numFeatures] as Float32Array;
      const bin = bins[i] as number;
      const x = features[i] as number;
      if (bin < featureEdges.length) assert.ok(x <= (featureEdges[bin] as number));
      if (bin > 0) assert.ok(x > (featureEdges[bin - 1] as number));
    }
  }
});

test('a feature with few distinct values gets one edge between neighbours', () => {
  const features = new Float32Array([3, 1, 2, 1, 3, 2, 2, 7]);
  const [edges] = computeBinEdges({ features, numFeatures: 1 });
  assert.deepEqual(Array.from(edges ?? []), [1.5, 2.5, 5]);
  const constant = computeBinEdges({ features: new Float32Array(10).fill(4), numFeatures: 1 });
  assert.equal(constant[0]?.length, 0);
});

test('quantile edges split a skewed feature into populated bins', () => {
  const features = Float32Array.from({ length: 10000 }, (_, i) => Math.exp(i / 1000));
  const [edges] = computeBinEdges({ features, numFeatures: 1, maxBins: 10 });
  const bins = applyBins({ features, numFeatures: 1, edges: [edges ?? new Float32Array()] });
  const counts = new Array<number>(10).fill(0);
  for (const bin of bins) counts[bin] = (counts[bin] ?? 0) + 1;
  for (const count of counts) assert.ok(count >= 900 && count <= 1100, `counts ${counts.join(',')}`);
});

test('NaN and bad maxBins are BAD_REQUEST', () => {
  const isBadRequest = (pattern: RegExp) => (error: unknown) =>
    error instanceof StratumError && error.code === 'BAD_REQUEST' && pattern.test(error.message);
  assert.throws(
    () => computeBinEdges({ features: new Float32Array([1, NaN]), numFeatures: 1 }),
    isBadRequest(/row 1, feature 0 is NaN/),
  );
  assert.throws(
    () => computeBinEdges({ features: new Float32Array([1]), numFeatures: 1, maxBins: 1 }),
    isBadRequest(/maxBins/),
  );
});

test('binFeatures gives the same edges and bins as computeBinEdges + applyBins', () => {
  const { features, numFeatures } = makeDataset({ kind: 'regression', numRows: 5000, seed: 33 });
  // Ties, negative zero and a constant column exercise the radix sort's ordering.
  for (let i = 0; i < features.length; i += numFeatures) {
    features[i + 1] = Math.round((features[i + 1] as number) * 4) / 4;
    features[i + 2] = i % 3 === 0 ? -0 : 0;
    features[i + 3] = 2.5;
  }
  for (const maxBins of [2, 16, 255]) {
    const edges = computeBinEdges({ features, numFeatures, maxBins });
    const combined = binFeatures({ features, numFeatures, maxBins });
    assert.deepEqual(combined.edges, edges);
    assert.deepEqual(combined.bins, applyBins({ features, numFeatures, edges }));
  }
});

test('binFeatures with outputRow writes each row where the permutation says', () => {
  const { features, numFeatures } = makeDataset({ kind: 'regression', numRows: 300, seed: 34 });
  const plain = binFeatures({ features, numFeatures, maxBins: 32 });
  const outputRow = Uint32Array.from({ length: 300 }, (_, i) => (i * 7) % 300);
  const moved = binFeatures({ features, numFeatures, maxBins: 32, outputRow });
  assert.deepEqual(moved.edges, plain.edges);
  for (let i = 0; i < 300; i++) {
    const at = (outputRow[i] as number) * numFeatures;
    assert.deepEqual(
      moved.bins.subarray(at, at + numFeatures),
      plain.bins.subarray(i * numFeatures, (i + 1) * numFeatures),
    );
  }
});
