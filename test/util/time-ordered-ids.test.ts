/** UUIDv7 ids for logged requests: the layout RFC 9562 gives, the clock in front, no repeats. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTimeOrderedIds } from '../../src/util/time-ordered-ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The 48-bit Unix milliseconds of a UUIDv7. */
const millisOf = (id: string): number => Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16);

test('ids carry version 7, the RFC variant and the clock reading in their first 48 bits', () => {
  const readings = [0, 1, 0x0123_4567_89ab, Date.UTC(2026, 11, 5, 18, 0, 0, 123), 2 ** 48 - 1];
  let i = 0;
  const next = createTimeOrderedIds(() => readings[i++] as number);
  for (const reading of readings) {
    const id = next();
    assert.match(id, UUID_V7);
    assert.equal(millisOf(id), reading);
  }
});

test('ids sort in the order of their milliseconds and never repeat within one', () => {
  let now = 1_700_000_000_000;
  const next = createTimeOrderedIds(() => now);
  const ids: string[] = [];
  // Enough ids to refill the random pool several times, several per millisecond.
  for (let i = 0; i < 5000; i++) {
    if (i % 7 === 0) now += 1;
    ids.push(next());
  }
  assert.equal(new Set(ids).size, ids.length);
  // Sorted as strings (as an index sorts them), they come in the order of their milliseconds.
  const sorted = [...ids].sort();
  for (let i = 1; i < sorted.length; i++)
    assert.ok(millisOf(sorted[i - 1] as string) <= millisOf(sorted[i] as string), `${sorted[i - 1]} ≤ ${sorted[i]}`);
  // The random part is random: every variant nibble shows up.
  assert.deepEqual(new Set(ids.map((id) => id.charAt(19))), new Set(['8', '9', 'a', 'b']));
});

test('the default clock is the wall clock', () => {
  const before = Date.now();
  const id = createTimeOrderedIds()();
  assert.ok(millisOf(id) >= before && millisOf(id) <= Date.now());
});
