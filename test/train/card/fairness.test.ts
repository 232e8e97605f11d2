import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { binaryFairness, multiclassFairness, regressionFairness } from '../../../src/monitor/fairness.ts';

// Written by test/fixtures/cards/make-fairness-fixture.py (scikit-learn, Fairlearn's definitions).
const reference = JSON.parse(
  readFileSync(new URL('../../fixtures/cards/fairness-reference.json', import.meta.url), 'utf8'),
) as {
  binary: {
    groups: string[];
    labels: number[];
    predictions: number[];
    expected: Record<string, unknown> & { groups: Record<string, number | string>[] };
  };
  regression: {
    groups: string[];
    targets: number[];
    predictions: number[];
    expected: Record<string, unknown> & { groups: Record<string, number | string>[] };
  };
};

function close(actual: number | undefined, expected: unknown, what: string): void {
  assert.equal(typeof expected, 'number', what);
  assert.ok(
    actual !== undefined && Math.abs(actual - (expected as number)) < 1e-12,
    `${what}: ${actual} vs ${String(expected)}`,
  );
}

test('binary fairness matches the scikit-learn reference, group by group and in its gaps', () => {
  const { groups, labels, predictions, expected } = reference.binary;
  const report = binaryFairness({ column: 'group', groups, labels, predictions });
  assert.deepEqual(
    report.groups.map((g) => g.group),
    expected.groups.map((g) => g.group),
  );
  for (const [i, want] of expected.groups.entries()) {
    const got = report.groups[i]!;
    assert.equal(got.count, want.count);
    for (const key of ['selectionRate', 'accuracy', 'truePositiveRate', 'falsePositiveRate'] as const) {
      close(got[key], want[key], `${got.group}.${key}`);
    }
  }
  close(report.demographicParityDifference, expected.demographicParityDifference, 'demographicParityDifference');
  close(report.demographicParityRatio, expected.demographicParityRatio, 'demographicParityRatio');
  close(report.equalizedOddsDifference, expected.equalizedOddsDifference, 'equalizedOddsDifference');
});

test('regression fairness matches the reference RMSE and MAE per group and their gaps', () => {
  const { groups, targets, predictions, expected } = reference.regression;
  const report = regressionFairness({ column: 'region', groups, targets, predictions });
  for (const [i, want] of expected.groups.entries()) {
    close(report.groups[i]!.rmse, want.rmse, 'rmse');
    close(report.groups[i]!.mae, want.mae, 'mae');
  }
  close(report.rmseDifference, expected.rmseDifference, 'rmseDifference');
  close(report.maeDifference, expected.maeDifference, 'maeDifference');
});

test('a group without positives has no TPR and is left out of the equalized odds gap', () => {
  const report = binaryFairness({
    column: 's',
    groups: ['a', 'a', 'b', 'b'],
    labels: [1, 0, 0, 0],
    predictions: [1, 0, 1, 0],
  });
  assert.equal(report.groups[1]!.truePositiveRate, undefined);
  // TPR gap undefined (one group has a TPR), FPR gap 0.5 − 0.
  assert.equal(report.equalizedOddsDifference, 0.5);
  assert.equal(report.demographicParityDifference, 0);
  assert.equal(report.demographicParityRatio, 1);
});

test('identical groups have no gaps; multiclass reports accuracy per group', () => {
  const same = binaryFairness({
    column: 's',
    groups: ['a', 'b', 'a', 'b'],
    labels: [1, 1, 0, 0],
    predictions: [1, 1, 1, 1],
  });
  assert.equal(same.demographicParityDifference, 0);
  assert.equal(same.equalizedOddsDifference, 0);
  const multi = multiclassFairness({ column: 's', groups: ['a', 'a', 'b'], labels: [0, 2, 1], predictions: [0, 1, 1] });
  assert.deepEqual(multi.groups, [
    { group: 'a', count: 2, accuracy: 0.5 },
    { group: 'b', count: 1, accuracy: 1 },
  ]);
  assert.equal(multi.accuracyDifference, 0.5);
});
