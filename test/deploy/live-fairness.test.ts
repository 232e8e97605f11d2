/**
 * Live fairness end to end: a classifier trained with a declared sensitive column (`group`, also a
 * model input) is deployed with the inference log on, the held-out rows are sent as multi-row
 * requests and labelled through `POST /api/v1/feedback`, and the quality endpoint and the
 * `stratum_live_fairness` gauges must give the fairness report that src/monitor/fairness.ts
 * computes offline from the same rows' served predictions and labels — and, the rows being the
 * held-out split, the card's own report. A version without a sensitive column gets none, and a
 * redacted (`drop`) sensitive column gives no report rather than a wrong one.
 */
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { toRawColumns } from '../../src/features/raw-columns.ts';
import { binaryFairness, groupOf } from '../../src/monitor/fairness.ts';
import type { TrainingResult } from '../../src/train/run/run-training.ts';
import type { TrainSpecInput } from '../../src/train/run/train-spec.ts';
import { assertClose } from '../helpers/assert-close.ts';
import { api } from '../helpers/management-api.ts';
import { injectJson, type RegistryServer, startRegistryServer } from '../helpers/test-server.ts';
import { cardSpec, heldOutRows, trainInto, writeCardData } from '../train/card/card-model.ts';

const ROWS_PER_REQUEST = 10;

interface QualityJson {
  versions: {
    version: string;
    labelled: number;
    metrics: { accuracy: number };
    fairness?: {
      column: string;
      task: string;
      groups: { group: string; count: number; selectionRate: number; accuracy: number }[];
      demographicParityDifference: number;
      demographicParityRatio: number;
      equalizedOddsDifference: number;
      accuracyDifference: number;
    }[];
  }[];
}

/** A logistic regression reading `group` (one-hot) beside the numeric columns. */
function spec(path: string, card: TrainSpecInput['card']): TrainSpecInput {
  const base = cardSpec(path);
  return {
    ...base,
    features: {
      transforms: [...(base.features.transforms as object[]), { column: 'group', transform: 'onehot' }],
    } as TrainSpecInput['features'],
    model: { kind: 'linear', objective: 'binary', params: { epochs: 30, seed: 4 } },
    card,
  };
}

function classIndex(result: TrainingResult, row: Record<string, string | number>): number {
  const index = result.card.classes.indexOf(row['label'] as string);
  assert.ok(index >= 0);
  return index;
}

async function deployed(
  t: TestContext,
  inferenceLog: object,
  card: TrainSpecInput['card'],
): Promise<{ server: RegistryServer; path: string; result: TrainingResult }> {
  const server = await startRegistryServer(t, {
    overrides: { inferenceLog: { flushIntervalMs: 20, ...inferenceLog } },
  });
  const path = writeCardData(server.dir);
  const result = await trainInto(t, server, spec(path, card));
  const reply = await api(server, {
    url: '/api/v1/deployments',
    body: { name: 'credit', routes: [{ version: 1, weight: 100 }] },
  });
  assert.equal(reply.status, 201, JSON.stringify(reply.json));
  await server.deployments?.sync();
  return { server, path, result };
}

/**
 * Sends the rows in requests of ROWS_PER_REQUEST and labels each request by feedback (the served
 * `label` output is the class index, so labels are too); the served classes.
 */
async function serveAndLabel(
  server: RegistryServer,
  result: TrainingResult,
  rows: Record<string, string | number>[],
): Promise<number[]> {
  const predicted: number[] = [];
  const items: { request_id: string; label: number[] }[] = [];
  for (let start = 0; start < rows.length; start += ROWS_PER_REQUEST) {
    const batch = rows.slice(start, start + ROWS_PER_REQUEST);
    const inputs = toRawColumns(result.fitted, batch).map((column) => ({
      name: column.column,
      datatype: column.type === 'STRING' ? 'BYTES' : 'FP32',
      shape: [batch.length, 1],
      data: Array.from(column.data as ArrayLike<unknown>),
    }));
    const reply = await api(server, { url: '/v2/models/credit/infer', body: { inputs } });
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    const label = (reply.json.outputs as { name: string; data: number[] }[]).find((o) => o.name === 'label');
    assert.ok(label !== undefined && label.data.length === batch.length);
    predicted.push(...label.data);
    items.push({ request_id: reply.json.id as string, label: batch.map((row) => classIndex(result, row)) });
  }
  const feedback = await api(server, { url: '/api/v1/feedback', body: { items } });
  assert.equal(feedback.status, 200, JSON.stringify(feedback.json));
  assert.equal(feedback.json.accepted, items.length, JSON.stringify(feedback.json));
  return predicted;
}

