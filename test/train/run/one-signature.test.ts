/**
 * Every trainer exports the same signature for an objective, so retraining with another algorithm
 * never changes what a deployment's clients see: classifiers answer `label` (INT64 `[N]`) and
 * `probabilities` (FP32 `[N, K]`) with their class names in the model's metadata, regressors
 * `predictions` (FP32 `[N, 1]`). The signature a spec implies before any data is read
 * (`expectedSignature`, what the pre-training check uses) fits every one of them.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { fitFeatures } from '../../../src/features/fit.ts';
import type { FittedFeatures } from '../../../src/features/fitted-features.ts';
import { parseFeatureSpec } from '../../../src/features/feature-spec.ts';
import { toRawColumns } from '../../../src/features/raw-columns.ts';
import { transformBatch } from '../../../src/features/transform.ts';
import { signatureFromGraph } from '../../../src/onnx/graph-signature.ts';
import { readModelMetadata } from '../../../src/onnx/model-metadata.ts';
import { signatureDifferences } from '../../../src/registry/signature-diff.ts';
import type { TrainingObjective } from '../../../src/train/common/objective.ts';
import { trainGbdt } from '../../../src/train/gbdt/train-gbdt.ts';
import { trainLinear } from '../../../src/train/linear/train-linear.ts';
import { trainMlp } from '../../../src/train/mlp/train-mlp.ts';
import { exportPipelineModel, type PipelineModel } from '../../../src/train/pipeline/export-pipeline.ts';
import { expectedSignature } from '../../../src/train/run/expected-signature.ts';
import { PIPELINE_SPEC, tabularRows } from '../pipeline/tabular-data.ts';

const ROWS = 600;
const KINDS = ['linear', 'mlp', 'gbdt'] as const;
const OBJECTIVES: readonly TrainingObjective[] = ['binary', 'multiclass', 'regression'];
const CLASSES: Record<TrainingObjective, readonly string[]> = {
  binary: ['bad', 'good'],
  multiclass: ['low', 'mid', 'high'],
  regression: [],
};

let fitted: FittedFeatures;
let features: Float32Array;
const labels: Record<TrainingObjective, Float32Array> = {
  binary: new Float32Array(),
  multiclass: new Float32Array(),
  regression: new Float32Array(),
};

before(async () => {
  const data = tabularRows({ count: ROWS, seed: 3 });
  fitted = await fitFeatures(PIPELINE_SPEC, data.rows);
  features = transformBatch(fitted, data.rows).data;
  labels.binary = data.labels;
  // Three classes and a number, both derived from the rows so the models have something to learn.
  labels.multiclass = Float32Array.from(data.rows, (row, i) =>
    data.labels[i] === 1 ? 2 : row['city'] === 'paris' ? 1 : 0,
  );
  labels.regression = Float32Array.from(data.rows, (_, i) => (data.labels[i] as number) * 3 + (i % 5) / 10);
});

function train(kind: (typeof KINDS)[number], objective: TrainingObjective): PipelineModel {
  const common = {
    features,
    numFeatures: fitted.featureNames.length,
    labels: labels[objective],
    objective,
    ...(objective === 'multiclass' && { numClasses: CLASSES.multiclass.length }),
  };
  if (kind === 'linear') {
    return { kind, model: trainLinear({ ...common, params: { optimizer: 'lbfgs', epochs: 5, seed: 1 } }) };
  }
  if (kind === 'mlp') {
    return { kind, model: trainMlp({ ...common, params: { hiddenLayers: [8], epochs: 2, seed: 1 } }).model };
  }
  return { kind, model: trainGbdt({ ...common, params: { numTrees: 3, maxDepth: 2, seed: 1 } }) };
}

for (const objective of OBJECTIVES) {
  describe(`${objective}: linear, MLP and GBDT`, () => {
    test('export one signature, which the spec-derived signature fits, with the class names in the metadata', () => {
      const classes = CLASSES[objective];
      const exported = KINDS.map((kind) => {
        const bytes = exportPipelineModel({
          fitted,
          model: train(kind, objective),
          ...(classes.length > 0 && { classes }),
        });
        const metadata = readModelMetadata(bytes);
        assert.equal(metadata['stratum.model'], kind);
        if (classes.length > 0) assert.deepEqual(JSON.parse(metadata['stratum.classes'] ?? 'null'), classes, kind);
        else assert.equal(metadata['stratum.classes'], undefined, `${kind}: a regressor has no classes`);
        return { kind, signature: signatureFromGraph(bytes) };
      });
      const [first, ...others] = exported;
      assert.ok(first);
      for (const other of others) {
        assert.deepEqual(other.signature, first.signature, `${other.kind} answers like ${first.kind}`);
      }
      const width = objective === 'regression' ? 1 : classes.length;
      assert.deepEqual(
        first.signature.outputs,
        objective === 'regression'
          ? [{ name: 'predictions', datatype: 'FP32', shape: [-1, 1] }]
          : [
              { name: 'label', datatype: 'INT64', shape: [-1] },
              { name: 'probabilities', datatype: 'FP32', shape: [-1, width] },
            ],
      );
      const expected = expectedSignature({
        features: parseFeatureSpec(PIPELINE_SPEC),
        model: { kind: 'linear', objective } as never,
      });
      assert.deepEqual(signatureDifferences(expected, first.signature), [], 'what the check assumes fits the model');
      assert.deepEqual(signatureDifferences(first.signature, expected), []);
      if (objective !== 'multiclass') assert.deepEqual(expected, first.signature, 'known exactly before training');
    });
  });
}

test('every classifier labels each row with its most probable class (batch 1 and batch > 1)', async (t) => {
  const rows = tabularRows({ count: 32, seed: 8, unseen: true }).rows;
  for (const kind of KINDS) {
    const session = await ort.InferenceSession.create(
      exportPipelineModel({ fitted, model: train(kind, 'multiclass'), classes: CLASSES.multiclass }),
    );
    t.after(() => session.release());
    const run = async (part: typeof rows) => {
      const feeds: Record<string, ort.Tensor> = {};
      for (const column of toRawColumns(fitted, part)) {
        feeds[column.column] = new ort.Tensor(column.type === 'STRING' ? 'string' : 'float32', column.data, [
          part.length,
          1,
        ]);
      }
      const outputs = await session.run(feeds);
      return {
        labels: Array.from(outputs['label']?.data as BigInt64Array, Number),
        probabilities: outputs['probabilities']?.data as Float32Array,
      };
    };
    const batched = await run(rows);
    batched.labels.forEach((label, i) => {
      const row = [...batched.probabilities.subarray(3 * i, 3 * i + 3)];
      assert.equal(label, row.indexOf(Math.max(...row)), `${kind} row ${i}`);
    });
    for (const i of [0, 7, 31]) {
      assert.deepEqual(
        (await run([rows[i] as (typeof rows)[number]])).labels,
        [batched.labels[i]],
        `${kind} row ${i} alone`,
      );
    }
  }
});

test('the spec-derived inputs are the raw columns as the graph takes them: FP32, FP64 for dates, BYTES for strings', () => {
  const signature = expectedSignature({
    features: parseFeatureSpec({
      transforms: [
        { column: 'when', transform: 'dateparts', parts: ['month'], encoding: 'cyclical' },
        { column: 'when', transform: 'standardize', name: 'when_scaled' },
        { column: 'distance', transform: 'standardize' },
        { column: 'origin', transform: 'onehot' },
      ],
    }),
    model: { kind: 'gbdt', objective: 'binary' } as never,
  });
  assert.deepEqual(signature.inputs, [
    { name: 'when', datatype: 'FP64', shape: [-1, 1] },
    { name: 'distance', datatype: 'FP32', shape: [-1, 1] },
    { name: 'origin', datatype: 'BYTES', shape: [-1, 1] },
  ]);
});
