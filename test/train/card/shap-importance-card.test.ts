/**
 * The card's mean |SHAP| per column: a trained GBDT and a trained linear model carry it, and its
 * values are those of the served version's explain route (features computed by onnxruntime from
 * the raw columns) on the same held-out rows, reproduced here from the file and the split seed.
 * An MLP, which has no exact explainer, carries none, and `card.shap: false` turns it off.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shapImportance } from '../../../src/explain/shap-importance.ts';
import { toRawColumns } from '../../../src/features/raw-columns.ts';
import type { TrainSpecInput } from '../../../src/train/run/train-spec.ts';
import { assertClose } from '../../helpers/assert-close.ts';
import { api } from '../../helpers/management-api.ts';
import { startRegistryServer } from '../../helpers/test-server.ts';
import { cardSpec, heldOutRows, trainInto, writeCardData } from './card-model.ts';

const MODELS: Record<'gbdt' | 'linear', { spec: TrainSpecInput['model']; method: string }> = {
  gbdt: {
    spec: { kind: 'gbdt', objective: 'binary', params: { numTrees: 30, maxDepth: 3, seed: 1 } },
    method: 'tree_path_dependent',
  },
  linear: {
    spec: { kind: 'linear', objective: 'binary', params: { epochs: 20, seed: 4 } },
    method: 'linear_interventional',
  },
};

for (const kind of ['gbdt', 'linear'] as const) {
  test(`a trained ${kind} model's card has mean |SHAP| per column equal to the explain route's on the held-out rows`, async (t) => {
    const server = await startRegistryServer(t);
    const path = writeCardData(server.dir);
    const maxRows = 120;
    const result = await trainInto(
      t,
      server,
      cardSpec(path, { model: MODELS[kind].spec, card: { sensitive: 'group', shap: { maxRows } } }),
    );
    const reply = await api(server, { url: '/api/v1/models/credit/versions/1/card' });
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    const shap = reply.json.shapImportance;
    assert.equal(shap.method, MODELS[kind].method);
    assert.equal(shap.explained, 'log_odds');
    assert.equal(shap.rows, maxRows);
    assert.deepEqual(result.card.shapImportance, shap);
    // The label ignores `noise`: it matters least.
    assert.deepEqual(
      shap.features.map((f: { feature: string }) => f.feature),
      ['income', 'debt', 'noise'],
    );

    const deployed = await api(server, {
      url: '/api/v1/deployments',
      body: { name: 'credit', routes: [{ version: 1, weight: 100 }] },
    });
    assert.equal(deployed.status, 201, JSON.stringify(deployed.json));
    await server.deployments?.sync();
    const rows = heldOutRows(path).slice(0, maxRows);
    const inputs = toRawColumns(result.fitted, rows).map((column) => ({
      name: column.column,
      datatype: 'FP32',
      shape: [rows.length, 1],
      data: Array.from(column.data as ArrayLike<number>),
    }));
    const explained = await api(server, { url: '/v2/models/credit/explain', body: { inputs } });
    assert.equal(explained.status, 200, JSON.stringify(explained.json));
    const direct = shapImportance(explained.json as never);
    assert.deepEqual(
      shap.features.map((f: { feature: string }) => f.feature),
      direct.map((f) => f.feature),
    );
    assertClose(
      shap.features.map((f: { meanAbsShap: number }) => f.meanAbsShap),
      direct.map((f) => f.meanAbsShap),
      { atol: 1e-9, rtol: 1e-5, label: 'mean |SHAP|' },
    );
  });
}

test('an MLP has no SHAP importance in its card, and card.shap: false leaves it out', async (t) => {
  const server = await startRegistryServer(t);
  const path = writeCardData(server.dir, 300);
  const mlp = await trainInto(
    t,
    server,
    cardSpec(path, {
      model: { kind: 'mlp', objective: 'binary', params: { hiddenLayers: [4], epochs: 2, seed: 1 } },
      card: { importance: false },
    }),
  );
  assert.equal(mlp.card.shapImportance, undefined);
  const off = await trainInto(
    t,
    server,
    cardSpec(path, { model: MODELS.gbdt.spec, card: { importance: false, shap: false } }),
  );
  assert.equal(off.card.shapImportance, undefined);
});