test('live fairness from feedback equals the offline report on the same rows, in the reply and the gauges', async (t) => {
  const { server, path, result } = await deployed(t, { sampleRate: 1 }, { sensitive: 'group', importance: false });
  const rows = heldOutRows(path);
  const predicted = await serveAndLabel(server, result, rows);

  // The positive class is the second (`positive: approve` in the spec).
  assert.equal(result.card.classes[1], 'approve');
  const offline = binaryFairness({
    column: 'group',
    groups: rows.map((row) => groupOf(row['group'])),
    labels: rows.map((row) => classIndex(result, row)),
    predictions: predicted,
  });
  const quality = await api(server, { url: '/api/v1/deployments/credit/quality' });
  assert.equal(quality.status, 200, JSON.stringify(quality.json));
  const [version] = (quality.json as unknown as QualityJson).versions;
  assert.equal(version?.labelled, Math.ceil(rows.length / ROWS_PER_REQUEST));
  assert.deepEqual(version?.fairness, [offline]);
  const live = version.fairness[0];
  assert.ok(live !== undefined);
  assert.deepEqual(
    live.groups.map((g) => g.group),
    ['a', 'b'],
  );
  assert.ok(live.demographicParityDifference > 0, 'the lower-income group is selected less often');

  // The rows are the held-out split, so the card's report (the trainer's predictions) is the same.
  const card = result.card.fairness[0];
  assert.ok(card !== undefined);
  assert.deepEqual(
    card.groups.map((g) => g.count),
    live.groups.map((g) => g.count),
  );
  assertClose(
    [card.demographicParityDifference ?? Number.NaN, card.equalizedOddsDifference ?? Number.NaN],
    [live.demographicParityDifference, live.equalizedOddsDifference],
    { atol: 1 / rows.length + 1e-12, label: 'card vs live gaps' },
  );

  const metrics = await injectJson(server, { url: '/metrics' });
  const text = metrics.raw.toString('utf8');
  for (const [measure, value] of [
    ['demographic_parity_difference', live.demographicParityDifference],
    ['demographic_parity_ratio', live.demographicParityRatio],
    ['equalized_odds_difference', live.equalizedOddsDifference],
    ['accuracy_difference', live.accuracyDifference],
  ] as const) {
    const line = text
      .split('\n')
      .find((l: string) =>
        l.startsWith(`stratum_live_fairness{deployment="credit",version="1",column="group",measure="${measure}"} `),
      );
    assert.ok(line !== undefined, `${measure} gauge:\n${text}`);
    assertClose(Number(line.split(' ').pop()), value, { rtol: 1e-12, label: measure });
  }
});

test('no report without a declared sensitive column, and none from a dropped one', async (t) => {
  const none = await deployed(t, { sampleRate: 1 }, { importance: false });
  await serveAndLabel(none.server, none.result, heldOutRows(none.path).slice(0, 30));
  const plain = await api(none.server, { url: '/api/v1/deployments/credit/quality' });
  const [version] = (plain.json as unknown as QualityJson).versions;
  assert.equal(version?.labelled, 3);
  assert.equal(version?.fairness, undefined);

  const dropped = await deployed(
    t,
    { sampleRate: 1, redact: { group: 'drop' } },
    { sensitive: 'group', importance: false },
  );
  await serveAndLabel(dropped.server, dropped.result, heldOutRows(dropped.path).slice(0, 30));
  const quality = await api(dropped.server, { url: '/api/v1/deployments/credit/quality' });
  const [redacted] = (quality.json as unknown as QualityJson).versions;
  assert.equal(redacted?.labelled, 3);
  assert.deepEqual(redacted?.fairness, []);
});
