import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { permutationImportance } from '../../../src/train/card/permutation-importance.ts';

// Written by test/fixtures/cards/make-fairness-fixture.py: scikit-learn's permutation_importance on
// a fixed model ŷ = 2·x0 + 0.5·x1 with R², and the permutations it drew.
const reference = JSON.parse(
  readFileSync(new URL('../../fixtures/cards/importance-reference.json', import.meta.url), 'utf8'),
) as {
  X: number[][];
  y: number[];
  permutations: number[][][];
  importancesMean: number[];
  importancesStd: number[];
  importances: number[][];
};

type Row = { x0: number; x1: number; x2: number; y: number };

function r2(rows: readonly Row[]): number {
  const mean = rows.reduce((a, r) => a + r.y, 0) / rows.length;
  let residual = 0;
  let total = 0;
  for (const r of rows) {
    residual += (r.y - (2 * r.x0 + 0.5 * r.x1)) ** 2;
    total += (r.y - mean) ** 2;
  }
  return 1 - residual / total;
}

const rows: Row[] = reference.X.map(([x0, x1, x2], i) => ({ x0: x0!, x1: x1!, x2: x2!, y: reference.y[i]! }));
const columns = ['x0', 'x1', 'x2'];

test("replaying scikit-learn's permutations gives its importances", () => {
  const result = permutationImportance({
    rows,
    columns,
    score: r2,
    repeats: 4,
    permutation: ({ columnIndex, repeat }) => reference.permutations[columnIndex]![repeat]!,
  });
  for (const [j, feature] of result.features.entries()) {
    assert.equal(feature.feature, columns[j]);
    assert.ok(Math.abs(feature.importanceMean - reference.importancesMean[j]!) < 1e-12, `${feature.feature} mean`);
    assert.ok(Math.abs(feature.importanceStd - reference.importancesStd[j]!) < 1e-12, `${feature.feature} std`);
    feature.importances.forEach((value, k) => assert.ok(Math.abs(value - reference.importances[j]![k]!) < 1e-12));
  }
});

test('properties: an unused column scores exactly 0, the strongest column ranks first, a seed repeats', () => {
  const a = permutationImportance({ rows, columns, score: r2, repeats: 6, seed: 11 });
  const b = permutationImportance({ rows, columns, score: r2, repeats: 6, seed: 11 });
  assert.deepEqual(a, b);
  assert.equal(a.baselineScore, r2(rows));
  const [x0, x1, x2] = a.features;
  assert.deepEqual(x2!.importances, [0, 0, 0, 0, 0, 0]);
  assert.equal(x2!.importanceStd, 0);
  assert.ok(x0!.importanceMean > x1!.importanceMean && x1!.importanceMean > 0);
  // A constant column cannot change the score whatever the permutation.
  const constant = rows.map((r) => ({ ...r, x0: 1 }));
  const c = permutationImportance({ rows: constant, columns: ['x0'], score: r2, repeats: 3, seed: 1 });
  assert.deepEqual(c.features[0]!.importances, [0, 0, 0]);
  // Importance is baseline − permuted: the mean of the drops, checked against scores computed here.
  const once = permutationImportance({
    rows,
    columns: ['x0'],
    score: r2,
    repeats: 1,
    permutation: () => rows.map((_, i) => rows.length - 1 - i),
  });
  const reversed = rows.map((r, i) => ({ ...r, x0: rows[rows.length - 1 - i]!.x0 }));
  assert.equal(once.features[0]!.importanceMean, r2(rows) - r2(reversed));
});
