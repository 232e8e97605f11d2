/**
 * The whole loop in one running server, nobody in it: live traffic drifts → the scheduled drift
 * report sets the drift gauge → an alert rule fires → its action starts the retraining pipeline →
 * ingest picks the newest file → train → evaluate against production on the held-out set → the
 * gate → candidate → canary on live traffic → promotion. And the variant where the newest data is
 * bad: the candidate loses at the gate and is never rolled out.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { DASHBOARD_DIR } from '../../src/api/http/dashboard-assets.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { api } from '../helpers/management-api.ts';
import { type RegistryServer, startRegistryServer } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { openBrowserPage } from '../helpers/browser.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- API replies as JSON, read field by field
type Json = Record<string, any>;

/** The loop's steps take many turns of training and serving: a generous bound on a hung run, not a target. */
const LIMIT = { limitMs: 600_000, everyMs: 50 };

interface Row {
  readonly x1: number;
  readonly x2: number;
  readonly label: number;
}

/** Standard normal draws. */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * Rows of a world: x1 centred on `shift`; the label follows `rule` (x1 - shift and x2), or is a
 * coin toss when `rule` is 'noise'.
 */
function rows(count: number, options: { seed: number; shift: number; rule: 'old' | 'new' | 'noise' }): Row[] {
  const random = mulberry32(options.seed);
  return Array.from({ length: count }, () => {
    const x1 = options.shift + normal(random);
    const x2 = normal(random);
    const centred = x1 - options.shift;
    const score = options.rule === 'old' ? x1 + 0.5 * x2 : options.rule === 'new' ? centred - 0.5 * x2 : random() - 0.5;
    return { x1: round(x1), x2: round(x2), label: score > 0 ? 1 : 0 };
  });
}

function round(value: number): number {
  return Math.round(value * 1e4) / 1e4;
}

async function writeCsv(path: string, data: readonly Row[]): Promise<void> {
  await writeFile(path, `x1,x2,label\n${data.map((r) => `${r.x1},${r.x2},${r.label}`).join('\n')}\n`);
}

const TRAIN_SPEC = {
  name: 'churn-train',
  data: { source: { format: 'csv', path: 'incoming/placeholder.csv' }, label: 'label' },
  features: { transforms: ['x1', 'x2'].map((column) => ({ column, transform: 'standardize' })) },
  model: { kind: 'linear', objective: 'binary' },
  register: { model: 'churn' },
  card: { importance: false },
};

async function runJob(server: RegistryServer, body: unknown): Promise<Json> {
  const submitted = await api(server, { url: '/api/v1/jobs', body });
  assert.equal(submitted.status, 201, JSON.stringify(submitted.json));
  const id = submitted.json.id as string;
  return waitFor(
    `job ${id} to finish`,
    async () => {
      const reply = await api(server, { url: `/api/v1/jobs/${id}` });
      return ['completed', 'failed', 'cancelled'].includes(reply.json.state as string) ? reply.json : undefined;
    },
    LIMIT,
  );
}

/**
 * A server with the inference log on, drift computed every second for the deployment, a rule that
 * starts the pipeline when the dataset drifts, version 1 trained on the old world and deployed
 * through `production`, and the pipeline declared. `newest` is the data the pipeline will find.
 */
async function setUp(t: TestContext, options: { newest: readonly Row[]; holdout: readonly Row[] }) {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-loop-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const rulesFile = join(dir, 'alerts.yaml');
  await writeFile(
    rulesFile,
    `rules:
  - name: churn-drift
    measure: { kind: value, metric: stratum_drift_dataset_drifted, where: { deployment: churn, version: "1" } }
    above: 0.5
    actions:
      - pipeline: { name: churn-retrain }
`,
  );
  const server = await startRegistryServer(t, {
    overrides: {
      inferenceLog: { sampleRate: 1, flushIntervalMs: 20 },
      alerts: { rulesFile, intervalMs: 100 },
      drift: { checkIntervalMs: 100 },
      pipelines: { checkIntervalMs: 1000 },
    },
  });
  await mkdir(join(server.dir, 'incoming'), { recursive: true });
  await writeCsv(join(server.dir, 'incoming', 'churn-1.csv'), rows(1500, { seed: 1, shift: 0, rule: 'old' }));
  const first = await runJob(server, {
    kind: 'train',
    payload: {
      spec: {
        ...TRAIN_SPEC,
        data: { ...TRAIN_SPEC.data, source: { format: 'csv', path: 'incoming/churn-1.csv' } },
        register: { model: 'churn', alias: 'production' },
      },
      baseDir: server.dir,
    },
  });
  assert.equal(first.state, 'completed', JSON.stringify(first.error));
  assert.equal(first.result.version.version, 1);
  const deployment = await api(server, {
    url: '/api/v1/deployments',
    body: { name: 'churn', model: 'churn', routes: [{ alias: 'production', weight: 100 }] },
  });
  assert.equal(deployment.status, 201, JSON.stringify(deployment.json));
  const drift = await api(server, {
    method: 'PUT',
    url: '/api/v1/deployments/churn/drift/config',
    body: { window: { kind: 'count', rows: 300 }, every: '1s' },
  });
  assert.equal(drift.status, 200, JSON.stringify(drift.json));

  // The data the pipeline will find: newer than churn-1.csv, and the held-out set it is judged on.
  await writeCsv(join(server.dir, 'incoming', 'churn-2.csv'), options.newest);
  await writeCsv(join(server.dir, 'holdout.csv'), options.holdout);
  const pipeline = await api(server, {
    method: 'PUT',
    url: '/api/v1/pipelines/churn-retrain',
    body: {
      name: 'churn-retrain',
      ingest: { newest: { dir: 'incoming', pattern: 'churn-*.csv' } },
      train: TRAIN_SPEC,
      evaluate: {
        data: { source: { format: 'csv', path: 'holdout.csv' }, label: 'label' },
        metric: 'accuracy',
        margin: 0.05,
      },
      deploy: {
        deployment: 'churn',
        // A model retrained on a changed world is meant to disagree with the old one.
        canary: { steps: [50, 100], stepSeconds: 0, minRequests: 30, gates: { maxDisagreement: 1 } },
      },
      baseDir: server.dir,
    },
  });
  assert.equal(pipeline.status, 201, JSON.stringify(pipeline.json));
  await waitFor(
    'the deployment to serve',
    async () => (await api(server, { url: '/v2/models/churn/ready' })).status === 200,
    LIMIT,
  );
  return { server };
}

