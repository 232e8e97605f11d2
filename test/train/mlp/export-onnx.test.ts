/**
 * Parity: the exported ONNX graph run by onnxruntime matches predictMlp within 1e-5 on thousands
 * of rows, for every objective and both activations, at batch 1 and batch > 1, with the same
 * input and output names as the linear export.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { decodeModel } from '../../../src/onnx/onnx-proto.ts';
import { exportMlpOnnx, mlpValueNames } from '../../../src/train/mlp/export-onnx.ts';
import type { MlpActivation, MlpModel } from '../../../src/train/mlp/mlp-model.ts';
import { predictMlp } from '../../../src/train/mlp/predict-mlp.ts';
import { trainMlp } from '../../../src/train/mlp/train-mlp.ts';
import { blobs, linearData } from '../linear/synthetic-data.ts';

const ROWS = 5000;
const TOLERANCE = 1e-5;
const CENTRES = [
  [0, 2, 1],
  [-2, -1, 0],
  [2, -1, -1],
  [0, 0, 3],
];

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

function train(options: { objective: MlpModel['objective']; activation: MlpActivation }): MlpModel {
  const { objective, activation } = options;
  const params = {
    hiddenLayers: [24, 12, 8],
    activation,
    dropout: 0.1,
    learningRate: 0.01,
    l2: 1e-4,
    epochs: 5,
    batchSize: 32,
    seed: 3,
  };
  if (objective === 'regression') {
    const data = linearData({ rows: 1000, weights: [0.8, -0.4, 0.3], bias: 0.25, noise: 0.1, seed: 21 });
    return trainMlp({ ...data, numFeatures: 3, objective, params }).model;
  }
  const data = blobs({ rows: 1000, centres: objective === 'binary' ? CENTRES.slice(0, 2) : CENTRES, seed: 23 });
  const numClasses = objective === 'binary' ? 2 : 4;
  return trainMlp({ ...data, numFeatures: 3, objective, numClasses, params }).model;
}

for (const objective of ['regression', 'binary', 'multiclass'] as const) {
  for (const activation of ['relu', 'tanh'] as const) {
    test(`${objective} / ${activation}: onnxruntime matches predictMlp on ${ROWS} rows`, async (t) => {
      const model = train({ objective, activation });
      const bytes = exportMlpOnnx(model, { inputName: 'x' });
      assert.deepEqual(Buffer.from(bytes), Buffer.from(exportMlpOnnx(model, { inputName: 'x' })), 'deterministic');
      const ops = decodeModel(bytes).graph.node.map((node) => node.op_type);
      const hidden = activation === 'relu' ? 'Relu' : 'Tanh';
      const head = {
        regression: [],
        binary: ['Sigmoid', 'Sub', 'Concat', 'ArgMax'],
        multiclass: ['Softmax', 'ArgMax'],
      }[objective];
      assert.deepEqual(
        ops,
        ['Gemm', hidden, 'Gemm', hidden, 'Gemm', hidden, 'Gemm', ...head],
        'no dropout in the graph',
      );
      const defined = decodeModel(bytes).graph.node.flatMap((node) => node.output);
      const initializers = decodeModel(bytes).graph.initializer.map((tensor) => tensor.name);
      assert.deepEqual([...defined, ...initializers].sort(), [...mlpValueNames(model)].sort());

      const session = await ort.InferenceSession.create(bytes);
      t.after(() => session.release());
      assert.deepEqual(session.inputNames, ['x']);
      const outputName = objective === 'regression' ? 'predictions' : 'probabilities';
      assert.deepEqual(session.outputNames, objective === 'regression' ? [outputName] : ['label', outputName]);

      // Fresh rows from a wider distribution than training, so saturated and dead units are exercised too.
      const features = linearData({ rows: ROWS, weights: [0, 0, 0], bias: 0, noise: 0, seed: 22 }).features.map(
        (x) => 3 * x,
      );
      const width = { regression: 1, binary: 2, multiclass: 4 }[objective];
      const expected = predictMlp(model, { features });
      assert.deepEqual(expected.shape, [ROWS, width]);
      const output = (await session.run({ x: new ort.Tensor('float32', features, [ROWS, 3]) }))[outputName];
      assert.ok(output);
      assert.deepEqual(output.dims, [ROWS, width]);
      const difference = maxAbsDifference(output.data as Float32Array, expected.values);
      t.diagnostic(`max |ort − ts| = ${difference.toExponential(2)}`);
      assert.ok(difference <= TOLERANCE, `max difference ${difference}`);

      for (const row of [0, 1, ROWS - 1]) {
        const single = features.slice(row * 3, (row + 1) * 3);
        const one = (await session.run({ x: new ort.Tensor('float32', single, [1, 3]) }))[outputName];
        assert.ok(one);
        const batched = (output.data as Float32Array).subarray(row * width, (row + 1) * width);
        assert.ok(maxAbsDifference(one.data as Float32Array, batched) <= TOLERANCE, `row ${row}`);
      }
    });
  }
}

test('a model without hidden layers exports as one Gemm and the head', async (t) => {
  const data = blobs({ rows: 400, centres: CENTRES.slice(0, 2), seed: 5 });
  const { model } = trainMlp({
    ...data,
    numFeatures: 3,
    objective: 'binary',
    params: { hiddenLayers: [], learningRate: 0.05, l2: 0, epochs: 3, batchSize: 32, seed: 1 },
  });
  const bytes = exportMlpOnnx(model);
  const session = await ort.InferenceSession.create(bytes);
  t.after(() => session.release());
  const output = (await session.run({ features: new ort.Tensor('float32', data.features, [400, 3]) })).probabilities;
  assert.ok(output);
  const difference = maxAbsDifference(
    output.data as Float32Array,
    predictMlp(model, { features: data.features }).values,
  );
  assert.ok(difference <= TOLERANCE, `max difference ${difference}`);
});
