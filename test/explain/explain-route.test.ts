/**
 * `POST /v2/models/{m}[/versions/{v}]/explain` end to end: a GBDT regressor served from a model
 * folder and pipeline models (features + GBDT or logistic regression) pushed to the registry and
 * deployed. The SHAP values must add up to what the same server's `infer` answers (through
 * onnxruntime: the value, or the log-odds of the probability), a feature no tree uses must get 0,
 * a linear pipeline's values per raw column must equal w·(x − E[x]) summed over the column's
 * features (computed here from the model's weights), and bad requests fail like infer's.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test, type TestContext } from 'node:test';
import type { FeatureRow } from '../../src/features/fit.ts';
import { featureNamesOf, type FittedFeatures } from '../../src/features/fitted-features.ts';
import { toRawColumns } from '../../src/features/raw-columns.ts';
import { transformBatch } from '../../src/features/transform.ts';
import { exportGbdtOnnx } from '../../src/train/gbdt/export-onnx.ts';
import type { GbdtModel } from '../../src/train/gbdt/gbdt-model.ts';
import { trainGbdt } from '../../src/train/gbdt/train-gbdt.ts';
import type { LinearModel } from '../../src/train/linear/linear-model.ts';
import { columnMeans } from '../../src/train/pipeline/explain-entry.ts';
import { exportPipelineModel, type PipelineModel } from '../../src/train/pipeline/export-pipeline.ts';
import { assertClose } from '../helpers/assert-close.ts';
import { api } from '../helpers/management-api.ts';
import { injectJson, type RegistryServer, startRegistryServer, startTestServer } from '../helpers/test-server.ts';
import { makeDataset } from '../train/gbdt/synthetic-data.ts';
import { tabularRows } from '../train/pipeline/tabular-data.ts';
import { trainPipeline, type TrainedPipeline } from '../train/pipeline/trained-pipeline.ts';

interface ExplainJson {
  method: string;
  explained: string;
  features: string[];
  outputs: string[];
  base_values: number[];
  shap_values: number[][][];
  code?: string;
  error?: string;
}

const ROWS = 12;
const NUM_FEATURES = 6;
/** Feature 5 is constant in training, so no tree can split on it. */
const UNUSED = 5;

let trained: TrainedPipeline;
let means: number[];
let regressor: GbdtModel;
before(async () => {
  trained = await trainPipeline({ trainRows: 1500 });
  const train = tabularRows({ count: 1500, seed: 11 });
  const { data } = transformBatch(trained.fitted, train.rows);
  means = columnMeans(data, trained.fitted.featureNames.length);
  const set = makeDataset({ kind: 'regression', numRows: 2000, seed: 3, numFeatures: NUM_FEATURES });
  for (let r = 0; r < 2000; r++) set.features[r * NUM_FEATURES + UNUSED] = 0.25;
  regressor = trainGbdt({
    features: set.features,
    numFeatures: NUM_FEATURES,
    labels: set.labels,
    objective: 'regression',
    params: { numTrees: 40, maxDepth: 4, learningRate: 0.2, seed: 1 },
  });
});

function rowSums(reply: ExplainJson): number[][] {
  return reply.shap_values.map((row) =>
    row.map((values, k) => values.reduce((sum, v) => sum + v, reply.base_values[k] as number)),
  );
}

/** Serves the regressor (and an unexplainable MLP) from a folder. */
async function folderServer(t: TestContext, model: GbdtModel) {
  return startTestServer(t, {
    fixtures: ['mlp'],
    withoutGrpc: true,
    repository: async (dir) => {
      await mkdir(join(dir, 'trees', '1'), { recursive: true });
      await writeFile(join(dir, 'trees', '1', 'model.onnx'), exportGbdtOnnx(model, { inputName: 'x' }));
    },
  });
}

function regressionRows(): number[][] {
  const set = makeDataset({ kind: 'regression', numRows: ROWS, seed: 9, numFeatures: NUM_FEATURES });
  return Array.from({ length: ROWS }, (_, r) =>
    Array.from(set.features.subarray(r * NUM_FEATURES, (r + 1) * NUM_FEATURES)),
  );
}

test('a GBDT regressor: values add up to the served prediction; an unused feature gets 0', async (t) => {
  const server = await folderServer(t, regressor);
  const rows = regressionRows();
  const body = { inputs: [{ name: 'x', datatype: 'FP32', shape: [ROWS, NUM_FEATURES], data: rows.flat() }] };
  const inferred = await injectJson(server, { url: '/v2/models/trees/infer', body });
  assert.equal(inferred.status, 200, JSON.stringify(inferred.json));
  const predictions = (inferred.json as { outputs: { data: number[] }[] }).outputs[0]?.data as number[];

  for (const url of ['/v2/models/trees/explain', '/v2/models/trees/versions/1/explain']) {
    const reply = await injectJson(server, { url, body });
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    const json = reply.json as ExplainJson;
    assert.equal(json.method, 'tree_path_dependent');
    assert.equal(json.explained, 'value');
    assert.deepEqual(json.outputs, ['predictions']);
    assert.deepEqual(
      json.features,
      Array.from({ length: NUM_FEATURES }, (_, i) => `x[${i}]`),
    );
    assert.equal(json.shap_values.length, ROWS);
    // float32 leaf sums in onnxruntime against float64 here
    assertClose(
      rowSums(json).map((row) => row[0] as number),
      predictions,
      { atol: 1e-4, rtol: 1e-5, label: 'base + Σφ' },
    );
    for (const row of json.shap_values) assert.equal(row[0]?.[UNUSED], 0);
  }
});

