/**
 * Class weights in GBDT training: each row's gradient and hessian scale by its class's weight (in
 * the calling thread and in worker shards alike), the starting score is the weighted prior, and on
 * an imbalanced problem weighting the rare class up finds far more of it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { mulberry32 } from '../../../src/random/mulberry32.ts';
import { resolveClassWeights } from '../../../src/train/common/class-weight.ts';
import { predictGbdt } from '../../../src/train/gbdt/predict.ts';
import { allocateGbdtBuffers, createRowShard, OBJECTIVE_CODE } from '../../../src/train/gbdt/row-shard.ts';
import { trainGbdt, type TrainGbdtOptions } from '../../../src/train/gbdt/train-gbdt.ts';
import { balancedAccuracy, precisionRecallF1 } from '../../../src/train/metrics/classification-metrics.ts';
import { assertClose } from '../../helpers/assert-close.ts';
import { makeDataset } from './synthetic-data.ts';

const TOLERANCE = { atol: 1e-12 };

/**
 * Four uniform features; P(class 1) = sigmoid(2.5·x0 + 1.5·x1² − 3), so about one row in eight is
 * positive and, where most of them are, they are still the minority: a model minimising the
 * unweighted log-loss answers class 1 only in a small corner.
 */
function imbalanced(numRows: number, seed: number): { features: Float32Array; labels: Float32Array } {
  const next = mulberry32(seed);
  const features = new Float32Array(numRows * 4);
  const labels = new Float32Array(numRows);
  for (let i = 0; i < numRows; i++) {
    for (let j = 0; j < 4; j++) features[i * 4 + j] = next() * 2 - 1;
    const x0 = features[i * 4] as number;
    const x1 = features[i * 4 + 1] as number;
    const p = 1 / (1 + Math.exp(-(2.5 * x0 + 1.5 * x1 * x1 - 3)));
    labels[i] = next() < p ? 1 : 0;
  }
  return { features, labels };
}

describe('gradients', () => {
  const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

  test('binary: a row of class c has w[c] times the unweighted gradient and hessian', () => {
    const scores = [0, 0, Math.log(3), -Math.log(3)];
    const labels = [0, 1, 1, 0];
    const weighted = allocateGbdtBuffers({
      numRows: 4,
      numFeatures: 1,
      numOutputs: 1,
      shared: false,
      classWeights: Float64Array.from([0.5, 4]),
    });
    const plain = allocateGbdtBuffers({ numRows: 4, numFeatures: 1, numOutputs: 1, shared: false });
    for (const buffers of [weighted, plain]) {
      buffers.labels.set(labels);
      buffers.scores.set(scores);
      createRowShard(buffers, { lo: 0, hi: 4 }).computeGradients({ objective: OBJECTIVE_CODE.binary, output: 0 });
    }
    labels.forEach((y, i) => {
      const p = sigmoid(scores[i] as number);
      const w = y === 1 ? 4 : 0.5;
      assertClose(plain.gradHess[2 * i], p - y, TOLERANCE);
      assertClose(plain.gradHess[2 * i + 1], p * (1 - p), TOLERANCE);
      assertClose(weighted.gradHess[2 * i], w * (p - y), TOLERANCE);
      assertClose(weighted.gradHess[2 * i + 1], w * p * (1 - p), TOLERANCE);
    });
  });

  test('multiclass: the weight of the row’s own class scales every output’s gradient', () => {
    const buffers = allocateGbdtBuffers({
      numRows: 2,
      numFeatures: 1,
      numOutputs: 3,
      shared: false,
      classWeights: Float64Array.from([1, 2, 3]),
    });
    buffers.labels.set([2, 0]);
    buffers.probabilities.set([0.2, 0.3, 0.5, 0.6, 0.3, 0.1]);
    const shard = createRowShard(buffers, { lo: 0, hi: 2 });
    shard.computeGradients({ objective: OBJECTIVE_CODE.multiclass, output: 2 });
    // Row 0 (class 2, weight 3), output 2: p 0.5 → g 3·(0.5 − 1), h 3·0.25.
    assertClose(buffers.gradHess[0], -1.5, TOLERANCE);
    assertClose(buffers.gradHess[1], 0.75, TOLERANCE);
    // Row 1 (class 0, weight 1), output 2: p 0.1 → g 0.1, h 0.09.
    assertClose(buffers.gradHess[2], 0.1, TOLERANCE);
    assertClose(buffers.gradHess[3], 0.09, TOLERANCE);
  });

  test("'balanced' gives n / (classes × count) per class", () => {
    const weights = resolveClassWeights({ weight: 'balanced', labels: [0, 0, 0, 1], numClasses: 2, name: 'w' });
    assert.deepEqual(Array.from(weights ?? []), [4 / 6, 4 / 2]);
    assert.equal(resolveClassWeights({ weight: undefined, labels: [0, 1], numClasses: 2, name: 'w' }), undefined);
  });
});

