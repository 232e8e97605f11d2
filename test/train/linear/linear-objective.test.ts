/**
 * The optimiser building blocks: analytic gradients of every objective against central finite
 * differences, and L-BFGS on the Rosenbrock function (minimum at (1, 1)).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { minimizeLbfgs } from '../../../src/train/linear/lbfgs.ts';
import { linearObjective, type LinearShape } from '../../../src/train/linear/linear-objective.ts';
import { trainLinear } from '../../../src/train/linear/train-linear.ts';
import { blobs } from './synthetic-data.ts';

const data = blobs({
  rows: 30,
  centres: [
    [1, 0, -1],
    [0, 1, 0],
    [-1, 0, 1],
  ],
  seed: 9,
});

for (const shape of [
  { objective: 'regression', numFeatures: 3, numOutputs: 1 },
  { objective: 'binary', numFeatures: 3, numOutputs: 1 },
  { objective: 'multiclass', numFeatures: 3, numOutputs: 3 },
] satisfies LinearShape[]) {
  test(`${shape.objective}: gradient matches finite differences`, () => {
    const labels = shape.objective === 'binary' ? data.labels.map((y) => (y === 0 ? 0 : 1)) : data.labels;
    const size = shape.numFeatures * shape.numOutputs + shape.numOutputs;
    const theta = Float64Array.from({ length: size }, (_, i) => Math.sin(i + 1) * 0.3);
    const gradient = new Float64Array(size);
    const l2 = 0.7;
    const train = { features: data.features, labels, rows: data.rows };
    linearObjective({ shape, data: train, theta, l2, gradient });
    const h = 1e-6;
    for (let i = 0; i < size; i++) {
      const plus = Float64Array.from(theta);
      const minus = Float64Array.from(theta);
      plus[i] = (plus[i] ?? 0) + h;
      minus[i] = (minus[i] ?? 0) - h;
      const numeric =
        (linearObjective({ shape, data: train, theta: plus, l2 }).objective -
          linearObjective({ shape, data: train, theta: minus, l2 }).objective) /
        (2 * h);
      assert.ok(Math.abs(numeric - (gradient[i] ?? NaN)) < 1e-6, `θ[${i}]: ${numeric} vs ${gradient[i]}`);
    }
  });
}

test('L-BFGS finds the Rosenbrock minimum', () => {
  const result = minimizeLbfgs({
    initial: new Float64Array([-1.2, 1]),
    maxIterations: 200,
    evaluate: ({ x, gradient }) => {
      const a = x[0] ?? 0;
      const b = x[1] ?? 0;
      gradient[0] = -2 * (1 - a) - 400 * a * (b - a * a);
      gradient[1] = 200 * (b - a * a);
      return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
    },
  });
  assert.ok(Math.abs((result.x[0] ?? 0) - 1) < 1e-4 && Math.abs((result.x[1] ?? 0) - 1) < 1e-4, `x = ${result.x}`);
  assert.ok(result.iterations < 200, `iterations ${result.iterations}`);
});

test('L-BFGS history is never empty, even when the start is optimal', () => {
  const model = trainLinear({
    features: new Float32Array([1, -1]),
    numFeatures: 1,
    labels: [0, 0],
    objective: 'regression',
    params: { optimizer: 'lbfgs', learningRate: 1, l2: 0, epochs: 10, batchSize: 1, seed: 0 },
  });
  assert.deepEqual(model.history, [{ epoch: 1, loss: 0 }]);
  assert.equal(model.bestEpoch, 1);
});
