// The tuning spec: defaults, a training spec inline or by path, and every mistake refused with a
// BAD_REQUEST naming its path before any trial runs.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { StratumError } from '../../../src/errors/index.ts';
import { parseInlineTuneSpec, parseTuneSpec } from '../../../src/jobs/tune/tune-spec.ts';

const folder = mkdtempSync(join(tmpdir(), 'stratum-tune-spec-'));
after(() => rmSync(folder, { recursive: true, force: true }));

const TRAIN = {
  name: 'flights',
  data: { source: { format: 'csv', path: 'flights.csv' }, label: 'delay' },
  features: { transforms: [{ column: 'distance', transform: 'standardize' }] },
  model: { kind: 'gbdt', objective: 'regression', params: { numTrees: 32 } },
  register: { model: 'flights' },
};

function refused(input: unknown, pattern: RegExp): StratumError {
  let caught: unknown;
  try {
    parseInlineTuneSpec(input);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof StratumError, `expected a StratumError, got ${String(caught)}`);
  assert.equal(caught.code, 'BAD_REQUEST');
  assert.match(caught.message, pattern);
  return caught;
}

test('defaults: random search, 10 trials, one at a time, the main metric and its mode, no scheduler', () => {
  const spec = parseInlineTuneSpec({ train: TRAIN, space: { 'model.params.maxDepth': { int: [2, 6] } } });
  assert.equal(spec.name, 'flights-tune');
  assert.deepEqual(spec.searcher, { type: 'random', seed: 0, points: 3, startupTrials: 10, candidates: 24 });
  assert.equal(spec.trials, 10);
  assert.equal(spec.maxConcurrentTrials, 1);
  assert.equal(spec.metric, 'rmse');
  assert.equal(spec.mode, 'min');
  assert.equal(spec.scheduler, undefined);
  assert.equal(spec.train.register, undefined, 'trials never register');
  assert.equal(spec.train.model.kind, 'gbdt');
});

test('a searcher by name, ASHA with its maxResource from the spec, the metric mode from the metric', () => {
  const spec = parseInlineTuneSpec({
    train: { ...TRAIN, model: { ...TRAIN.model, objective: 'binary' } },
    space: { 'model.params.learningRate': { loguniform: [0.01, 0.5] } },
    searcher: 'tpe',
    metric: 'log_loss',
    scheduler: { type: 'asha', gracePeriod: 2 },
  });
  assert.equal(spec.searcher.type, 'tpe');
  assert.equal(spec.mode, 'min');
  assert.deepEqual(spec.scheduler, { type: 'asha', gracePeriod: 2, reductionFactor: 4, maxResource: 32 });
  // The parsed spec parses again unchanged (a tune job carries it).
  assert.deepEqual(parseInlineTuneSpec(JSON.parse(JSON.stringify(spec))), spec);
});

test('a path that is not a parameter of the model is refused, naming the path and the parameters', () => {
  const error = refused(
    { train: TRAIN, space: { 'model.params.depth': { int: [2, 6] } } },
    /space\.model\.params\.depth: a gbdt model has no parameter "depth"; it has numTrees, learningRate, maxDepth/,
  );
  assert.equal((error.details as { path: string }).path, 'space.model.params.depth');
  refused(
    { train: TRAIN, space: { 'split.validation': { uniform: [0.1, 0.3] } } },
    /space\.split\.validation: only the model's parameters/,
  );
});

test("a range reaching outside the trainer's range is refused with the trainer's range in words", () => {
  refused(
    { train: TRAIN, space: { 'model.params.maxDepth': { int: [0, 8] } } },
    /space\.model\.params\.maxDepth: int \[0, 8\] reaches outside the trainer's range: an integer in \[1, 30\]/,
  );
  refused(
    { train: TRAIN, space: { 'model.params.learningRate': { uniform: [0, 0.5] } } },
    /space\.model\.params\.learningRate: uniform \[0, 0\.5\] reaches outside the trainer's range: a number in \(0, 1\]/,
  );
  refused(
    { train: TRAIN, space: { 'model.params.rowSubsample': { uniform: [0.5, 1.5] } } },
    /space\.model\.params\.rowSubsample: uniform \[0\.5, 1\.5\]/,
  );
});

test('the wrong kind of distribution, bad choices and bad bounds are refused with their paths', () => {
  refused(
    { train: TRAIN, space: { 'model.params.maxDepth': { uniform: [2, 6] } } },
    /maxDepth: the parameter is an integer; use int: \[2, 6\]/,
  );
  refused(
    {
      train: { ...TRAIN, model: { kind: 'mlp', objective: 'regression' } },
      space: { 'model.params.activation': { choice: ['relu', 'gelu'] } },
    },
    /space\.model\.params\.activation\.choice\[1\]: "gelu" is not a value the trainer accepts/,
  );
  refused(
    { train: TRAIN, space: { 'model.params.learningRate': { loguniform: [0, 0.1] } } },
    /space\.model\.params\.learningRate\.loguniform: needs a low end > 0/,
  );
  refused(
    { train: TRAIN, space: { 'model.params.maxDepth': { int: [6, 2] } } },
    /space\.model\.params\.maxDepth\.int: needs \[low, high\] with low < high/,
  );
  refused({ train: TRAIN, space: { 'model.params.maxDepth': { normal: [2, 6] } } }, /space\.model\.params\.maxDepth/);
});

test('unknown keys, bad metrics, a grace period at the budget and a tuned resource under ASHA are refused', () => {
  refused({ train: TRAIN, space: { 'model.params.maxDepth': { int: [2, 6] } }, trails: 5 }, /trails/);
  refused(
    { train: TRAIN, space: { 'model.params.maxDepth': { int: [2, 6] } }, metric: 'accuracy' },
    /metric: a regression run records rmse, mae, r2; got "accuracy"/,
  );
  refused(
    { train: TRAIN, space: { 'model.params.maxDepth': { int: [2, 6] } }, scheduler: { type: 'asha', gracePeriod: 32 } },
    /scheduler\.gracePeriod: 32 must be below maxResource \(32\)/,
  );
  refused(
    { train: TRAIN, space: { 'model.params.numTrees': { int: [10, 50] } }, scheduler: { type: 'asha' } },
    /space\.model\.params\.numTrees: the ASHA scheduler owns the resource parameter/,
  );
  refused(
    {
      train: { ...TRAIN, model: { kind: 'gbdt', objective: 'regression', params: { maxDepth: 0 } } },
      space: { 'model.params.lambda': { uniform: [0, 1] } },
    },
    /train.*model\.params\.maxDepth/,
  );
  refused(
    { train: 'flights.yaml', space: { 'model.params.lambda': { uniform: [0, 1] } } },
    /train: must be the training spec itself here/,
  );
});

test('a training spec by path is read relative to the tuning spec', async () => {
  writeFileSync(join(folder, 'train.yaml'), JSON.stringify(TRAIN));
  const spec = await parseTuneSpec(
    { train: 'train.yaml', space: { 'model.params.lambda': { uniform: [0, 1] } } },
    { baseDir: folder },
  );
  assert.equal(spec.train.name, 'flights');
  await assert.rejects(
    parseTuneSpec(
      { train: 'missing.yaml', space: { 'model.params.lambda': { uniform: [0, 1] } } },
      { baseDir: folder },
    ),
    (error: unknown) =>
      error instanceof StratumError && error.code === 'NOT_FOUND' && /missing\.yaml/.test(error.message),
  );
});
