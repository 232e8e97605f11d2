/**
 * A misspelt key or value in a spec people write is answered with the nearest valid one, on every
 * schema that parses such a spec: the training spec, the feature spec, a deployment spec, a
 * model's config.json and the server configuration. Keys far from every known key are listed
 * instead; the edit distance behind the hints counts a swap of two letters as one edit.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { StratumError } from '../../src/errors/index.ts';
import { formatIssues, specErrorMap } from '../../src/errors/format-issues.ts';
import { parseFeatureSpec } from '../../src/features/feature-spec.ts';
import { DeploymentSpecSchema } from '../../src/registry/deployment-spec.ts';
import { parseModelConfig } from '../../src/serving/model-config.ts';
import { parseTrainSpec } from '../../src/train/run/train-spec.ts';
import { editDistance, nearestName } from '../../src/util/nearest-name.ts';

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof StratumError, String(error));
    return error.message;
  }
  throw new Error('expected an error');
}

const SPEC = {
  name: 'people',
  data: { source: { format: 'csv', path: 'people.csv' }, label: 'label' },
  features: { transforms: [{ column: 'age', transform: 'standardize' }] },
  model: { kind: 'gbdt', objective: 'binary' },
};

test('training spec: a misspelt key, transform, discriminator key, enum value or parameter names the nearest valid one', () => {
  const transforms = (transform: Record<string, unknown>) => ({ ...SPEC, features: { transforms: [transform] } });
  const cases: [unknown, string][] = [
    [
      { ...SPEC, data: { source: SPEC.data.source, lable: 'label' } },
      'invalid training spec: data.label: missing; expected string; data: unknown key "lable"; did you mean "label"?',
    ],
    [
      transforms({ column: 'age', transform: 'standardize', mising: 'mean' }),
      'invalid training spec: features.transforms[0]: unknown key "mising"; did you mean "missing"?',
    ],
    [
      transforms({ column: 'age', transform: 'standardise' }),
      'invalid training spec: features.transforms[0].transform: expected one of "standardize", "minmax", "impute", "onehot", "bucketize", "text", "hash", "dateparts", got "standardise"; did you mean "standardize"?',
    ],
    [
      transforms({ column: 'age', tranform: 'minmax' }),
      'invalid training spec: features.transforms[0].transform: missing (the object has "tranform"; did you mean "transform"?); expected one of "standardize", "minmax", "impute", "onehot", "bucketize", "text", "hash", "dateparts"',
    ],
    [
      transforms({ column: 'age', transform: 'standardize', missing: 'meen' }),
      'invalid training spec: features.transforms[0].missing: expected one of "error", "mean", "median", "constant", got "meen"; did you mean "mean"?',
    ],
    [
      { ...SPEC, model: { kind: 'gbdt', objective: 'binary', params: { maxDeph: 3, Seed: 1 } } },
      'invalid training spec: model.params: unknown key "maxDeph"; did you mean "maxDepth"?; unknown key "Seed"; did you mean "seed"?',
    ],
    [
      { ...SPEC, model: { kind: 'gdbt', objective: 'binary' } },
      'invalid training spec: model.kind: expected one of "mlp", "linear", "gbdt", got "gdbt"; did you mean "gbdt"?',
    ],
    [
      { ...SPEC, spilt: { validation: 0.1 } },
      'invalid training spec: (top level): unknown key "spilt"; did you mean "split"?',
    ],
    [
      { ...SPEC, extras: true },
      'invalid training spec: (top level): unknown key "extras" (known keys: name, data, split, features, model, register, card)',
    ],
  ];
  for (const [input, expected] of cases)
    assert.equal(
      messageOf(() => parseTrainSpec(input)),
      expected,
    );
});

test('a key the object already has is not suggested for another', () => {
  assert.equal(
    messageOf(() => parseTrainSpec({ ...SPEC, modle: {} })),
    'invalid training spec: (top level): unknown key "modle" (known keys: name, data, split, features, model, register, card)',
  );
});

test('the feature spec, a deployment spec, a config.json and the server configuration give the same hints', () => {
  assert.equal(
    messageOf(() => parseFeatureSpec({ transforms: [{ column: 'city', transform: 'onehot', topk: 3 }] })),
    'invalid feature spec: transforms[0]: unknown key "topk"; did you mean "topK"?',
  );
  const deployment = DeploymentSpecSchema.safeParse(
    { model: 'churn', routes: [{ version: 1, weigth: 100 }], canary: { step: [10, 100] } },
    { error: specErrorMap },
  );
  assert.ok(!deployment.success);
  assert.equal(
    formatIssues(deployment.error),
    'routes[0].weight: missing; expected number; routes[0]: unknown key "weigth"; did you mean "weight"?; canary: unknown key "step"; did you mean "steps"?',
  );
  assert.equal(
    messageOf(() =>
      parseModelConfig('{"maxBatchSize":8,"dynamicBatching":{"maxQueueDelayMicroSeconds":5}}', 'm/config.json'),
    ),
    'm/config.json: dynamicBatching: unknown key "maxQueueDelayMicroSeconds"; did you mean "maxQueueDelayMicroseconds"?',
  );
  assert.match(
    messageOf(() => loadConfig({ env: {}, overrides: { htpPort: 8080 } as never })),
    /unknown key "htpPort"; did you mean "httpPort"\?/,
  );
});

test('edit distance counts a swap of adjacent letters as one edit; hints need a close match', () => {
  assert.equal(editDistance('lable', 'label'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(nearestName('lable', ['name', 'label', 'limit']), 'label');
  assert.equal(nearestName('LABEL', ['label']), 'label', 'case is free');
  assert.equal(nearestName('sed', ['seed', 'name']), 'seed');
  assert.equal(nearestName('xyz', ['seed', 'name']), undefined);
  assert.equal(nearestName('feturez', ['features', 'format']), 'features');
});
