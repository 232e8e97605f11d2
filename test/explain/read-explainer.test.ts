/**
 * Explainers read back from exported ONNX models, checked against onnxruntime running the same
 * bytes: for binary and multiclass GBDT classifiers the values add up to the margin whose
 * sigmoid / softmax is the model's probability, per class; a model without covers is refused.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { readExplainer } from '../../src/explain/read-explainer.ts';
import { exportGbdtOnnx } from '../../src/train/gbdt/export-onnx.ts';
import { trainGbdt } from '../../src/train/gbdt/train-gbdt.ts';
import { StratumError } from '../../src/errors/index.ts';
import { assertClose } from '../helpers/assert-close.ts';
import { makeDataset } from '../train/gbdt/synthetic-data.ts';

const ROWS = 16;

async function probabilities(bytes: Uint8Array, features: Float32Array, width: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  try {
    const result = await session.run({ input: new ort.Tensor('float32', features, [features.length / width, width]) });
    return result.probabilities?.data as Float32Array;
  } finally {
    await session.release();
  }
}

for (const kind of ['binary', 'multiclass'] as const) {
  test(`${kind} GBDT: base + Σφ is the margin of onnxruntime's probabilities`, async () => {
    const set = makeDataset({ kind, numRows: 1500, seed: 4 });
    const model = trainGbdt({
      features: set.features,
      numFeatures: set.numFeatures,
      labels: set.labels,
      objective: kind,
      ...(kind === 'multiclass' && { numClasses: 3 }),
      params: { numTrees: 30, maxDepth: 4, learningRate: 0.2, seed: 2 },
    });
    const bytes = exportGbdtOnnx(model);
    const explainer = readExplainer(bytes, 'model "t" version 1');
    assert.equal(explainer.explained, kind === 'binary' ? 'log_odds' : 'logits');
    assert.deepEqual(explainer.outputs, kind === 'binary' ? ['1'] : ['0', '1', '2']);
    const rows = makeDataset({ kind, numRows: ROWS, seed: 8 }).features;
    const width = set.numFeatures;
    const expected = await probabilities(bytes, rows, width);
    const { values, base } = explainer.explain(rows);
    const k = base.length;
    for (let r = 0; r < ROWS; r++) {
      const margins = base.map((b, o) => {
        let sum = b;
        for (let i = 0; i < width; i++) sum += values[(r * k + o) * width + i] as number;
        return sum;
      });
      const p =
        k === 1
          ? [1 / (1 + Math.exp(-(margins[0] as number)))]
          : margins.map((m) => Math.exp(m) / margins.reduce((s, x) => s + Math.exp(x), 0));
      const served = k === 1 ? [expected[2 * r + 1] as number] : Array.from(expected.subarray(r * k, (r + 1) * k));
      assertClose(p, served, { atol: 1e-5, label: `row ${r}` });
    }
  });
}

test('a tree ensemble without covers is refused, naming the model', () => {
  const set = makeDataset({ kind: 'regression', numRows: 300, seed: 4 });
  const model = trainGbdt({
    features: set.features,
    numFeatures: set.numFeatures,
    labels: set.labels,
    objective: 'regression',
    params: { numTrees: 3, maxDepth: 2, seed: 2 },
  });
  const old = { ...model, trees: model.trees.map((round) => round.map(({ cover: _cover, ...tree }) => tree)) };
  assert.throws(
    () => readExplainer(exportGbdtOnnx(old), 'model "old" version 4'),
    (error: unknown) =>
      error instanceof StratumError &&
      error.code === 'UNSUPPORTED' &&
      /model "old" version 4 cannot be explained: its trees carry no covers/.test(error.message),
  );
});