test('explain refuses what infer refuses, and models it cannot explain', async (t) => {
  const withoutCovers: GbdtModel = {
    ...regressor,
    trees: regressor.trees.map((round) => round.map(({ cover: _cover, ...tree }) => tree)),
  };
  const server = await folderServer(t, withoutCovers);
  const wrong = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, NUM_FEATURES - 1], data: [1, 2, 3, 4, 5] }] };
  const inferred = await injectJson(server, { url: '/v2/models/trees/infer', body: wrong });
  const explained = await injectJson(server, { url: '/v2/models/trees/explain', body: wrong });
  assert.equal(explained.status, 400);
  assert.deepEqual(explained.json, inferred.json);

  const right = { inputs: [{ name: 'x', datatype: 'FP32', shape: [1, NUM_FEATURES], data: regressionRows()[0] }] };
  const noCovers = await injectJson(server, { url: '/v2/models/trees/explain', body: right });
  assert.equal(noCovers.status, 501, JSON.stringify(noCovers.json));
  assert.match(
    (noCovers.json as ExplainJson).error ?? '',
    /model "trees" version 1 cannot be explained: its trees carry no covers/,
  );

  const mlp = await injectJson(server, {
    url: '/v2/models/mlp/explain',
    body: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array<number>(784).fill(0) }] },
  });
  assert.equal(mlp.status, 501, JSON.stringify(mlp.json));
  assert.match((mlp.json as ExplainJson).error ?? '', /model "mlp" version 1 cannot be explained/);

  const unknown = await injectJson(server, { url: '/v2/models/nope/explain', body: right });
  assert.equal(unknown.status, 404);
});

async function serve(t: TestContext, model: PipelineModel): Promise<{ server: RegistryServer; name: string }> {
  const server = await startRegistryServer(t);
  const name = `explain-${model.kind}-${randomUUID().slice(0, 8)}`;
  const bytes = exportPipelineModel({ fitted: trained.fitted, model, name, featureMeans: means });
  const pushed = await api(server, { url: `/api/v1/models/${name}/versions`, body: bytes });
  assert.equal(pushed.status, 201, JSON.stringify(pushed.json));
  assert.equal((pushed.json.metadata as Record<string, string>)['stratum.explain'], undefined);
  const deployed = await api(server, {
    url: '/api/v1/deployments',
    body: { name, routes: [{ version: 1, weight: 100 }] },
  });
  assert.equal(deployed.status, 201, JSON.stringify(deployed.json));
  await server.deployments?.sync();
  return { server, name };
}

function jsonInputs(fitted: FittedFeatures, rows: readonly FeatureRow[]): object[] {
  return toRawColumns(fitted, rows).map((column) => ({
    name: column.column,
    datatype: column.type === 'STRING' ? 'BYTES' : 'FP32',
    shape: [rows.length, 1],
    data: column.type === 'STRING' ? column.data : Array.from(column.data),
  }));
}

for (const kind of ['gbdt', 'linear'] as const) {
  test(`a ${kind} pipeline: values per raw column add up to the served log-odds`, async (t) => {
    const model = trained[kind];
    const { server, name } = await serve(t, model);
    const rows = tabularRows({ count: ROWS, seed: 21, unseen: true, complete: true }).rows;
    const body = { inputs: jsonInputs(trained.fitted, rows) };
    const inferred = await api(server, { url: `/v2/models/${name}/infer`, body });
    assert.equal(inferred.status, 200, JSON.stringify(inferred.json));
    const probabilities = (inferred.json.outputs as { name: string; data: number[] }[]).find(
      (o) => o.name === 'probabilities',
    )?.data as number[];

    const reply = await api(server, { url: `/v2/models/${name}/explain`, body });
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    const json = reply.json as unknown as ExplainJson;
    assert.equal(json.method, kind === 'gbdt' ? 'tree_path_dependent' : 'linear_interventional');
    assert.equal(json.explained, 'log_odds');
    assert.deepEqual(json.features, ['age', 'income', 'city', 'review']);
    const margins = rowSums(json).map((row) => row[0] as number);
    // Compared as probabilities: the log-odds of a float32 probability near 0 or 1 is imprecise.
    assertClose(
      margins.map((m) => 1 / (1 + Math.exp(-m))),
      rows.map((_, r) => probabilities[2 * r + 1] as number),
      { atol: 1e-5, label: 'sigmoid(base + Σφ)' },
    );
    if (kind === 'linear') assertLinearColumns({ json, rows, model: (model as { model: LinearModel }).model });
  });
}

/** φ per raw column = Σ over its features of w_i · (x_i − E[x_i]), from the model's own weights. */
function assertLinearColumns(args: { json: ExplainJson; rows: readonly FeatureRow[]; model: LinearModel }): void {
  const { json, rows, model } = args;
  const { fitted } = trained;
  const { data } = transformBatch(fitted, rows);
  const width = fitted.featureNames.length;
  const columnOf = fitted.transforms.flatMap((transform) => featureNamesOf(transform).map(() => transform.column));
  rows.forEach((_, r) => {
    const expected = json.features.map((column) => {
      let sum = 0;
      for (let i = 0; i < width; i++) {
        if (columnOf[i] !== column) continue;
        sum += (model.weights[i] as number) * ((data[r * width + i] as number) - (means[i] as number));
      }
      return sum;
    });
    assertClose(json.shap_values[r]?.[0] as number[], expected, { atol: 1e-5, rtol: 1e-5, label: `row ${r}` });
  });
}
