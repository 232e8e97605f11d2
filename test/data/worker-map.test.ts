/**
 * `Dataset.mapInWorkers`: the same elements in the same order as `map`, bounded read-ahead,
 * errors naming the function and the element (a worker gone without replying included), and
 * worker threads gone after every ending (counted from /proc/self/status, so a leaked thread
 * fails the test).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fromArray } from '../../src/data/array-source.ts';
import { Dataset } from '../../src/data/dataset.ts';
import { StratumError } from '../../src/errors/index.ts';
import { BASELINE_THREADS, osThreads, threadsEnded } from '../helpers/os-threads.ts';
import * as functions from './map-functions.ts';

const module = new URL('./map-functions.ts', import.meta.url);

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function isError(code: string, ...patterns: RegExp[]): (error: unknown) => boolean {
  return (error) => {
    if (!(error instanceof StratumError) || error.code !== code) return false;
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
  };
}

test('equals the sequential map on thousands of elements, whatever the concurrency and chunk size', async () => {
  const items = range(5000).map((i) => (i * 7919) % 5000);
  const expected = await fromArray(items).map(functions.describe).toArray();
  const actual = await fromArray(items)
    .mapInWorkers<ReturnType<typeof functions.describe>>({ module, export: 'describe', concurrency: 2, chunkSize: 64 })
    .toArray();
  assert.deepEqual(actual, expected);
  // Uneven work, so workers finish out of order; the module named by a path rather than a URL.
  const spins = range(600).map((seed) => ({ seed, rounds: 2000 + (seed % 13) * 4000 }));
  assert.deepEqual(
    await fromArray(spins)
      .mapInWorkers({ module: module.pathname, export: 'spin', concurrency: 3, chunkSize: 5 })
      .toArray(),
    spins.map(functions.spin),
  );
  assert.deepEqual(await fromArray<number>([]).mapInWorkers({ module, export: 'describe' }).toArray(), []);
});

test('reads at most concurrency × 2 chunks ahead of the consumer', async () => {
  let pulled = 0;
  const source = new Dataset(async function* () {
    for (let i = 0; i < 10_000; i++) {
      pulled++;
      yield i;
    }
  });
  const mapped = source.mapInWorkers<{ item: number }>({ module, export: 'describe', concurrency: 2, chunkSize: 10 });
  const iterator = mapped[Symbol.asyncIterator]();
  let consumed = 0;
  try {
    for (; consumed < 200; consumed++) {
      const next = await iterator.next();
      assert.equal(next.value?.item, consumed);
      assert.ok(pulled - consumed <= 2 * 2 * 10, `${pulled} pulled for ${consumed + 1} consumed`);
    }
  } finally {
    await iterator.return?.();
  }
  assert.ok(pulled < 10_000);
});

test('an error names the module, the export and the element, after the elements before it', async () => {
  const seen: number[] = [];
  await assert.rejects(
    fromArray(range(5000))
      .mapInWorkers<number>({ module, export: 'failAt1234', chunkSize: 16 })
      .forEach((value) => {
        seen.push(value);
      }),
    isError('INTERNAL', /^mapInWorkers map-functions\.ts#failAt1234: element 1234: cannot handle 1234$/),
  );
  assert.deepEqual(seen, range(1234));
  await assert.rejects(
    fromArray([1, 2, -3]).mapInWorkers({ module, export: 'rejectNegative', concurrency: 1 }).toArray(),
    isError('BAD_REQUEST', /#rejectNegative: element 2: negative value -3/),
  );
  await assert.rejects(
    fromArray([1]).mapInWorkers({ module, export: 'notAFunction', concurrency: 1 }).toArray(),
    isError(
      'BAD_REQUEST',
      /cannot load the function: the module exports no function "notAFunction" \(functions: .*spin/,
    ),
  );
  await assert.rejects(
    fromArray([1])
      .mapInWorkers({ module: new URL('./no-such-module.ts', import.meta.url), export: 'f', concurrency: 1 })
      .toArray(),
    isError('BAD_REQUEST', /mapInWorkers no-such-module\.ts#f: cannot load the function/),
  );
  await assert.rejects(
    fromArray([{ f: 1 }])
      .mapInWorkers({ module, export: 'returnsFunction', concurrency: 1 })
      .toArray(),
    isError('INTERNAL', /#returnsFunction: a result of the elements from index 0 cannot be sent back/),
  );
  await assert.rejects(
    fromArray([1, () => 2])
      .mapInWorkers({ module, export: 'describe', concurrency: 1 })
      .toArray(),
    isError('BAD_REQUEST', /#describe: the elements from index 0 cannot be sent to a worker/),
  );
  assert.throws(
    () => fromArray([1]).mapInWorkers({ module, export: 'describe', concurrency: 0 }),
    isError('BAD_REQUEST', /mapInWorkers concurrency: expected an integer >= 1, got 0/),
  );
});

test('workers are terminated when the iteration completes, is left early or fails; none start for nothing', async () => {
  await threadsEnded();
  await fromArray(range(3000)).mapInWorkers({ module, export: 'describe', concurrency: 3 }).toArray();
  await threadsEnded();

  const mapped = fromArray(range(3000)).mapInWorkers({ module, export: 'describe', concurrency: 3 });
  const iterator = mapped[Symbol.asyncIterator]();
  await iterator.next();
  assert.ok(osThreads() > BASELINE_THREADS, 'the workers should be running mid-iteration');
  await iterator.return?.();
  await threadsEnded();

  assert.equal((await fromArray(range(3000)).mapInWorkers({ module, export: 'describe' }).take(3).toArray()).length, 3);
  await threadsEnded();

  await assert.rejects(fromArray(range(3000)).mapInWorkers({ module, export: 'failAt1234' }).toArray());
  await threadsEnded();

  // Threads start with the first chunk: an empty source starts none (a worker's thread exists
  // from its construction on, so one started would be counted here).
  const idle = osThreads();
  const empty = fromArray<number>([]).mapInWorkers({ module, export: 'describe' })[Symbol.asyncIterator]();
  assert.equal((await empty.next()).done, true);
  assert.equal(osThreads(), idle);
});

test('a worker exiting while it holds a chunk fails that chunk, named, after the elements before it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-worker-map-'));
  try {
    // A thread's process.exit() ends that thread only: the worker is gone without replying.
    const path = join(dir, 'exit-at.mjs');
    await writeFile(path, 'export function exitAt70(item) {\n  if (item === 70) process.exit(3);\n  return item;\n}\n');
    await threadsEnded();
    const seen: number[] = [];
    await assert.rejects(
      fromArray(range(500))
        .mapInWorkers<number>({ module: path, export: 'exitAt70', concurrency: 1, chunkSize: 16 })
        .forEach((value) => {
          seen.push(value);
        }),
      isError(
        'INTERNAL',
        /^mapInWorkers exit-at\.mjs#exitAt70: elements 64 to 79: worker 0 exited with code 3 before replying$/,
      ),
    );
    assert.deepEqual(seen, range(64));
    await threadsEnded();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
