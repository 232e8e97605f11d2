import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { trainLinear } from '../../../src/train/linear/train-linear.ts';
import { predictLinear } from '../../../src/train/linear/predict-linear.ts';
import { trainMlp } from '../../../src/train/mlp/train-mlp.ts';
import { predictMlp } from '../../../src/train/mlp/predict-mlp.ts';
import { createDpSgd } from '../../../src/train/privacy/dp-sgd.ts';
import { dpSgdEpsilon } from '../../../src/train/privacy/rdp-accountant.ts';
import { blobs } from '../linear/synthetic-data.ts';
import { xor } from '../mlp/nonlinear-data.ts';

/** Share of rows whose probability of class 1 is on the side of their label. */
function accuracy(probabilities: Float32Array, labels: ArrayLike<number>): number {
  let right = 0;
  for (let r = 0; r < labels.length; r++)
    if (((probabilities[2 * r + 1] as number) > 0.5 ? 1 : 0) === labels[r]) right++;
  return right / labels.length;
}

const train = blobs({
  rows: 2000,
  centres: [
    [-1.5, -1.5, 0],
    [1.5, 1.5, 0],
  ],
  seed: 3,
});
const held = blobs({
  rows: 500,
  centres: [
    [-1.5, -1.5, 0],
    [1.5, 1.5, 0],
  ],
  seed: 4,
});
const privacy = { noiseMultiplier: 1, clipNorm: 1, delta: 1e-5 };

test('DP-SGD logistic regression converges near the non-private model and reports the ε of its steps', () => {
  const common = { features: train.features, numFeatures: 3, labels: train.labels, objective: 'binary' as const };
  const params = { optimizer: 'sgd' as const, learningRate: 0.5, epochs: 8, batchSize: 100, seed: 1 };
  const plain = trainLinear({ ...common, params });
  const dp = trainLinear({ ...common, params: { ...params, privacy } });
  const plainAccuracy = accuracy(predictLinear(plain, { features: held.features }).values, held.labels);
  const dpAccuracy = accuracy(predictLinear(dp, { features: held.features }).values, held.labels);
  // Blobs 3σ apart: the Bayes accuracy is Φ(1.5·√2) ≈ 0.983.
  assert.ok(plainAccuracy > 0.95, `plain ${plainAccuracy}`);
  assert.ok(dpAccuracy > 0.93, `dp ${dpAccuracy}`);
  assert.ok(dp.history[dp.history.length - 1]!.loss < dp.history[0]!.loss, 'the training loss falls');
  const report = dp.privacy;
  assert.ok(report !== undefined);
  assert.equal(report.steps, 8 * 20);
  assert.equal(report.samplingRate, 100 / 2000);
  assert.equal(report.sampling, 'poisson');
  const expected = dpSgdEpsilon({ samplingRate: 0.05, noiseMultiplier: 1, steps: 160, delta: 1e-5 });
  assert.equal(report.epsilon, expected.epsilon);
  assert.ok(report.epsilon > 0 && Number.isFinite(report.epsilon));
  assert.equal(plain.privacy, undefined);
});

test('a private linear run is deterministic for a seed, and more noise spends less ε', () => {
  const common = { features: train.features, numFeatures: 3, labels: train.labels, objective: 'binary' as const };
  const params = { optimizer: 'adam' as const, learningRate: 0.05, epochs: 4, batchSize: 100, seed: 2 };
  const a = trainLinear({ ...common, params: { ...params, privacy } });
  const b = trainLinear({ ...common, params: { ...params, privacy } });
  assert.deepEqual(a.weights, b.weights);
  const noisier = trainLinear({ ...common, params: { ...params, privacy: { ...privacy, noiseMultiplier: 4 } } });
  assert.ok((noisier.privacy?.epsilon ?? 0) < (a.privacy?.epsilon ?? 0));
});

test('DP-SGD MLP learns XOR and reports ε', () => {
  const data = xor({ rows: 1000, seed: 5 });
  const test = xor({ rows: 400, seed: 6 });
  const trained = trainMlp({
    features: data.features,
    numFeatures: 2,
    labels: data.labels,
    objective: 'binary',
    params: {
      hiddenLayers: [16],
      learningRate: 0.02,
      epochs: 30,
      batchSize: 50,
      seed: 3,
      privacy: { noiseMultiplier: 0.8 },
    },
  });
  const acc = accuracy(predictMlp(trained.model, { features: test.features }).values, test.labels);
  assert.ok(acc > 0.85, `accuracy ${acc}`);
  assert.equal(trained.privacy?.steps, 30 * 20);
  assert.equal(
    trained.privacy?.epsilon,
    dpSgdEpsilon({ samplingRate: 0.05, noiseMultiplier: 0.8, steps: 600, delta: 1e-5 }).epsilon,
  );
});

test('the private gradient clips every row to C and adds noise of σ·C over the expected batch', () => {
  // Zero noise multiplier is refused by the schema; a tiny one isolates the clipping.
  const dp = createDpSgd({
    privacy: { noiseMultiplier: 1e-12, clipNorm: 1, delta: 1e-5 },
    rows: 4,
    batchSize: 2,
    seed: 0,
  });
  const out = new Float64Array(2);
  dp.privateGradient({
    batch: Uint32Array.from([0, 1]),
    perRow: (row, scratch) => {
      scratch[0] = row === 0 ? 3 : 0.3;
      scratch[1] = row === 0 ? 4 : 0.4;
    },
    out,
  });
  // Row 0 (norm 5) is scaled to norm 1: (0.6, 0.8); row 1 (norm 0.5) is kept; divided by 4·(2/4) = 2.
  assert.ok(Math.abs((out[0] as number) - 0.45) < 1e-9);
  assert.ok(Math.abs((out[1] as number) - 0.6) < 1e-9);
  // Poisson sampling: every row independently, about rate·N per step.
  let total = 0;
  const many = createDpSgd({ privacy, rows: 1000, batchSize: 100, seed: 1 });
  for (let s = 0; s < 100; s++) total += many.sampleBatch().length;
  assert.ok(Math.abs(total / 100 - 100) < 5, `mean batch ${total / 100}`);
  // A batch of at least every row samples every row (rate 1).
  const all = createDpSgd({ privacy, rows: 7, batchSize: 10, seed: 3 });
  assert.deepEqual([...all.sampleBatch()], [0, 1, 2, 3, 4, 5, 6]);
  // Every row is as likely as any other to be taken.
  const hits = new Float64Array(10);
  const fair = createDpSgd({ privacy, rows: 10, batchSize: 3, seed: 5 });
  for (let s = 0; s < 2000; s++) for (const row of fair.sampleBatch()) hits[row] = (hits[row] as number) + 1;
  for (const count of hits) assert.ok(Math.abs(count / 2000 - 0.3) < 0.04, `inclusion ${count / 2000}`);
});

test('privacy with L-BFGS is refused, naming the parameter', () => {
  assert.throws(
    () =>
      trainLinear({
        features: train.features,
        numFeatures: 3,
        labels: train.labels,
        objective: 'binary',
        params: { optimizer: 'lbfgs', privacy },
      }),
    (error: unknown) =>
      error instanceof StratumError && error.code === 'BAD_REQUEST' && /^params\.privacy: /.test(error.message),
  );
});