describe('training', () => {
  const train = imbalanced(6000, 41);
  const heldOut = imbalanced(4000, 42);
  const params = { numTrees: 40, maxDepth: 3, learningRate: 0.1, seed: 3 } as const;
  const options: TrainGbdtOptions = { ...train, numFeatures: 4, objective: 'binary', params };
  const scores = (model: ReturnType<typeof trainGbdt>) => {
    const predicted = predictGbdt(model, heldOut.features).labels as Int32Array;
    const { perClass } = precisionRecallF1(heldOut.labels, predicted, { numClasses: 2 });
    return {
      recall: perClass[1]?.recall ?? 0,
      balanced: balancedAccuracy(heldOut.labels, predicted, { numClasses: 2 }),
    };
  };

  test('the starting score is the log-odds of the weighted classes', () => {
    const positives = train.labels.reduce((sum, y) => sum + y, 0);
    const negatives = train.labels.length - positives;
    const plain = trainGbdt({ ...options, params: { ...params, numTrees: 1 } });
    const tripled = trainGbdt({ ...options, params: { ...params, numTrees: 1, classWeight: [1, 3] } });
    const balanced = trainGbdt({ ...options, params: { ...params, numTrees: 1, classWeight: 'balanced' } });
    assert.equal(plain.baseScore[0], Math.fround(Math.log(positives / negatives)));
    assert.equal(tripled.baseScore[0], Math.fround(Math.log((3 * positives) / negatives)));
    assertClose(balanced.baseScore[0], 0, TOLERANCE);
  });

  test('balanced weights find far more of the rare class, and balanced accuracy rises', () => {
    const positiveRate = heldOut.labels.reduce((sum, y) => sum + y, 0) / heldOut.labels.length;
    assert.ok(positiveRate > 0.08 && positiveRate < 0.2, `positive rate ${positiveRate}`);
    const plain = scores(trainGbdt(options));
    const balanced = scores(trainGbdt({ ...options, params: { ...params, classWeight: 'balanced' } }));
    assert.ok(balanced.recall > plain.recall + 0.3, `recall of class 1: ${plain.recall} → ${balanced.recall}`);
    assert.ok(balanced.balanced > plain.balanced + 0.05, `balanced accuracy ${plain.balanced} → ${balanced.balanced}`);
  });

  test('worker shards weigh rows as the calling thread does', () => {
    const weighted: TrainGbdtOptions = { ...options, params: { ...params, classWeight: [1, 5] } };
    const single = trainGbdt(weighted);
    const parallel = trainGbdt({ ...weighted, params: { ...weighted.params, workers: 2 } });
    const a = predictGbdt(single, heldOut.features).outputs;
    const b = predictGbdt(parallel, heldOut.features).outputs;
    // Two shards sum the histograms in another order: the last bits may differ, nothing more.
    for (let i = 0; i < a.length; i++) assertClose(b[i], a[i] as number, { atol: 1e-5 });
    assert.notDeepEqual(single.trees, trainGbdt(options).trees);
  });
});

describe('checkpoints and bad requests', () => {
  const folder = mkdtempSync(join(tmpdir(), 'stratum-class-weight-'));
  after(() => rmSync(folder, { recursive: true, force: true }));
  const data = makeDataset({ kind: 'binary', numRows: 200, seed: 13 });
  const base: TrainGbdtOptions = { ...data, objective: 'binary', params: { numTrees: 4, maxDepth: 2 } };
  const isBadRequest =
    (pattern: RegExp) =>
    (error: unknown): boolean =>
      error instanceof StratumError && error.code === 'BAD_REQUEST' && pattern.test(error.message);

  test('a checkpoint of other class weights is refused', () => {
    const path = join(folder, 'weighted.json');
    trainGbdt({ ...base, params: { ...base.params, classWeight: [1, 2] }, checkpoint: { path, everyRounds: 2 } });
    assert.throws(
      () => trainGbdt({ ...base, params: { ...base.params, classWeight: [1, 3] }, resumeFrom: path }),
      isBadRequest(/another classWeight/),
    );
    assert.throws(() => trainGbdt({ ...base, resumeFrom: path }), isBadRequest(/another classWeight/));
  });

  const cases: [string, TrainGbdtOptions, RegExp][] = [
    [
      'regression',
      { ...base, objective: 'regression', params: { classWeight: 'balanced' } },
      /classWeight applies to classifiers/,
    ],
    ['one weight per class', { ...base, params: { classWeight: [1, 2, 3] } }, /one weight per class \(2\), got 3/],
    ['a zero weight', { ...base, params: { classWeight: [1, 0] } }, /params\.classWeight/],
    ['an unknown word', { ...base, params: { classWeight: 'heavy' as 'balanced' } }, /'balanced' or a list/],
    [
      "'balanced' with a class missing",
      { ...base, objective: 'multiclass', numClasses: 3, params: { classWeight: 'balanced' } },
      /class 2 has none/,
    ],
  ];
  for (const [name, options, message] of cases) {
    test(name, () => assert.throws(() => trainGbdt(options), isBadRequest(message)));
  }
});
