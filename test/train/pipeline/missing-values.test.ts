/**
 * Missing values from training to serving: a value the spec fills (`missing: mean`, an impute
 * transform) is filled in the exported graph exactly as the trainer filled it, so onnxruntime and
 * predictPipeline agree on rows with missing values; a row missing a value the spec does not fill
 * (`missing: error`, the default) gets no prediction from either — NaN outputs, label -1 —
 * whatever the model (a tree would route the NaN down a branch, a ReLU would make it 0).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { FeatureSpecInput } from '../../../src/features/feature-spec.ts';
import { fitFeatures, type FeatureRow } from '../../../src/features/fit.ts';
import type { FittedFeatures } from '../../../src/features/fitted-features.ts';
import { toRawColumns } from '../../../src/features/raw-columns.ts';
import { transformBatch } from '../../../src/features/transform.ts';
import { trainGbdt } from '../../../src/train/gbdt/train-gbdt.ts';
import { trainLinear } from '../../../src/train/linear/train-linear.ts';
import { trainMlp } from '../../../src/train/mlp/train-mlp.ts';
import {
  exportPipelineModel,
  predictPipeline,
  type PipelineModel,
} from '../../../src/train/pipeline/export-pipeline.ts';
import { tabularRows } from './tabular-data.ts';

const TOLERANCE = 1e-5;

/** `age` refuses missing values (the default); `income` is filled with its mean; one more imputed copy of income. */
const SPEC: FeatureSpecInput = {
  transforms: [
    { column: 'age', transform: 'standardize' },
    { column: 'income', transform: 'standardize', missing: 'mean' },
    { column: 'income', transform: 'impute', name: 'income_raw', strategy: 'median', indicator: true },
    { column: 'city', transform: 'onehot', topK: 6 },
  ],
};

const hasAge = (row: FeatureRow): boolean => typeof row['age'] === 'number' && !Number.isNaN(row['age']);

function feeds(fitted: FittedFeatures, rows: readonly FeatureRow[]): Record<string, ort.Tensor> {
  const result: Record<string, ort.Tensor> = {};
  for (const column of toRawColumns(fitted, rows)) {
    result[column.column] =
      column.type === 'STRING'
        ? new ort.Tensor('string', column.data, [rows.length, 1])
        : new ort.Tensor('float32', column.data, [rows.length, 1]);
  }
  return result;
}

let fitted: FittedFeatures;
const models: Record<string, PipelineModel> = {};
/** Held-out rows: some miss age, some miss income, some both. */
let rows: FeatureRow[];

before(async () => {
  const all = tabularRows({ count: 3000, seed: 31 });
  const keep = all.rows.map(hasAge);
  const train = all.rows.filter((_, i) => keep[i]);
  const labels = all.labels.filter((_, i) => keep[i]);
  fitted = await fitFeatures(SPEC, train);
  const { data: features, dims } = transformBatch(fitted, train);
  const common = { features, numFeatures: dims[1], labels };
  models['linear'] = {
    kind: 'linear',
    model: trainLinear({ ...common, objective: 'binary', params: { optimizer: 'lbfgs', epochs: 50, seed: 1 } }),
  };
  models['mlp'] = {
    kind: 'mlp',
    model: trainMlp({ ...common, objective: 'binary', params: { hiddenLayers: [8], epochs: 3, seed: 1 } }).model,
  };
  models['gbdt'] = {
    kind: 'gbdt',
    model: trainGbdt({ ...common, objective: 'binary', params: { numTrees: 10, maxDepth: 3, seed: 1 } }),
  };
  models['gbdt regression'] = {
    kind: 'gbdt',
    model: trainGbdt({ ...common, objective: 'regression', params: { numTrees: 5, maxDepth: 3, seed: 1 } }),
  };
  rows = tabularRows({ count: 400, seed: 32, unseen: true }).rows;
  rows.push({ age: Number.NaN, income: 20_000, city: 'paris' }, { age: 35, city: 'paris' });
});

test('the fit refuses the rows missing age and fills income with its mean', async () => {
  assert.ok(rows.some((row) => !hasAge(row)) && rows.some((row) => row['income'] === undefined));
  await assert.rejects(
    fitFeatures(SPEC, tabularRows({ count: 300, seed: 31 }).rows),
    /transforms\[0\]\.missing: column "age" has no value in training row \d+/,
  );
  const income = fitted.transforms[1];
  assert.ok(income?.transform === 'standardize');
  assert.equal(income.fill, income.mean, 'missing: mean fills with the fitted mean');
});

for (const kind of ['linear', 'mlp', 'gbdt', 'gbdt regression']) {
  describe(`${kind}: onnxruntime equals predictPipeline on rows with missing values`, () => {
    test('filled values give the same predictions; a row missing age gives NaN (and label -1)', async (t) => {
      const model = models[kind] as PipelineModel;
      const session = await ort.InferenceSession.create(exportPipelineModel({ fitted, model }));
      t.after(() => session.release());
      const reference = predictPipeline({ fitted, model, rows });
      const result = await session.run(feeds(fitted, rows));
      const outputs = result[reference.name]?.data;
      assert.ok(outputs instanceof Float32Array, `output ${reference.name}`);
      const width = reference.shape[1];
      let maxDiff = 0;
      for (const [i, row] of rows.entries()) {
        for (let j = i * width; j < (i + 1) * width; j++) {
          const a = reference.outputs[j] as number;
          const b = outputs[j] as number;
          assert.equal(Number.isNaN(a), !hasAge(row), `reference row ${i}: NaN exactly when age is missing`);
          assert.equal(Number.isNaN(b), !hasAge(row), `onnx row ${i}: NaN exactly when age is missing`);
          if (hasAge(row)) maxDiff = Math.max(maxDiff, Math.abs(a - b));
        }
      }
      t.diagnostic(`max |diff| ${maxDiff} over ${rows.filter(hasAge).length} rows with age`);
      assert.ok(maxDiff <= TOLERANCE, `max |diff| ${maxDiff}`);
      if (reference.labels !== undefined) {
        const labels = result['label']?.data;
        assert.ok(labels instanceof BigInt64Array);
        assert.deepEqual(Array.from(labels, Number), Array.from(reference.labels));
        rows.forEach((row, i) => assert.equal(labels[i] === -1n, !hasAge(row), `label of row ${i}`));
      }
    });
  });
}
