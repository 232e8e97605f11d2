/** The shards' row order: rows dealt round-robin, and sampled input rows mapped to ascending positions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interleavedRowOrder, positionsOf, reorderRows } from '../../../src/train/gbdt/row-order.ts';

test('rows are dealt round-robin and the two maps invert each other', () => {
  const order = interleavedRowOrder(7, 3);
  assert.deepEqual(Array.from(order.original), [0, 3, 6, 1, 4, 2, 5]);
  order.original.forEach((row, p) => assert.equal(order.position[row], p));
  assert.deepEqual(Array.from(interleavedRowOrder(4, 1).original), [0, 1, 2, 3]);
});

test('reorderRows moves whole rows and positionsOf ascends', () => {
  const order = interleavedRowOrder(5, 2);
  const source = Float32Array.from([0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]);
  const target = new Float32Array(10);
  reorderRows({ order, source, target, width: 2 });
  assert.deepEqual(Array.from(target), [0, 0.5, 2, 2.5, 4, 4.5, 1, 1.5, 3, 3.5]);
  assert.deepEqual(Array.from(positionsOf(order, Uint32Array.from([1, 2, 4]))), [1, 2, 3]);
});
