// A tuner stops any trainer after a step: trainModel's onStep returning true ends GBDT, MLP and
// linear training there (what ASHA's stop does to a trial), with that many steps recorded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { trainModel } from '../../../src/train/run/train-model.ts';
import { parseTrainSpec } from '../../../src/train/run/train-spec.ts';
import { xor } from '../../train/mlp/nonlinear-data.ts';

const data = xor({ rows: 400, seed: 3 });
const labels = Float32Array.from(data.labels);
const split = {
  train: { features: data.features.subarray(0, 600), labels: labels.subarray(0, 300) },
  validation: { features: data.features.subarray(600), labels: labels.subarray(300) },
};

function model(kind: 'gbdt' | 'mlp' | 'linear', params: Record<string, unknown>) {
  return parseTrainSpec({
    name: 'stop',
    data: { source: { format: 'csv', path: 'x.csv' }, label: 'y' },
    features: { transforms: [{ column: 'a', transform: 'standardize' }] },
    model: { kind, objective: 'binary', params },
  }).model;
}

for (const [kind, params] of [
  ['gbdt', { numTrees: 20, maxDepth: 2 }],
  ['mlp', { epochs: 20, hiddenLayers: [8], batchSize: 64 }],
  ['linear', { epochs: 20, batchSize: 64 }],
] as const) {
  test(`${kind}: onStep returning true stops training after that step`, () => {
    const steps: number[] = [];
    const trained = trainModel({
      model: model(kind, params),
      numFeatures: 2,
      numClasses: 2,
      ...split,
      onStep: (step) => {
        steps.push(step.step);
        assert.ok(step.validationLoss !== undefined, 'a held-out loss every step');
        return step.step === 4;
      },
    });
    assert.deepEqual(steps, [1, 2, 3, 4]);
    assert.equal(trained.steps, 4);
    // Other return values (a pushed length, undefined) never stop training.
    const all: number[] = [];
    trainModel({
      model: model(kind, params),
      numFeatures: 2,
      numClasses: 2,
      ...split,
      onStep: (s) => all.push(s.step),
    });
    assert.equal(all.length, 20);
  });
}
