/**
 * Parity: the exported ONNX graph run by onnxruntime matches predictLinear within 1e-5 on
 * thousands of rows, for every objective, at batch 1 and batch > 1.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { exportLinearOnnx } from '../../../src/train/linear/export-onnx.ts';
import type { LinearModel } from '../../../src/train/linear/linear-model.ts';
import { predictLinear } from '../../../src/train/linear/predict-linear.ts';
import { trainLinear } from '../../../src/train/linear/train-linear.ts';
import { blobs, linearData } from './synthetic-data.ts';

const ROWS = 5000;
const TOLERANCE = 1e-5;
const PARAMS = { optimizer: 'lbfgs', learningRate: 1, l2: 1e-3, epochs: 30, batchSize: 64, seed: 3 } as const;

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

const cases: { name: string; model: () => LinearModel; features: Float32Array; width: number }[] = [
  {
    name: 'regression',
    model: () => {
      const data = linearData({ rows: 1000, weights: [0.8, -0.4, 0.3, 1.1, -0.7], bias: 0.25, noise: 0.1, seed: 21 });
      return trainLinear({ ...data, numFeatures: 5, objective: 'regression', params: PARAMS });
    },
    features: linearData({ rows: ROWS, weights: [0, 0, 0, 0, 0], bias: 0, noise: 0, seed: 22 }).features,
    width: 1,
  },
  {
    name: 'binary',
    model: () => {
      const data = blobs({
        rows: 1000,
        centres: [
          [-1, 0.5, 1],
          [1, -0.5, 0],
        ],
        seed: 23,
      });
      return trainLinear({ ...data, numFeatures: 3, objective: 'binary', params: PARAMS });
    },
    features: blobs({
      rows: ROWS,
      centres: [
        [-1, 0.5, 1],
        [1, -0.5, 0],
      ],
      seed: 24,
    }).features,
    width: 2,
  },
  {
    name: 'multiclass',
    model: () => {
      const centres = [
        [0, 2, 1],
        [-2, -1, 0],
        [2, -1, -1],
        [0, 0, 3],
      ];
      const data = blobs({ rows: 1200, centres, seed: 25 });
      return trainLinear({ ...data, numFeatures: 3, objective: 'multiclass', numClasses: 4, params: PARAMS });
    },
    features: blobs({
      rows: ROWS,
      centres: [
        [0, 2, 1],
        [-2, -1, 0],
        [2, -1, -1],
        [0, 0, 3],
      ],
      seed: 26,
    }).features,
    width: 4,
  },
];

for (const { name, model: makeModel, features, width } of cases) {
  test(`${name}: onnxruntime matches predictLinear on ${ROWS} rows`, async (t) => {
    const model = makeModel();
    const bytes = exportLinearOnnx(model, { inputName: 'x' });
    assert.deepEqual(Buffer.from(bytes), Buffer.from(exportLinearOnnx(model, { inputName: 'x' })), 'deterministic');
    const session = await ort.InferenceSession.create(bytes);
    t.after(() => session.release());
    assert.deepEqual(session.inputNames, ['x']);
    const outputName = name === 'regression' ? 'predictions' : 'probabilities';
    // Every classifier answers the same two outputs, whatever trained it.
    assert.deepEqual(session.outputNames, name === 'regression' ? [outputName] : ['label', outputName]);

    const f = model.numFeatures;
    const expected = predictLinear(model, { features });
    assert.deepEqual(expected.shape, [ROWS, width]);
    const results = await session.run({ x: new ort.Tensor('float32', features, [ROWS, f]) });
    const output = results[outputName];
    assert.ok(output);
    assert.deepEqual(output.dims, [ROWS, width]);
    const difference = maxAbsDifference(output.data as Float32Array, expected.values);
    t.diagnostic(`max |ort − ts| = ${difference.toExponential(2)}`);
    assert.ok(difference <= TOLERANCE, `max difference ${difference}`);
    if (name !== 'regression') {
      for (let r = 0; r < ROWS; r += 97) {
        let sum = 0;
        for (let c = 0; c < width; c++) sum += expected.values[r * width + c] ?? 0;
        assert.ok(Math.abs(sum - 1) < 1e-6, `row ${r} probabilities sum to ${sum}`);
      }
      const label = results['label'];
      assert.ok(label);
      assert.equal(label.type, 'int64');
      assert.deepEqual(label.dims, [ROWS]);
      const probabilities = output.data as Float32Array;
      (label.data as BigInt64Array).forEach((value, r) => {
        const row = [...probabilities.subarray(r * width, (r + 1) * width)];
        assert.equal(Number(value), row.indexOf(Math.max(...row)), `row ${r}: the label is the most probable class`);
      });
    }

    // Batch 1 equals the corresponding row of the batched run.
    for (const row of [0, 1, ROWS - 1]) {
      const single = features.slice(row * f, (row + 1) * f);
      const one = (await session.run({ x: new ort.Tensor('float32', single, [1, f]) }))[outputName];
      assert.ok(one);
      assert.deepEqual(Array.from(one.data as Float32Array), Array.from(predictLinearRow(output, { row, width })));
    }
  });
}

function predictLinearRow(output: ort.Tensor, options: { row: number; width: number }): Float32Array {
  const { row, width } = options;
  return (output.data as Float32Array).slice(row * width, (row + 1) * width);
}
