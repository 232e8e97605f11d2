/**
 * Parity between the TypeScript predictor and onnxruntime running the exported TreeEnsemble
 * graph, for every objective, at batch 1 and batch > 1.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { exportGbdtOnnx } from '../../../src/train/gbdt/export-onnx.ts';
import type { GbdtModel } from '../../../src/train/gbdt/gbdt-model.ts';
import { predictGbdt } from '../../../src/train/gbdt/predict.ts';
import { trainGbdt } from '../../../src/train/gbdt/train-gbdt.ts';
import { makeDataset } from './synthetic-data.ts';

const TOLERANCE = 1e-5;
const NUM_ROWS = 5000;

interface OrtResult {
  readonly outputs: Float32Array;
  readonly labels: number[] | undefined;
}

async function runOnnx(args: { model: GbdtModel; features: Float32Array }): Promise<OrtResult> {
  const { model, features } = args;
  const session = await ort.InferenceSession.create(exportGbdtOnnx(model, { inputName: 'x' }), {
    logSeverityLevel: 3,
  });
  try {
    const numRows = features.length / model.numFeatures;
    const result = await session.run({ x: new ort.Tensor('float32', features, [numRows, model.numFeatures]) });
    if (model.objective === 'regression') {
      assert.deepEqual(result.variable?.dims, [numRows, 1]);
      return { outputs: result.variable?.data as Float32Array, labels: undefined };
    }
    assert.deepEqual(result.probabilities?.dims, [numRows, model.numClasses]);
    return {
      outputs: result.probabilities?.data as Float32Array,
      labels: Array.from(result.label?.data as BigInt64Array, Number),
    };
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

async function assertParity(model: GbdtModel, features: Float32Array): Promise<number> {
  const expected = predictGbdt(model, features);
  const actual = await runOnnx({ model, features });
  const diff = maxAbsDiff(actual.outputs, expected.outputs);
  assert.ok(diff <= TOLERANCE, `max |onnx − ts| = ${diff}`);
  if (expected.labels !== undefined) {
    assert.ok(actual.labels);
    const numClasses = model.numClasses;
    actual.labels.forEach((label, i) => {
      // A label may differ only where the top two probabilities tie within float32 noise.
      if (label === expected.labels?.[i]) return;
      const row = Array.from(expected.outputs.subarray(i * numClasses, (i + 1) * numClasses)).sort((a, b) => b - a);
      assert.ok(
        (row[0] as number) - (row[1] as number) < TOLERANCE,
        `row ${i}: onnx ${label}, ts ${expected.labels?.[i]}`,
      );
    });
  }
  return diff;
}

const CONFIGS = [
  { objective: 'regression', numClasses: undefined },
  { objective: 'binary', numClasses: undefined },
  { objective: 'multiclass', numClasses: 3 },
] as const;

describe('onnxruntime parity', () => {
  for (const { objective, numClasses } of CONFIGS) {
    test(`${objective}: ${NUM_ROWS} rows within ${TOLERANCE}, batch 1 equal to the batch`, async () => {
      const train = makeDataset({ kind: objective, numRows: 3000, seed: 21 });
      const model = trainGbdt({
        ...train,
        objective,
        ...(numClasses === undefined ? {} : { numClasses }),
        params: { numTrees: 40, maxDepth: 6, rowSubsample: 0.8, colSubsample: 0.8, seed: 5 },
      });
      const heldOut = makeDataset({ kind: objective, numRows: NUM_ROWS, seed: 22 });
      // Training rows hit the thresholds exactly (edges are data values or their midpoints).
      await assertParity(model, heldOut.features);
      await assertParity(model, train.features);
      const one = heldOut.features.subarray(0, model.numFeatures);
      const batch = predictGbdt(model, heldOut.features).outputs;
      const single = (await runOnnx({ model, features: one })).outputs;
      assert.ok(maxAbsDiff(single, batch.subarray(0, single.length)) <= TOLERANCE);
    });
  }

  test('NaN goes to the right (false) branch in both', async () => {
    const train = makeDataset({ kind: 'binary', numRows: 1000, seed: 23 });
    const model = trainGbdt({ ...train, objective: 'binary', params: { numTrees: 10, maxDepth: 3 } });
    const features = makeDataset({ kind: 'binary', numRows: 200, seed: 24 }).features.map((v, i) =>
      i % 5 === 0 ? NaN : v,
    );
    await assertParity(model, features);
  });

  test('a binary model whose leaf weights are all >= 0 still gets logistic probabilities', async () => {
    const model: GbdtModel = {
      objective: 'binary',
      numFeatures: 2,
      numClasses: 2,
      baseScore: [Math.fround(-0.4)],
      trees: [
        [
          {
            feature: [1, -1, -1],
            threshold: [Math.fround(0.25), 0, 0],
            left: [1, -1, -1],
            right: [2, -1, -1],
            value: [0, 0, Math.fround(0.7)],
          },
        ],
        [{ feature: [-1], threshold: [0], left: [-1], right: [-1], value: [Math.fround(0.1)] }],
      ],
      roundsTrained: 2,
      validationLoss: [],
    };
    const features = new Float32Array([0, 0, 0, 1, 5, -3, 2, 0.25]);
    await assertParity(model, features);
    const p = predictGbdt(model, features).outputs;
    assert.ok(Math.abs((p[1] as number) - 1 / (1 + Math.exp(0.3))) < 1e-6);
  });

  test('the same model exports the same bytes', () => {
    const train = makeDataset({ kind: 'multiclass', numRows: 500, seed: 25 });
    const model = trainGbdt({ ...train, objective: 'multiclass', numClasses: 3, params: { numTrees: 5 } });
    assert.ok(Buffer.from(exportGbdtOnnx(model)).equals(exportGbdtOnnx(model)));
  });
});