/**
 * Sends live traffic (rows of the drifted world) until `done` says stop; a failed request stops it
 * and fails the test when it is awaited.
 */
function trafficUntil(server: RegistryServer, live: readonly Row[], done: { stop: boolean }): Promise<number> {
  const sending = (async () => {
    let sent = 0;
    while (!done.stop) {
      const row = live[sent % live.length] as Row;
      const reply = await api(server, {
        url: '/v2/models/churn/infer',
        body: {
          inputs: [
            { name: 'x1', datatype: 'FP32', shape: [1, 1], data: [row.x1] },
            { name: 'x2', datatype: 'FP32', shape: [1, 1], data: [row.x2] },
          ],
        },
      });
      assert.equal(reply.status, 200, JSON.stringify(reply.json));
      sent++;
    }
    return sent;
  })();
  // Handled now, thrown when awaited: a failure must not wait for the run to be reported.
  sending.catch(() => (done.stop = true));
  return sending;
}

async function finishedRun(server: RegistryServer): Promise<Json> {
  return waitFor(
    'the retraining run to finish',
    async () => {
      const runs = (await api(server, { url: '/api/v1/pipelines/churn-retrain/runs' })).json.items as Json[];
      const run = runs[0];
      return run !== undefined && !['queued', 'running'].includes(run.status as string) ? run : undefined;
    },
    LIMIT,
  );
}

/** The run the drifted traffic starts, sending that traffic until the run has finished. */
async function runUnderTraffic(server: RegistryServer, live: readonly Row[]): Promise<Json> {
  const done = { stop: false };
  const traffic = trafficUntil(server, live, done);
  try {
    return await finishedRun(server);
  } finally {
    done.stop = true;
    await traffic;
  }
}

test('drift in live traffic → alert → retrain → gate → canary → promotion, with every step recorded', async (t) => {
  const { server } = await setUp(t, {
    newest: rows(1500, { seed: 2, shift: 3, rule: 'new' }),
    holdout: rows(600, { seed: 3, shift: 3, rule: 'new' }),
  });
  const run = await runUnderTraffic(server, rows(500, { seed: 4, shift: 3, rule: 'new' }));
  assert.equal(run.status, 'succeeded', JSON.stringify(run, null, 1));
  assert.equal(run.trigger.kind, 'alert');
  assert.equal(run.trigger.rule, 'churn-drift');
  assert.equal(run.createdBy, 'alert:churn-drift');
  const steps = run.steps as { name: string; status: string; outputs: Json }[];
  assert.deepEqual(
    steps.map((s) => [s.name, s.status]),
    ['ingest', 'train', 'evaluate', 'gate', 'register', 'canary', 'promote'].map((name) => [name, 'succeeded']),
  );
  const [ingest, train, evaluate, gate, , canary] = steps as unknown as [Json, Json, Json, Json, Json, Json];
  assert.match(ingest.outputs.file.path, /churn-2\.csv$/, 'the newest file');
  assert.equal(ingest.outputs.file.matched, 2);
  assert.equal(train.outputs.version, 2);
  assert.equal(evaluate.outputs.production.version, 1);
  assert.equal(evaluate.outputs.candidate.version, 2);
  assert.equal(evaluate.outputs.candidate.rows, 600);
  // The gate's figures are the evaluations' own.
  assert.equal(gate.outputs.candidate, evaluate.outputs.candidate.metrics.accuracy);
  assert.equal(gate.outputs.production, evaluate.outputs.production.metrics.accuracy);
  assert.ok(gate.outputs.improvement >= 0.05, JSON.stringify(gate.outputs));
  assert.equal(gate.outputs.passed, true);
  assert.equal(canary.outputs.status, 'promoted');

  const production = (await api(server, { url: '/api/v1/models/churn/aliases/production' })).json;
  assert.equal(production.version, 2);
  const candidate = (await api(server, { url: '/api/v1/models/churn/aliases/candidate' })).json;
  assert.equal(candidate.version, 2);
  const deployment = (await api(server, { url: '/api/v1/deployments/churn' })).json;
  assert.equal(deployment.state.canary.status, 'promoted');
  assert.equal(deployment.state.canary.canary, 2);
  // Served now: version 2.
  const answer = await api(server, {
    url: '/v2/models/churn/infer',
    body: {
      inputs: [
        { name: 'x1', datatype: 'FP32', shape: [1, 1], data: [3] },
        { name: 'x2', datatype: 'FP32', shape: [1, 1], data: [0] },
      ],
    },
  });
  assert.equal(answer.json.model_version, '2');
  // The run's changes are in the audit log under the pipeline's name.
  const audit = (await api(server, { url: '/api/v1/audit?actor=pipeline:churn-retrain' })).json;
  const actions = (audit.items as { action: string; resource: string }[]).map((e) => `${e.action} ${e.resource}`);
  assert.ok(actions.includes('alias.set models/churn/aliases/candidate'), actions.join('\n'));
  await dashboardShowsRun(t, server, run.id as string);
});

