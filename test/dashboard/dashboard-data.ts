/**
 * A Stratum server with something to show on every dashboard page: two tracked GBDT runs (metric
 * curves by step) on a CSV whose dataset version has a profile, their versions registered with
 * lineage, a deployment splitting traffic 70/30 between them, and real inference traffic sampled
 * into the serving statistics; alert rules on the serving metrics (evaluated when the test says,
 * not on a timer). API keys are required (a bearer token), to exercise the sign-in.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import type { Authorizer } from '../../src/api/permissions.ts';
import { openArtifactStore } from '../../src/artifacts/open-artifact-store.ts';
import { loadConfig } from '../../src/config/index.ts';
import { StratumError } from '../../src/errors/index.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { startServer, type StratumServer } from '../../src/server/stratum-server.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { runTraining } from '../../src/train/run/run-training.ts';
import { parseTrainSpec } from '../../src/train/run/train-spec.ts';
import { tabularRows } from '../train/pipeline/tabular-data.ts';
import { api } from '../helpers/management-api.ts';
import { waitFor } from '../helpers/wait-for.ts';

/** The key the server accepts (as `Authorization: Bearer …`). */
export const DASHBOARD_KEY = 'dashboard-test-key';

/** What the dashboard test drives. */
export interface DashboardData {
  readonly server: StratumServer;
  readonly runIds: readonly string[];
  readonly datasetVersion: string;
  /** Sends `requests` inference requests through the deployment, then samples the statistics. */
  traffic(requests: number): Promise<void>;
  /** Sends one request the model refuses (an input it does not have): a failure in the metrics. */
  badRequest(): Promise<void>;
}

/**
 * The rules the alerts page shows: an error rate between consecutive evaluations (its window is
 * shorter than the time between them) that fires on a failure and resolves on good traffic, trying
 * to roll back a deployment that has no canary (an action that fails, shown as such); a rule that
 * fires on any traffic; one that would after an hour (pending); one that never has data to fire.
 */
export const DASHBOARD_ALERT_RULES = `rules:
  - name: error-rate
    measure: { kind: ratio, metric: stratum_inference_requests_total, where: { outcome: failure },
               of: stratum_inference_requests_total, window: 1ms }
    above: 0.2
    clear: 0.1
    actions:
      - rollback: { deployment: reviews }
  - name: any-traffic
    measure: { kind: value, metric: stratum_inference_requests_total }
    above: 0
  - name: sustained-traffic
    measure: { kind: value, metric: stratum_inference_requests_total }
    above: 0
    for: 1h
  - name: p99-latency
    measure: { kind: quantile, metric: stratum_request_duration_seconds, quantile: 0.99, window: 1ms }
    above: 30
`;

const AUTH = { authorization: `Bearer ${DASHBOARD_KEY}` };

/** Refuses every guarded route without the key: the authorizer the security work will replace. */
const requireKey: Authorizer = ({ headers }) => {
  if (headers['authorization'] !== AUTH.authorization) {
    throw new StratumError('UNAUTHENTICATED', 'an API key is required: send Authorization: Bearer <key>');
  }
  return { principal: { id: 'key:dashboard-test', kind: 'api-key', grants: [{ role: 'admin' }] } };
};

const csvCell = (value: unknown): string => {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
};

