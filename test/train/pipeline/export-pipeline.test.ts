/**
 * Parity: one ONNX graph from raw columns to probabilities and labels (features + logistic
 * regression or GBDT) run by onnxruntime-node agrees with predictPipeline within 1e-5 on held-out
 * rows with missing numbers, unseen categories and text, at batch 1 and batch > 1; the models learn.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as ort from 'onnxruntime-node';
import type { FeatureRow } from '../../../src/features/fit.ts';
import type { FittedFeatures } from '../../../src/features/fitted-features.ts';
import { toRawColumns } from '../../../src/features/raw-columns.ts';
import { decodeModel } from '../../../src/onnx/onnx-proto.ts';
import {
  exportPipelineModel,
  predictPipeline,
  type PipelineModel,
} from '../../../src/train/pipeline/export-pipeline.ts';
import { tabularRows } from './tabular-data.ts';
import { trainPipeline, type TrainedPipeline } from './trained-pipeline.ts';

const TOLERANCE = 1e-5;
const TRAIN_ROWS = 4000;
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

function accuracy(probabilities: Float32Array, labels: Float32Array): number {
  let correct = 0;
  labels.forEach((label, i) => {
    if (((probabilities[2 * i + 1] as number) > 0.5 ? 1 : 0) === label) correct++;
  });
  return correct / labels.length;
}

let trained: TrainedPipeline;
before(async () => {
  trained = await trainPipeline({ trainRows: TRAIN_ROWS });
});

for (const kind of ['linear', 'gbdt'] as const) {
  describe(`${kind} pipeline`, () => {
    const model = (): PipelineModel => trained[kind];

    test('onnxruntime on raw columns matches predictPipeline within 1e-5 on 2,000 held-out rows', async (t) => {
      const { fitted } = trained;
      const session = await ort.InferenceSession.create(exportPipelineModel({ fitted, model: model() }));
      t.after(() => session.release());
      assert.deepEqual(
        [...session.inputNames].sort(),
        fitted.inputs.map((input) => input.column).sort(),
        'the graph takes the raw columns',
      );
      const evaluation = tabularRows({ count: EVAL_ROWS, seed: 12, unseen: true });
      const reference = predictPipeline({ fitted, model: model(), rows: evaluation.rows });
      const results = await session.run(feeds(fitted, evaluation.rows));
      const probabilities = results.probabilities;
      assert.ok(probabilities);
      assert.deepEqual(probabilities.dims, [EVAL_ROWS, 2]);
      assert.deepEqual(reference.shape, [EVAL_ROWS, 2]);
      const diff = maxAbsDiff(probabilities.data as Float32Array, reference.outputs);
      const acc = accuracy(reference.outputs, evaluation.labels);
      t.diagnostic(`${kind}: ${EVAL_ROWS} rows, max |onnx − ts| ${diff}, held-out accuracy ${acc.toFixed(3)}`);
      assert.ok(diff <= TOLERANCE, `max |onnx − ts| ${diff} > ${TOLERANCE}`);
      assert.ok(acc > 0.75, `held-out accuracy ${acc} is not well above chance`);
      // Every classifier answers a label, whatever trained it.
      assert.ok(reference.labels);
      const labels = Array.from(results.label?.data as BigInt64Array, Number);
      assert.equal(labels.length, EVAL_ROWS);
      labels.forEach((label, i) => {
        const p = reference.outputs[2 * i + 1] as number;
        // labels may differ only where the probabilities tie within float32 noise
        if (label !== reference.labels?.[i]) assert.ok(Math.abs(p - 0.5) < 1e-5, `row ${i}: label ${label}, p ${p}`);
      });
    });

    test('batch 1 equals the same rows in a batch', async (t) => {
      const { fitted } = trained;
      const session = await ort.InferenceSession.create(exportPipelineModel({ fitted, model: model() }));
      t.after(() => session.release());
      const { rows } = tabularRows({ count: 16, seed: 13, unseen: true });
      const batched = (await session.run(feeds(fitted, rows))).probabilities?.data as Float32Array;
      for (const [i, row] of rows.entries()) {
        const single = (await session.run(feeds(fitted, [row]))).probabilities?.data as Float32Array;
        assert.ok(maxAbsDiff(single, batched.subarray(2 * i, 2 * i + 2)) <= TOLERANCE, `row ${i}`);
      }
    });

    test('imports exactly the opset domains its nodes use', () => {
      const { fitted } = trained;
      const { opset_import: opsets } = decodeModel(exportPipelineModel({ fitted, model: model() }));
      assert.deepEqual(
        opsets.map((opset) => `${opset.domain}:${opset.version}`),
        [':17', 'ai.onnx.ml:3', 'com.microsoft:1'],
      );
    });
  });
}

test('a model trained on another width is rejected with the expected width', () => {
  const { fitted, linear } = trained;
  assert.equal(linear.kind, 'linear');
  const wrong: PipelineModel = { kind: 'linear', model: { ...linear.model, numFeatures: 3 } };
  assert.throws(() => exportPipelineModel({ fitted, model: wrong }), {
    code: 'BAD_REQUEST',
    message: new RegExp(`expected numFeatures ${fitted.featureNames.length}`),
  });
  assert.throws(() => predictPipeline({ fitted, model: wrong, rows: [] }), { code: 'BAD_REQUEST' });
});
