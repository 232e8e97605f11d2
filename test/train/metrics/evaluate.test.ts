/** The evaluation reports: hand-computed values and a JSON round trip. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateClassifier, evaluateRegressor } from '../../../src/train/metrics/evaluate.ts';
import { assertClose } from '../../helpers/assert-close.ts';

// Hand-computed values: only float rounding may differ.
const TOLERANCE = { atol: 1e-12 };

test('binary report', () => {
  // P(class 1) per row: .1 .4 .35 .8 → predicted 0 0 0 1 for labels 0 0 1 1.
  const p1 = [0.1, 0.4, 0.35, 0.8];
  const report = evaluateClassifier({
    labels: [0, 0, 1, 1],
    probabilities: p1.flatMap((p) => [1 - p, p]),
    numClasses: 2,
    calibrationBins: 5,
  });
  assert.equal(report.count, 4);
  assertClose(report.accuracy, 3 / 4, TOLERANCE);
  // Recalls 2/2 and 1/2.
  assertClose(report.balancedAccuracy, 3 / 4, TOLERANCE);
  assert.deepEqual(report.confusionMatrix, [
    [2, 0],
    [1, 1],
  ]);
  assertClose(report.perClass[1]?.precision, 1, TOLERANCE);
  assertClose(report.perClass[1]?.recall, 0.5, TOLERANCE);
  assertClose(report.rocAuc, 0.75, TOLERANCE);
  assertClose(report.prAuc, 0.5 + 0.5 * (2 / 3), TOLERANCE);
  assertClose(report.logLoss, -(Math.log(0.9) + Math.log(0.6) + Math.log(0.35) + Math.log(0.8)) / 4, TOLERANCE);
  assert.equal(report.calibration?.length, 5);
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
});

test('multiclass report averages one-vs-rest AUCs', () => {
  // Perfectly separated: every class's own column ranks its rows first.
  const report = evaluateClassifier({
    labels: [0, 1, 2],
    probabilities: [0.8, 0.1, 0.1, 0.2, 0.7, 0.1, 0.1, 0.2, 0.7],
    numClasses: 3,
  });
  assertClose(report.accuracy, 1, TOLERANCE);
  assertClose(report.rocAuc, 1, TOLERANCE);
  assertClose(report.prAuc, 1, TOLERANCE);
  assertClose(report.macro.f1, 1, TOLERANCE);
  assert.equal(report.calibration, null);
  assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
});

test('AUC is null when the split has one class', () => {
  const report = evaluateClassifier({ labels: [1, 1], probabilities: [0.2, 0.8, 0.4, 0.6], numClasses: 2 });
  assert.equal(report.rocAuc, null);
  assert.equal(report.prAuc, null);
  assertClose(report.accuracy, 1, TOLERANCE);
});

test('regression report', () => {
  const report = evaluateRegressor({ targets: [1, 2, 3, 4], predictions: new Float32Array([1, 2, 3, 5]) });
  assert.deepEqual(report, { task: 'regression', count: 4, rmse: 0.5, mae: 0.25, r2: 0.8 });
});