/** Starts the server, trains, deploys and sends traffic; everything is torn down after the test. */
export async function startDashboardData(t: TestContext): Promise<DashboardData> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-dashboard-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const databaseUrl = `sqlite:${join(dir, 'stratum.db')}`;
  const rulesFile = join(dir, 'alerts.yaml');
  await writeFile(rulesFile, DASHBOARD_ALERT_RULES);
  const artifactsUrl = `file:${join(dir, 'artifacts')}`;
  const config = loadConfig({
    env: {},
    overrides: {
      host: '127.0.0.1',
      httpPort: 0,
      grpcPort: 0,
      logLevel: 'silent',
      runtime: { workers: 1 },
      registry: true,
      databaseUrl,
      artifactsUrl,
      registryPollMs: 200,
      // The test evaluates the rules itself; the interval never comes round during it.
      alerts: { rulesFile, intervalMs: 3_600_000 },
    },
  });
  const server = await startServer({
    config,
    logger: createLogger({ level: 'silent' }),
    authorizer: requireKey,
    withoutGrpc: true,
  });
  t.after(() => server.close());
  const registry = server.registry;
  if (registry === undefined) throw new Error('the registry is off');

  const { rows, labels } = tabularRows({ count: 1200, seed: 11 });
  const dataPath = join(dir, 'reviews.csv');
  const columns = ['age', 'income', 'city', 'review', 'label'];
  const lines = rows.map((row, i) =>
    [row['age'], row['income'], row['city'], row['review'], labels[i] === 1 ? 'good' : 'bad'].map(csvCell).join(','),
  );
  await writeFile(dataPath, [columns.join(','), ...lines].join('\n') + '\n');

  const store = await openMetadataStore({ url: databaseUrl });
  t.after(() => store.close());
  const artifacts = await openArtifactStore({ url: artifactsUrl });
  const context = { store, artifacts, registry, by: 'test', baseDir: dir, codeVersion: 'dashboard-test' };
  const runIds: string[] = [];
  let datasetVersion = '';
  let samples = '';
  for (const [depth, trees] of [
    [2, 15],
    [4, 25],
  ] as const) {
    const spec = parseTrainSpec({
      name: `reviews-depth-${depth}`,
      data: { source: { format: 'csv', path: dataPath }, label: 'label' },
      split: { validation: 0.25, seed: 3 },
      features: {
        transforms: [
          { column: 'age', transform: 'standardize', missing: 'mean' },
          { column: 'income', transform: 'impute', indicator: true },
          { column: 'city', transform: 'onehot', topK: 6 },
          { column: 'review', transform: 'text', buckets: 64, ngramRange: [1, 2] },
        ],
      },
      model: { kind: 'gbdt', objective: 'binary', params: { numTrees: trees, maxDepth: depth, seed: 1 } },
      register: { model: 'reviews', alias: 'production' },
    });
    const result = await runTraining(spec, context);
    runIds.push(result.run.id);
    datasetVersion = result.version?.lineage.datasetVersion ?? '';
    samples = result.version?.lineage.samples ?? '';
  }
  const request = Buffer.from(await registry.readArtifact(samples)).toString();

  const created = await api(server, {
    url: '/api/v1/deployments',
    headers: AUTH,
    body: {
      name: 'reviews',
      model: 'reviews',
      routes: [
        { version: 1, weight: 70 },
        { version: 2, weight: 30 },
      ],
    },
  });
  if (created.status !== 201) throw new Error(`deployment: ${created.status} ${JSON.stringify(created.json)}`);
  await waitFor(
    'the deployment to serve both versions',
    async () =>
      (await api(server, { url: '/api/v1/deployments/reviews/status', headers: AUTH })).json.converged === true,
  );

  const infer = (body: string) =>
    server.http.inject({
      method: 'POST',
      url: '/v2/models/reviews/infer',
      headers: { ...AUTH, 'content-type': 'application/json' },
      payload: body,
    });
  return {
    server,
    runIds,
    datasetVersion,
    async traffic(requests) {
      for (let i = 0; i < requests; i++) {
        const reply = await infer(request);
        if (reply.statusCode !== 200) throw new Error(`inference: ${reply.statusCode} ${reply.body}`);
      }
      await server.stats.sample();
    },
    async badRequest() {
      const reply = await infer(
        JSON.stringify({ inputs: [{ name: 'not-an-input', datatype: 'FP32', shape: [1, 1], data: [0] }] }),
      );
      if (reply.statusCode !== 400) throw new Error(`expected a refused request: ${reply.statusCode} ${reply.body}`);
    },
  };
}
