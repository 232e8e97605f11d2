// The radix sort gives exactly what the built-in sort gives, negatives, zeros and ties included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sortNumbers } from '../../src/drift/sort-numbers.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';

test('sortNumbers equals Float64Array.prototype.sort', () => {
  const random = mulberry32(3);
  for (const n of [0, 1, 10, 4096, 50_000]) {
    const values = Float64Array.from({ length: n }, (_, i) => {
      const kind = i % 7;
      if (kind === 0) return Math.round(random() * 10) - 5; // ties around zero
      if (kind === 1) return -0;
      if (kind === 2) return (random() - 0.5) * 1e300;
      if (kind === 3) return (random() - 0.5) * 1e-300;
      return (random() - 0.5) * 1000;
    });
    const expected = Float64Array.from(values).sort();
    const actual = sortNumbers(Float64Array.from(values));
    assert.equal(actual.length, expected.length);
    for (let i = 0; i < n; i++)
      assert.ok(Object.is(actual[i], expected[i]), `n=${n} at ${i}: ${actual[i]} vs ${expected[i]}`);
  }
});

test('a view into a larger buffer is sorted in place, leaving the rest alone', () => {
  const buffer = Float64Array.from({ length: 10_000 }, (_, i) => 10_000 - i);
  const view = buffer.subarray(1000, 9000);
  sortNumbers(view);
  assert.equal(view[0], 1001);
  assert.equal(view[7999], 9000);
  assert.equal(buffer[0], 10_000);
  assert.equal(buffer[9999], 1);
});
