/**
 * GBDT checkpoints: a run interrupted after a checkpoint and resumed from it ends with exactly the
 * uninterrupted run's model (subsampling, validation and early-stopping state included), and a
 * checkpoint of other data or parameters is refused with BAD_REQUEST.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { trainGbdt, type TrainGbdtOptions } from '../../../src/train/gbdt/train-gbdt.ts';
import { makeDataset } from './synthetic-data.ts';

const folder = mkdtempSync(join(tmpdir(), 'stratum-gbdt-checkpoint-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const train = makeDataset({ kind: 'binary', numRows: 1500, seed: 31 });
const validation = makeDataset({ kind: 'binary', numRows: 500, seed: 32 });
const base: TrainGbdtOptions = {
  ...train,
  objective: 'binary',
  params: {
    numTrees: 10,
    maxDepth: 4,
    rowSubsample: 0.7,
    colSubsample: 0.6,
    seed: 9,
    validation,
    earlyStoppingRounds: 50,
  },
};

/** Trains with a checkpoint every 5 rounds and "crashes" in round 7, leaving the round-5 checkpoint. */
function interruptedRun(options: TrainGbdtOptions, path: string): void {
  assert.throws(
    () =>
      trainGbdt({
        ...options,
        checkpoint: { path, everyRounds: 5 },
        onProgress: ({ round }) => {
          if (round === 7) throw new Error('simulated crash');
        },
      }),
    /simulated crash/,
  );
}

const isBadRequest =
  (message: RegExp) =>
  (error: unknown): boolean =>
    error instanceof StratumError && error.code === 'BAD_REQUEST' && message.test(error.message);

describe('resume', () => {
  for (const workers of [1, 2]) {
    test(`a resumed run equals the uninterrupted one (workers: ${workers})`, () => {
      const options = { ...base, params: { ...base.params, workers } };
      const path = join(folder, `resume-${workers}.json`);
      interruptedRun(options, path);
      const rounds: number[] = [];
      const resumed = trainGbdt({ ...options, resumeFrom: path, onProgress: ({ round }) => rounds.push(round) });
      assert.deepEqual(rounds, [6, 7, 8, 9, 10]);
      assert.equal(JSON.stringify(resumed), JSON.stringify(trainGbdt(options)));
    });
  }

  test('a checkpoint can extend a finished run to more trees', () => {
    const path = join(folder, 'extend.json');
    trainGbdt({ ...base, params: { ...base.params, numTrees: 5 }, checkpoint: { path, everyRounds: 5 } });
    assert.equal(JSON.stringify(trainGbdt({ ...base, resumeFrom: path })), JSON.stringify(trainGbdt(base)));
  });

  test('checkpoints are written atomically, leaving no temporary files', () => {
    const path = join(folder, 'atomic.json');
    trainGbdt({ ...base, checkpoint: { path, everyRounds: 2 } });
    assert.ok(existsSync(path));
    assert.deepEqual(
      readdirSync(folder).filter((name) => name.startsWith('atomic.json.')),
      [],
    );
  });
});

describe('refusal', () => {
  const path = join(folder, 'refuse.json');
  trainGbdt({ ...base, params: { ...base.params, numTrees: 2 }, checkpoint: { path, everyRounds: 1 } });

  test('other parameters', () => {
    assert.throws(
      () => trainGbdt({ ...base, params: { ...base.params, seed: 10 }, resumeFrom: path }),
      isBadRequest(/resumeFrom: .*refuse\.json was written by a run with another seed/),
    );
    assert.throws(
      () => trainGbdt({ ...base, params: { ...base.params, maxDepth: 5 }, resumeFrom: path }),
      isBadRequest(/another maxDepth/),
    );
  });

  test('other data', () => {
    const labels = train.labels.map((y, i) => (i === 100 ? 1 - y : y));
    assert.throws(() => trainGbdt({ ...base, labels, resumeFrom: path }), isBadRequest(/another labels/));
    const fewer = makeDataset({ kind: 'binary', numRows: 1400, seed: 31 });
    assert.throws(() => trainGbdt({ ...base, ...fewer, resumeFrom: path }), isBadRequest(/another numRows/));
  });

  test('a missing file, a file of another trainer, too few trees and a bad checkpoint option', () => {
    assert.throws(
      () => trainGbdt({ ...base, resumeFrom: join(folder, 'missing.json') }),
      isBadRequest(/resumeFrom: cannot read checkpoint/),
    );
    const linear = join(folder, 'linear.json');
    writeFileSync(linear, JSON.stringify({ format: 1, kind: 'linear', fingerprint: {}, state: {} }));
    assert.throws(() => trainGbdt({ ...base, resumeFrom: linear }), isBadRequest(/is not a gbdt checkpoint/));
    assert.throws(
      () => trainGbdt({ ...base, params: { ...base.params, numTrees: 1 }, resumeFrom: path }),
      isBadRequest(/the checkpoint has 2 rounds, more than params\.numTrees \(1\)/),
    );
    assert.throws(
      () => trainGbdt({ ...base, checkpoint: { path: join(folder, 'x.json'), everyRounds: 0 } }),
      isBadRequest(/checkpoint\.everyRounds must be an integer >= 1/),
    );
  });
});
