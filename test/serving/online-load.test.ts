/**
 * The online load counter background work waits on: a wait resolves once the count is at most the
 * limit (at once when it already is), a second end of one request counts once, and an aborted
 * wait rejects with its reason and is forgotten.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOnlineLoad } from '../../src/serving/online-load.ts';

/** Whether `promise` has settled, after the microtasks queued so far ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise<void>((resolve) => setImmediate(resolve));
  return done;
}

test('a wait for room resolves once the online requests in flight are at most the limit', async () => {
  const load = createOnlineLoad();
  await load.whenAtMost(0);
  const endA = load.begin();
  const endB = load.begin();
  assert.equal(load.inFlight, 2);
  const atMostOne = load.whenAtMost(1);
  const atMostZero = load.whenAtMost(0);
  assert.equal(await settled(atMostOne), false);
  endA();
  endA(); // ending twice counts once
  assert.equal(load.inFlight, 1);
  assert.equal(await settled(atMostOne), true);
  assert.equal(await settled(atMostZero), false);
  endB();
  await atMostZero;
  assert.equal(load.inFlight, 0);
});

test('an aborted wait rejects with the signal reason', async () => {
  const load = createOnlineLoad();
  const end = load.begin();
  const controller = new AbortController();
  const waiting = load.whenAtMost(0, controller.signal);
  controller.abort(new Error('closing'));
  await assert.rejects(waiting, /closing/);
  await assert.rejects(load.whenAtMost(0, controller.signal), /closing/);
  end();
});
