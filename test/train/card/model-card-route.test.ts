/**
 * The model card end to end: a DP-SGD run with a declared sensitive column registers a version,
 * and `GET /api/v1/models/{m}/versions/{v}/card` answers its data, metrics, intended use,
 * fairness per group, permutation importance and the privacy spent; bad input is refused with
 * what was wrong named.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FIXTURES } from '../../../src/onnx/fixtures.ts';
import { StratumError } from '../../../src/errors/index.ts';
import { dpSgdEpsilon } from '../../../src/train/privacy/rdp-accountant.ts';
import { parseTrainSpec } from '../../../src/train/run/train-spec.ts';
import { api } from '../../helpers/management-api.ts';
import { startRegistryServer } from '../../helpers/test-server.ts';
import { cardSpec, trainInto, writeCardData } from './card-model.ts';

test('a trained version has a card with data, metrics, intended use, fairness, importance and privacy', async (t) => {
  const server = await startRegistryServer(t);
  const path = writeCardData(server.dir);
  const result = await trainInto(t, server, cardSpec(path));
  assert.equal(result.version?.version, 1);

  const reply = await api(server, { url: '/api/v1/models/credit/versions/1/card' });
  assert.equal(reply.status, 200, JSON.stringify(reply.json));
  const card = reply.json;
  assert.equal(card.format, 'stratum.model-card/v1');
  assert.equal(card.intendedUse, 'Ranking applications for manual review; not for automatic refusal.');
  assert.equal(card.limitations, 'Trained on synthetic data.');
  assert.deepEqual(card.metrics, result.version?.metrics);
  assert.ok(card.metrics.accuracy > 0.8, `accuracy ${card.metrics.accuracy}`);

  // Data: the dataset version with every column read, the sensitive one included.
  assert.equal(card.data.rows, 800);
  assert.equal(card.data.datasetVersion, result.run.datasetVersion);
  assert.deepEqual(card.data.columns.map((c: { name: string }) => c.name).sort(), [
    'debt',
    'group',
    'income',
    'label',
    'noise',
  ]);
  assert.deepEqual(card.training.inputs, ['income', 'debt', 'noise']);
  assert.equal(card.training.runId, result.run.id);
  const { trainRows, validationRows } = card.training.split;
  assert.equal(trainRows + validationRows, 800);

  // Fairness: one report for `group`, its groups covering the held-out rows, gaps consistent with them.
  assert.equal(card.fairness.length, 1);
  const fairness = card.fairness[0];
  assert.equal(fairness.column, 'group');
  assert.deepEqual(
    fairness.groups.map((g: { group: string }) => g.group),
    ['a', 'b'],
  );
  assert.equal(fairness.groups[0].count + fairness.groups[1].count, validationRows);
  const [a, b] = fairness.groups;
  assert.ok(a.selectionRate > b.selectionRate, 'the lower-income group is selected less often');
  assert.equal(fairness.demographicParityDifference, a.selectionRate - b.selectionRate);
  assert.equal(fairness.demographicParityRatio, b.selectionRate / a.selectionRate);
  assert.equal(
    fairness.equalizedOddsDifference,
    Math.max(Math.abs(a.truePositiveRate - b.truePositiveRate), Math.abs(a.falsePositiveRate - b.falsePositiveRate)),
  );

  // Importance: per raw input, the label's strongest input first, the ignored one near zero.
  const importance = card.importance;
  assert.equal(importance.method, 'permutation');
  assert.equal(importance.metric, 'accuracy');
  assert.equal(importance.baselineScore, card.metrics.accuracy);
  assert.deepEqual(importance.features.map((f: { feature: string }) => f.feature).slice(0, 2), ['income', 'debt']);
  const noise = importance.features.find((f: { feature: string }) => f.feature === 'noise');
  assert.ok(Math.abs(noise.importanceMean) < importance.features[0].importanceMean / 5);
  assert.equal(card.shapImportance.method, 'linear_interventional');
  assert.equal(card.shapImportance.features[0].feature, 'income');

  // Privacy: the accountant's ε for the steps run, also recorded with the run.
  const steps = 6 * Math.ceil(trainRows / 50);
  assert.equal(card.privacy.steps, steps);
  assert.equal(card.privacy.samplingRate, 50 / trainRows);
  const expected = dpSgdEpsilon({ samplingRate: 50 / trainRows, noiseMultiplier: 1.2, steps, delta: 1e-5 });
  assert.equal(card.privacy.epsilon, expected.epsilon);
  assert.equal(result.run.metrics['privacy.epsilon'], expected.epsilon);
  assert.deepEqual(card.notes, []);

  // The document lists the route under registry:read.
  const doc = await api(server, { url: '/api/v1/openapi.json' });
  assert.ok(doc.json.paths['/api/v1/models/{model}/versions/{version}/card'].get);
});

test('a version pushed as a file has a card of what is known; missing models and versions are 404s naming them', async (t) => {
  const server = await startRegistryServer(t);
  const pushed = await api(server, { url: '/api/v1/models/plain/versions', body: FIXTURES.mlp.build() });
  assert.equal(pushed.status, 201, JSON.stringify(pushed.json));
  const card = await api(server, { url: '/api/v1/models/plain/versions/1/card' });
  assert.equal(card.status, 200);
  assert.deepEqual(card.json.fairness, []);
  assert.equal(card.json.training, undefined);
  assert.match(card.json.notes[0], /no training run is recorded/);

  const noVersion = await api(server, { url: '/api/v1/models/plain/versions/9/card' });
  assert.equal(noVersion.status, 404);
  assert.equal(noVersion.json.code, 'VERSION_NOT_FOUND');
  assert.match(noVersion.json.error, /version 9 of model "plain"/);
  const noModel = await api(server, { url: '/api/v1/models/nothing/versions/1/card' });
  assert.equal(noModel.status, 404);
  assert.equal(noModel.json.code, 'MODEL_NOT_FOUND');
  assert.match(noModel.json.error, /model "nothing"/);
});

test('bad card and privacy input is refused naming the field or column', async (t) => {
  const server = await startRegistryServer(t);
  const path = writeCardData(server.dir, 100);
  const refused = (fn: () => unknown, pattern: RegExp): void =>
    assert.throws(fn, (e: unknown) => e instanceof StratumError && e.code === 'BAD_REQUEST' && pattern.test(e.message));

  refused(
    () =>
      parseTrainSpec(
        cardSpec(path, {
          model: { kind: 'gbdt', objective: 'binary', params: { privacy: { noiseMultiplier: 1 } } as never },
        }),
      ),
    /^invalid training spec: model\.params\.privacy: differentially private training \(DP-SGD\) is available for linear and mlp models, not gbdt$/,
  );
  refused(
    () =>
      parseTrainSpec(
        cardSpec(path, {
          model: {
            kind: 'linear',
            objective: 'binary',
            params: { optimizer: 'lbfgs', privacy: { noiseMultiplier: 1 } },
          },
        }),
      ),
    /model\.params\.privacy: DP-SGD needs model\.params\.optimizer 'adam' or 'sgd', not 'lbfgs'/,
  );
  refused(
    () =>
      parseTrainSpec(
        cardSpec(path, { model: { kind: 'mlp', objective: 'binary', params: { privacy: { noiseMultiplier: 0 } } } }),
      ),
    /model\.params\.privacy\.noiseMultiplier/,
  );
  refused(
    () => parseTrainSpec(cardSpec(path, { card: { sensitive: ['label'] } })),
    /card\.sensitive\[0\]: the label column "label" cannot be a sensitive column/,
  );

  // A sensitive column the data lacks: the run fails naming it and why it is read, and nothing is registered.
  await assert.rejects(
    trainInto(t, server, cardSpec(path, { card: { sensitive: ['gender'] } })),
    (e: unknown) =>
      e instanceof StratumError &&
      e.code === 'BAD_REQUEST' &&
      /credit\.csv: line 2: no column "gender" \(card\.sensitive names it, for the fairness report\)/.test(e.message),
  );
  const versions = await api(server, { url: '/api/v1/models/credit/versions' });
  assert.ok(versions.status === 404 || versions.json.items.length === 0);
});
