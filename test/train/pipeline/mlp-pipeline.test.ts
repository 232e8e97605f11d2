/**
 * Features + MLP as one ONNX graph from raw columns to probabilities: onnxruntime-node agrees with
 * predictPipeline within 1e-5 on held-out rows with missing numbers, unseen categories and text,
 * at batch 1 and batch > 1; the outputs are named like the linear pipeline's; name clashes with
 * the MLP's values are refused.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { fitFeatures, type FeatureRow } from '../../../src/features/fit.ts';
import type { FittedFeatures } from '../../../src/features/fitted-features.ts';
import { toRawColumns } from '../../../src/features/raw-columns.ts';
import { transformBatch } from '../../../src/features/transform.ts';
import { decodeModel } from '../../../src/onnx/onnx-proto.ts';
import type { MlpModel } from '../../../src/train/mlp/mlp-model.ts';
import { trainMlp } from '../../../src/train/mlp/train-mlp.ts';
import {
  exportPipelineModel,
  predictPipeline,
  type PipelineModel,
} from '../../../src/train/pipeline/export-pipeline.ts';
import { PIPELINE_SPEC, tabularRows } from './tabular-data.ts';

const TOLERANCE = 1e-5;
const EVAL_ROWS = 2000;

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

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

let fitted: FittedFeatures;
let model: PipelineModel;
let mlp: MlpModel;
before(async () => {
  const train = tabularRows({ count: 4000, seed: 11 });
  fitted = await fitFeatures(PIPELINE_SPEC, train.rows);
  const { data: features, dims } = transformBatch(fitted, train.rows);
  mlp = trainMlp({
    features,
    numFeatures: dims[1],
    labels: train.labels,
    objective: 'binary',
    params: { hiddenLayers: [32, 16], dropout: 0.1, learningRate: 0.003, l2: 1e-4, epochs: 8, batchSize: 64, seed: 5 },
  }).model;
  model = { kind: 'mlp', model: mlp };
});

test('onnxruntime on raw columns matches predictPipeline within 1e-5 on 2,000 held-out rows', async (t) => {
  const bytes = exportPipelineModel({ fitted, model });
  const session = await ort.InferenceSession.create(bytes);
  t.after(() => session.release());
  assert.deepEqual([...session.inputNames].sort(), fitted.inputs.map((input) => input.column).sort());
  assert.deepEqual(session.outputNames, ['label', 'probabilities'], 'named like the linear and tree pipelines');
  const { metadata_props: metadata } = decodeModel(bytes);
  assert.deepEqual(
    metadata.filter((entry) => entry.key === 'stratum.model').map((entry) => entry.value),
    ['mlp'],
  );

  const evaluation = tabularRows({ count: EVAL_ROWS, seed: 12, unseen: true });
  const reference = predictPipeline({ fitted, model, rows: evaluation.rows });
  assert.equal(reference.name, 'probabilities');
  assert.deepEqual(reference.shape, [EVAL_ROWS, 2]);
  const probabilities = (await session.run(feeds(fitted, evaluation.rows))).probabilities;
  assert.ok(probabilities);
  assert.deepEqual(probabilities.dims, [EVAL_ROWS, 2]);
  const diff = maxAbsDiff(probabilities.data as Float32Array, reference.outputs);
  let correct = 0;
  evaluation.labels.forEach((label, i) => {
    if (((reference.outputs[2 * i + 1] as number) > 0.5 ? 1 : 0) === label) correct++;
  });
  const accuracy = correct / EVAL_ROWS;
  t.diagnostic(`mlp: ${EVAL_ROWS} rows, max |onnx − ts| ${diff}, held-out accuracy ${accuracy.toFixed(3)}`);
  assert.ok(diff <= TOLERANCE, `max |onnx − ts| ${diff} > ${TOLERANCE}`);
  assert.ok(accuracy > 0.75, `held-out accuracy ${accuracy} is not well above chance`);
});

test('batch 1 equals the same rows in a batch', async (t) => {
  const session = await ort.InferenceSession.create(exportPipelineModel({ fitted, model }));
  t.after(() => session.release());
  const { rows } = tabularRows({ count: 16, seed: 13, unseen: true });
  const batched = (await session.run(feeds(fitted, rows))).probabilities?.data as Float32Array;
  for (const [i, row] of rows.entries()) {
    const single = (await session.run(feeds(fitted, [row]))).probabilities?.data as Float32Array;
    assert.ok(maxAbsDiff(single, batched.subarray(2 * i, 2 * i + 2)) <= TOLERANCE, `row ${i}`);
  }
});

test('a feature output named like an MLP value, or a model of another width, is refused', () => {
  const clash = { ...fitted, output: 'mlp.layer1.linear' };
  assert.throws(() => exportPipelineModel({ fitted: clash, model }), {
    code: 'BAD_REQUEST',
    message: /"mlp\.layer1\.linear" is a value name of the mlp graph/,
  });
  const [first, ...rest] = mlp.layers;
  assert.ok(first);
  const narrow: PipelineModel = {
    kind: 'mlp',
    model: { ...mlp, numFeatures: 3, layers: [{ ...first, inputSize: 3 }, ...rest] },
  };
  assert.throws(() => predictPipeline({ fitted, model: narrow, rows: [] }), {
    code: 'BAD_REQUEST',
    message: new RegExp(`expected numFeatures ${fitted.featureNames.length}`),
  });
});
