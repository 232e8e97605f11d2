/**
 * Classification metrics against values worked out by hand (in the comments) or by a brute-force
 * reference written here (pairwise ROC-AUC), never against the implementation's own output.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import {
  accuracy,
  balancedAccuracy,
  calibrationCurve,
  confusionMatrix,
  logLoss,
  prAuc,
  precisionRecallF1,
  rocAuc,
} from '../../../src/train/metrics/classification-metrics.ts';
import { assertClose } from '../../helpers/assert-close.ts';

// Hand-computed values: only float rounding may differ.
const TOLERANCE = { atol: 1e-12 };

function isBadRequest(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof StratumError && error.code === 'BAD_REQUEST' && pattern.test(error.message);
}

/** Fraction of (positive, negative) pairs ranked correctly, ties counting one half. */
function pairwiseAuc(scores: readonly number[], labels: readonly number[]): number {
  let wins = 0;
  let pairs = 0;
  scores.forEach((sp, i) => {
    if (labels[i] !== 1) return;
    scores.forEach((sn, j) => {
      if (labels[j] !== 0) return;
      pairs++;
      wins += sp > sn ? 1 : sp === sn ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

test('accuracy counts exact matches', () => {
  assertClose(accuracy([0, 1, 1, 2], [0, 1, 0, 2]), 3 / 4, TOLERANCE);
  assertClose(accuracy([1], [1]), 1, TOLERANCE);
});

test('confusion matrix puts true classes on rows', () => {
  // labels 0,0,1,1,2,2 predicted 0,1,1,1,2,0
  assert.deepEqual(confusionMatrix([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], { numClasses: 3 }), [
    [1, 1, 0],
    [0, 2, 0],
    [1, 0, 1],
  ]);
});

test('precision, recall and F1 per class with macro and weighted averages', () => {
  const report = precisionRecallF1([0, 0, 1, 1, 2, 2], [0, 1, 1, 1, 2, 0], { numClasses: 3 });
  // class 0: tp 1 of 2 predicted, 1 of 2 true; class 1: 2 of 3, 2 of 2; class 2: 1 of 1, 1 of 2.
  const expected = [
    { precision: 1 / 2, recall: 1 / 2, f1: 1 / 2 },
    { precision: 2 / 3, recall: 1, f1: 0.8 },
    { precision: 1, recall: 1 / 2, f1: 2 / 3 },
  ];
  expected.forEach((e, c) => {
    const got = report.perClass[c];
    assert.ok(got);
    assertClose(got.precision, e.precision, { ...TOLERANCE, label: `precision ${c}` });
    assertClose(got.recall, e.recall, { ...TOLERANCE, label: `recall ${c}` });
    assertClose(got.f1, e.f1, { ...TOLERANCE, label: `f1 ${c}` });
    assert.equal(got.support, 2);
  });
  assertClose(report.macro.precision, (1 / 2 + 2 / 3 + 1) / 3, TOLERANCE);
  assertClose(report.macro.recall, (1 / 2 + 1 + 1 / 2) / 3, TOLERANCE);
  assertClose(report.macro.f1, (1 / 2 + 0.8 + 2 / 3) / 3, TOLERANCE);

  // Unequal support: class 0 has 3 rows, class 1 has 1.
  const weighted = precisionRecallF1([0, 0, 0, 1], [0, 0, 1, 1], { numClasses: 2 }).weighted;
  assertClose(weighted.precision, 0.75 * 1 + 0.25 * 0.5, TOLERANCE);
  assertClose(weighted.recall, 0.75 * (2 / 3) + 0.25 * 1, TOLERANCE);
  assertClose(weighted.f1, 0.75 * 0.8 + 0.25 * (2 / 3), TOLERANCE);
});

test('a class never predicted has precision 0 and F1 0', () => {
  const report = precisionRecallF1([0, 1], [0, 0], { numClasses: 2 });
  assert.deepEqual(report.perClass[1], { class: 1, precision: 0, recall: 0, f1: 0, support: 1 });
});

test('log-loss: binary column, N×K matrix and clipping', () => {
  assertClose(logLoss([1, 0], [0.9, 0.2]), -(Math.log(0.9) + Math.log(0.8)) / 2, TOLERANCE);
  assertClose(logLoss([1, 0], [0.1, 0.9, 0.8, 0.2]), -(Math.log(0.9) + Math.log(0.8)) / 2, TOLERANCE);
  assertClose(logLoss([2, 0], [0.2, 0.3, 0.5, 0.6, 0.3, 0.1]), -(Math.log(0.5) + Math.log(0.6)) / 2, TOLERANCE);
  assertClose(logLoss([1], [0]), -Math.log(1e-15), TOLERANCE);
  assertClose(logLoss([1], [0], { epsilon: 1e-3 }), -Math.log(1e-3), TOLERANCE);
});

test('ROC-AUC on the textbook example and with ties', () => {
  // Pairs (pos, neg): 0.35>0.1, 0.35<0.4, 0.8>0.1, 0.8>0.4 → 3 of 4.
  assertClose(rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75, TOLERANCE);
  // Positive 0.5 ties negative 0.5 (one half), beats 0.2; 0.9 beats both → 3.5 of 4.
  assertClose(rocAuc([0.2, 0.5, 0.5, 0.9], [0, 0, 1, 1]), 0.875, TOLERANCE);
  assertClose(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5, TOLERANCE);
});

test('ROC-AUC of perfect and inverted classifiers', () => {
  assertClose(rocAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1, TOLERANCE);
  assertClose(rocAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0, TOLERANCE);
});

test('ROC-AUC equals the pairwise count on random scores with many ties', () => {
  let state = 7;
  const random = (): number => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  for (let trial = 0; trial < 20; trial++) {
    const scores = Array.from({ length: 60 }, () => Math.round(random() * 8) / 8);
    const labels = scores.map((s) => (random() < 0.3 + 0.4 * s ? 1 : 0));
    labels[0] = 0;
    labels[1] = 1;
    assertClose(rocAuc(scores, labels), pairwiseAuc(scores, labels), { ...TOLERANCE, label: `trial ${trial}` });
  }
});

test('PR-AUC is average precision over distinct thresholds', () => {
  // Descending: 0.8 (pos) P=1 R=.5; 0.4 (neg); 0.35 (pos) P=2/3 R=1 → .5·1 + .5·2/3.
  assertClose(prAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.5 + 0.5 * (2 / 3), TOLERANCE);
  // Tie group {0.5: neg, pos} enters at once: P = 2/3 at R = 1.
  assertClose(prAuc([0.2, 0.5, 0.5, 0.9], [0, 0, 1, 1]), 0.5 + 0.5 * (2 / 3), TOLERANCE);
  assertClose(prAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]), 0.5, TOLERANCE);
  assertClose(prAuc([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]), 1, TOLERANCE);
  // Inverted: positives enter at ranks 3 and 4 → .5·(1/3) + .5·(2/4).
  assertClose(prAuc([0.9, 0.8, 0.2, 0.1], [0, 0, 1, 1]), 0.5 / 3 + 0.25, TOLERANCE);
});

test('AUCs reject a single class', () => {
  assert.throws(() => rocAuc([0.1, 0.2], [1, 1]), isBadRequest(/both classes/));
  assert.throws(() => prAuc([0.1, 0.2], [0, 0]), isBadRequest(/at least one positive/));
});

test('calibration curve bins probabilities', () => {
  const bins = calibrationCurve([0.05, 0.15, 0.12, 0.95, 1], [0, 0, 1, 1, 1], { bins: 10 });
  assert.equal(bins.length, 10);
  assert.equal(bins[0]?.count, 1);
  assertClose(bins[0]?.meanPredicted ?? NaN, 0.05, TOLERANCE);
  assert.equal(bins[0]?.fractionPositive, 0);
  assert.equal(bins[1]?.count, 2);
  assertClose(bins[1]?.meanPredicted ?? NaN, (0.15 + 0.12) / 2, TOLERANCE);
  assertClose(bins[1]?.fractionPositive ?? NaN, 0.5, TOLERANCE);
  assert.equal(bins[9]?.count, 2, 'p = 1 falls in the last bin');
  assertClose(bins[9]?.meanPredicted ?? NaN, 0.975, TOLERANCE);
  assert.equal(bins[9]?.fractionPositive, 1);
  assert.deepEqual(bins[5], { lower: 0.5, upper: 0.6, count: 0, meanPredicted: null, fractionPositive: null });
});

test('bad inputs are BAD_REQUEST naming what was wrong', () => {
  assert.throws(() => accuracy([0, 1], [0]), isBadRequest(/same length/));
  assert.throws(() => confusionMatrix([0, 3], [0, 1], { numClasses: 3 }), isBadRequest(/labels: row 1 is 3/));
  assert.throws(() => rocAuc([0.1, NaN], [0, 1]), isBadRequest(/scores: row 1 is NaN/));
  assert.throws(() => logLoss([0, 1], [0.5, 0.5, 0.5]), isBadRequest(/N×K/));
  assert.throws(() => calibrationCurve([0.5, 1.5], [0, 1]), isBadRequest(/row 1 is 1.5/));
});

test('balanced accuracy is the mean recall over the classes present', () => {
  // Recalls: class 0 3/4, class 1 1/2; class 2 has no true rows and is left out (scikit-learn).
  const labels = [0, 0, 0, 0, 1, 1];
  const predicted = [0, 0, 0, 1, 1, 2];
  assertClose(balancedAccuracy(labels, predicted, { numClasses: 3 }), (3 / 4 + 1 / 2) / 2, TOLERANCE);
  // Always answering the majority class scores 1 / classes present, whatever the imbalance.
  assertClose(balancedAccuracy([0, 0, 0, 0, 0, 0, 0, 1], new Array(8).fill(0), { numClasses: 2 }), 0.5, TOLERANCE);
});
