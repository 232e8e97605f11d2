/** Global importance: mean |SHAP| per column over rows, classes summed, largest first. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shapImportance } from '../../src/explain/shap-importance.ts';

test('mean absolute SHAP per feature, largest first, classes summed', () => {
  const importance = shapImportance({
    features: ['a', 'b', 'c'],
    shap_values: [
      [
        [1, -2, 0],
        [0.5, 0, 0],
      ],
      [
        [-3, 2, 0],
        [0.5, 0, 0],
      ],
    ],
  });
  assert.deepEqual(importance, [
    { feature: 'a', meanAbsShap: 2.5 },
    { feature: 'b', meanAbsShap: 2 },
    { feature: 'c', meanAbsShap: 0 },
  ]);
});

test('no rows: every feature 0, in order', () => {
  assert.deepEqual(shapImportance({ features: ['x', 'y'], shap_values: [] }), [
    { feature: 'x', meanAbsShap: 0 },
    { feature: 'y', meanAbsShap: 0 },
  ]);
});