const WAIT = { timeout: 60_000 };

/**
 * The dashboard's pipeline pages in a real browser on the loop's real run: each page draws, and
 * each chart has data points and pixels. With STRATUM_SCREENSHOTS=<dir> each page is saved there.
 */
async function dashboardShowsRun(t: TestContext, server: RegistryServer, runId: string): Promise<void> {
  assert.ok(existsSync(join(DASHBOARD_DIR, 'index.html')), `no built dashboard in ${DASHBOARD_DIR}: run npm run build`);
  const { page, failures } = await openBrowserPage(t, { width: 1280, height: 900 });
  const visit = async (hash: string, name: string, charts: readonly string[]): Promise<string> => {
    await page.goto(`${server.httpUrl}/#${hash}`, WAIT);
    await page.waitForSelector(`[data-page="${name}"][data-ready]`, WAIT);
    for (const chart of charts) {
      const points = Number(await page.getAttribute(`figure[data-chart="${chart}"]`, 'data-points'));
      assert.ok(points > 0, `chart ${chart} on ${hash} has data`);
      await page.waitForFunction(
        `(() => { const c = document.querySelector('figure[data-chart="${chart}"] canvas');
          return c !== null && c.width > 0 && c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some((v, i) => i % 4 === 3 && v > 0); })()`,
        undefined,
        WAIT,
      );
    }
    await screenshot(page, name);
    return (await page.textContent('main')) ?? '';
  };
  assert.match(await visit('/pipelines', 'pipelines', []), /churn-retrain[\s\S]*succeeded/);
  assert.match(await visit('/pipelines/churn-retrain', 'pipeline', ['pipeline-gate']), /alert churn-drift/);
  const text = await visit(`/pipeline-runs/${runId}`, 'pipeline-run', ['run-gate', 'run-steps']);
  for (const step of ['ingest', 'train', 'evaluate', 'gate', 'register', 'canary', 'promote']) {
    assert.match(text, new RegExp(step));
  }
  assert.deepEqual(failures, []);
}

async function screenshot(page: Page, name: string): Promise<void> {
  const dir = process.env['STRATUM_SCREENSHOTS'];
  if (dir === undefined) return;
  await mkdir(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
}

test('a candidate trained on bad data loses at the gate and is never rolled out', async (t) => {
  const { server } = await setUp(t, {
    // Labels that are coin tosses: whatever it learns is worse than version 1 on the held-out set.
    newest: rows(1500, { seed: 2, shift: 1.5, rule: 'noise' }),
    holdout: rows(600, { seed: 3, shift: 1.5, rule: 'old' }),
  });
  const run = await runUnderTraffic(server, rows(500, { seed: 4, shift: 3, rule: 'old' }));
  assert.equal(run.status, 'rejected', JSON.stringify(run, null, 1));
  const steps = run.steps as { name: string; status: string; outputs: Json }[];
  assert.deepEqual(
    steps.map((s) => s.name),
    ['ingest', 'train', 'evaluate', 'gate'],
  );
  const gate = steps[3]?.outputs as Json;
  assert.equal(gate.passed, false);
  assert.ok(gate.candidate < gate.production, JSON.stringify(gate));
  assert.match(run.outcome.reason, /does not beat/);
  assert.equal((await api(server, { url: '/api/v1/models/churn/aliases/production' })).json.version, 1);
  assert.equal((await api(server, { url: '/api/v1/models/churn/aliases/candidate' })).status, 404);
  const deployment = (await api(server, { url: '/api/v1/deployments/churn' })).json;
  assert.equal(deployment.state.canary, undefined, 'no canary was started');
  // The trained version stays registered (with its evaluation) for anyone who wants to look.
  assert.equal((await api(server, { url: '/api/v1/models/churn/versions/2' })).status, 200);
});
