/**
 * TreeSHAP and linear SHAP against the `shap` package on small committed models
 * (fixtures/make-shap-fixtures.py writes the values shap computed), plus the properties that
 * define them: Σφ + base = the model's margin, an unused feature gets 0, symmetric features get
 * equal values.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { linearShap } from '../../src/explain/linear-shap.ts';
import type { ExplainEnsemble, ExplainTree } from '../../src/explain/tree-ensemble.ts';
import { expectedValue, treeShap } from '../../src/explain/tree-shap.ts';
import { assertClose } from '../helpers/assert-close.ts';

interface TreeFixture {
  name: string;
  numFeatures: number;
  numOutputs: number;
  base: number[];
  trees: {
    feature: number[];
    threshold: number[];
    left: number[];
    right: number[];
    value: number[][];
    cover: number[];
  }[];
  rows: number[][];
  expectedValue: number[];
  shapValues: number[][][];
}

interface LinearFixture {
  name: string;
  numFeatures: number;
  numOutputs: number;
  weights: number[];
  bias: number[];
  means: number[];
  rows: number[][];
  expectedValue: number[];
  shapValues: number[][][];
}

const fixtures = JSON.parse(readFileSync(new URL('./fixtures/shap-fixtures.json', import.meta.url), 'utf8')) as {
  trees: TreeFixture[];
  linear: LinearFixture[];
};

/** A tree from plain arrays (`<=` goes left, NaN right, as Stratum's GBDT). */
export function explainTree(tree: {
  feature: readonly number[];
  threshold: readonly number[];
  left: readonly number[];
  right: readonly number[];
  value: readonly (readonly number[])[];
  cover: readonly number[];
}): ExplainTree {
  const n = tree.feature.length;
  return {
    feature: Int32Array.from(tree.feature),
    threshold: Float32Array.from(tree.threshold),
    mode: new Uint8Array(n),
    yes: Int32Array.from(tree.left),
    no: Int32Array.from(tree.right),
    missingYes: new Uint8Array(n),
    cover: Float64Array.from(tree.cover),
    value: Float64Array.from(tree.value.flat()),
  };
}

function ensembleOf(fixture: TreeFixture): ExplainEnsemble {
  return {
    trees: fixture.trees.map(explainTree),
    numOutputs: fixture.numOutputs,
    numFeatures: fixture.numFeatures,
    base: fixture.base,
  };
}

/** The margin by walking each tree, computed apart from TreeSHAP. */
function margin(fixture: TreeFixture, row: readonly number[]): number[] {
  const out = [...fixture.base];
  for (const tree of fixture.trees) {
    let n = 0;
    while ((tree.feature[n] as number) >= 0) {
      const x = Math.fround(row[tree.feature[n] as number] as number);
      n = (x <= (tree.threshold[n] as number) ? tree.left[n] : tree.right[n]) as number;
    }
    (tree.value[n] as number[]).forEach((v, k) => (out[k] = (out[k] as number) + v));
  }
  return out;
}

for (const fixture of fixtures.trees) {
  test(`TreeSHAP equals shap.TreeExplainer: ${fixture.name}`, () => {
    const ensemble = ensembleOf(fixture);
    const { values, base } = treeShap(ensemble, Float32Array.from(fixture.rows.flat()));
    assertClose(base, fixture.expectedValue, { atol: 1e-9, rtol: 1e-9, label: 'expected value' });
    assertClose(values, fixture.shapValues.flat(2), { atol: 1e-9, rtol: 1e-7, label: 'shap values' });
  });

  test(`TreeSHAP values add up to the margin: ${fixture.name}`, () => {
    const ensemble = ensembleOf(fixture);
    const { values, base } = treeShap(ensemble, Float32Array.from(fixture.rows.flat()));
    const { numOutputs: k, numFeatures: f } = fixture;
    fixture.rows.forEach((row, r) => {
      const expected = margin(fixture, row);
      for (let o = 0; o < k; o++) {
        let sum = base[o] as number;
        for (let i = 0; i < f; i++) sum += values[(r * k + o) * f + i] as number;
        assertClose(sum, expected[o] as number, { atol: 1e-9, label: `row ${r} output ${o}` });
      }
    });
  });
}

test('a feature no tree splits on gets exactly 0', () => {
  const hand = fixtures.trees.find((fixture) => fixture.name === 'hand') as TreeFixture;
  const { values } = treeShap(ensembleOf(hand), Float32Array.from(hand.rows.flat()));
  for (let r = 0; r < hand.rows.length; r++) assert.equal(values[r * 3 + 2], 0);
});

test('symmetric features get equal values', () => {
  // f = 1 when x0 > 0 and x1 > 0 (an AND), covers symmetric: both features must share equally.
  const and = explainTree({
    feature: [0, -1, 1, -1, -1],
    threshold: [0, 0, 0, 0, 0],
    left: [1, -1, 3, -1, -1],
    right: [2, -1, 4, -1, -1],
    value: [[0], [0], [0], [0], [1]],
    cover: [4, 2, 2, 1, 1],
  });
  const ensemble: ExplainEnsemble = { trees: [and], numOutputs: 1, numFeatures: 2, base: [0] };
  const { values, base } = treeShap(ensemble, Float32Array.of(1, 1));
  assert.deepEqual(base, [0.25]);
  assertClose(values[0] as number, 0.375, { atol: 1e-12 });
  assertClose(values[1] as number, 0.375, { atol: 1e-12 });
  assert.deepEqual(expectedValue(ensemble), [0.25]);
});

for (const fixture of fixtures.linear) {
  test(`linear SHAP equals shap.LinearExplainer: ${fixture.name}`, () => {
    const { values, base } = linearShap(
      {
        weights: Float64Array.from(fixture.weights),
        bias: fixture.bias,
        means: fixture.means,
        numFeatures: fixture.numFeatures,
        numOutputs: fixture.numOutputs,
      },
      Float32Array.from(fixture.rows.flat()),
    );
    assertClose(base, fixture.expectedValue, { atol: 1e-9, rtol: 1e-9, label: 'expected value' });
    // The rows go through float32, as a served model's inputs do.
    assertClose(values, fixture.shapValues.flat(2), { atol: 1e-6, rtol: 1e-6, label: 'shap values' });
  });
}
