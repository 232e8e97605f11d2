import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareOutputs } from '../../src/deploy/output-comparison.ts';
import type { InferResponse } from '../../src/serving/types.ts';

function response(data: number[], shape = [2, 3]): InferResponse {
  return {
    modelName: 'm',
    modelVersion: '1',
    outputs: [{ name: 'logits', datatype: 'FP32', shape, data: Float32Array.from(data), binary: false }],
  };
}

test('classifier outputs agree when every row picks the same class, even if scores differ', () => {
  const result = compareOutputs(response([0.1, 0.9, 0.0, 3, 1, 2]), response([0.2, 0.7, 0.1, 5, 1, 2]));
  assert.equal(result.agree, true);
  assert.ok(Math.abs(result.maxAbsDiff - 2) < 1e-6);
});

test('a row that picks another class is a disagreement', () => {
  assert.equal(compareOutputs(response([0.1, 0.9, 0, 3, 1, 2]), response([0.1, 0.9, 0, 1, 3, 2])).agree, false);
});

test('non-classifier outputs must match within tolerance', () => {
  const a = response([1, 2, 3], [3, 1]);
  assert.equal(compareOutputs(a, response([1, 2, 3.00001], [3, 1])).agree, true);
  assert.equal(compareOutputs(a, response([1, 2, 3.1], [3, 1])).agree, false);
});

test('a missing output or another shape is a disagreement', () => {
  assert.equal(compareOutputs(response([1, 2, 3, 4, 5, 6]), response([1, 2, 3, 4, 5, 6], [3, 2])).agree, false);
  assert.equal(
    compareOutputs(response([1, 2, 3, 4, 5, 6]), { modelName: 'm', modelVersion: '2', outputs: [] }).agree,
    false,
  );
});
