import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyPosition, pickRoute } from '../../src/deploy/weighted-router.ts';

const routes = [
  { version: 1, weight: 70 },
  { version: 2, weight: 30 },
];

test('keys spread over [0, 100) so that weights become shares of users', () => {
  const counts = new Map<number, number>();
  for (let i = 0; i < 20_000; i++) {
    const v = pickRoute(routes, keyPosition(`user-${i}`)).version;
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const share = (counts.get(2) ?? 0) / 20_000;
  assert.ok(Math.abs(share - 0.3) < 0.02, `version 2 got ${(share * 100).toFixed(1)}% of users, expected 30%`);
});

test('a key always lands on the same version', () => {
  for (let i = 0; i < 100; i++) {
    const key = `session-${i * 7919}`;
    assert.equal(pickRoute(routes, keyPosition(key)).version, pickRoute(routes, keyPosition(key)).version);
  }
});

test('moving weight between two routes only re-assigns the keys in the moved range', () => {
  const after = [
    { version: 1, weight: 60 },
    { version: 2, weight: 40 },
  ];
  let moved = 0;
  for (let i = 0; i < 10_000; i++) {
    const position = keyPosition(`k${i}`);
    const a = pickRoute(routes, position).version;
    const b = pickRoute(after, position).version;
    if (a !== b) {
      moved++;
      assert.equal(a, 1, 'only users of the shrinking route move');
    }
  }
  assert.ok(moved > 700 && moved < 1300, `about 10% of users move, got ${moved / 100}%`);
});

test('a zero-weight route never receives traffic, even at the top edge', () => {
  const routes0 = [
    { version: 1, weight: 100 },
    { version: 2, weight: 0 },
  ];
  assert.equal(pickRoute(routes0, 99.9999).version, 1);
  assert.equal(pickRoute(routes0, 0).version, 1);
});
