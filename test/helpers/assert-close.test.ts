/** The tolerance helper: where its limits lie, and what it refuses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertClose, isClose, toleranceLimit } from './assert-close.ts';

test('the limit is atol + rtol·|expected|, or the larger of the two with combine "max"', () => {
  assert.equal(toleranceLimit(-3, { atol: 1, rtol: 0.5 }), 2.5);
  assert.equal(toleranceLimit(-3, { atol: 1, rtol: 0.5, combine: 'max' }), 1.5);
  assert.equal(toleranceLimit(0.25, { atol: 1, rtol: 0.5, combine: 'max' }), 1);
  assert.equal(toleranceLimit(1e300, { atol: 1e-12 }), 1e-12, 'no rtol: absolute only, even at huge values');
  assert.ok(isClose(1.5, 1, { atol: 0.5 }));
  assert.ok(!isClose(1.5000001, 1, { atol: 0.5 }));
  assert.ok(!isClose(Number.NaN, Number.NaN, { atol: 1 }), 'NaN is close to nothing');
});

test('scalars: a missing value fails; arrays: lengths and non-numbers must match', () => {
  assertClose(0.1 + 0.2, 0.3, { atol: 1e-12 });
  assert.throws(() => assertClose(undefined, 0, { atol: 1 }), /expected a number/);
  assert.throws(() => assertClose(1.1, 1, { atol: 0.05, label: 'x' }), /x: 1.1 vs 1 differs by more than 0.05/);
  assertClose([1, 'a', 2n], [1.000001, 'a', 2n], { rtol: 1e-5 });
  assert.throws(() => assertClose(Float32Array.of(1, 2), [1], { atol: 1 }), /length/);
  assert.throws(() => assertClose([1, 'a'], [1, 'b'], { atol: 1, label: 'v' }), /v\[1\]/);
  assert.throws(() => assertClose([1, 5], [1, 2], { atol: 1, label: 'v' }), /v\[1\]: 5 vs 2/);
});
