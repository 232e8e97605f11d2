/**
 * The real monitoring stack: Debian's Prometheus (installed by scripts/test-data.sh) scrapes a
 * running Stratum every second, with deploy/prometheus/alerts.yml loaded; through Prometheus's own
 * query API the test waits until the key series are there with the values the server counted, the
 * recording rules evaluate, and every Grafana panel query is accepted. The rules file is checked
 * and unit-tested by promtool first.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { freePort } from '../helpers/load-balancer.ts';
import { startTestServer } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const RULES = resolve(import.meta.dirname, '../../deploy/prometheus/alerts.yml');
const RULE_TESTS = resolve(import.meta.dirname, '../../deploy/prometheus/alerts.test.yml');
const GRAFANA = resolve(import.meta.dirname, '../../deploy/grafana/stratum-dashboard.json');
const run = promisify(execFile);

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** A running Prometheus and its query API. */
interface Prometheus {
  query(expr: string): Promise<{ status: string; data?: { result: Sample[] }; error?: string }>;
  get(path: string): Promise<unknown>;
}

async function startPrometheus(t: TestContext, target: string): Promise<Prometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-prometheus-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'rule_files:',
    `  - ${JSON.stringify(RULES)}`,
    'scrape_configs:',
    '  - job_name: stratum',
    '    static_configs:',
    `      - targets: [${JSON.stringify(target)}]`,
  ].join('\n');
  await writeFile(join(dir, 'prometheus.yml'), config);
  const port = await freePort();
  const child: ChildProcess = spawn(
    PROMETHEUS,
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  t.after(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(
    'Prometheus to be ready',
    async () => {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}): ${stderr}`);
      return fetch(`${base}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
    },
    { everyMs: 100 },
  );
  return {
    async query(expr) {
      const response = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(expr)}`);
      return (await response.json()) as Awaited<ReturnType<Prometheus['query']>>;
    },
    async get(path) {
      return (await fetch(`${base}${path}`)).json();
    },
  };
}

/** Waits until a query returns a series whose value satisfies `ok`; returns that value. */
async function waitForValue(prometheus: Prometheus, expr: string, ok: (value: number) => boolean): Promise<number> {
  return waitFor(
    `${expr} in Prometheus`,
    async () => {
      const answer = await prometheus.query(expr);
      assert.equal(answer.status, 'success', `${expr}: ${answer.error}`);
      const value = Number(answer.data?.result[0]?.value[1]);
      return answer.data?.result.length === 1 && ok(value) ? value : undefined;
    },
    { everyMs: 250 },
  );
}

test('the alerting rules pass promtool: syntax and unit tests', async () => {
  assert.ok(existsSync(PROMTOOL), 'promtool is missing: run scripts/test-data.sh');
  const checked = await run(PROMTOOL, ['check', 'rules', RULES]);
  assert.match(checked.stdout, /SUCCESS: 9 rules found/);
  const tested = await run(PROMTOOL, ['test', 'rules', RULE_TESTS]);
  assert.match(tested.stdout, /SUCCESS/);
});

test(
  'Prometheus scrapes the key series of a running Stratum and evaluates the rules',
  { timeout: 300_000 },
  async (t) => {
    assert.ok(existsSync(PROMETHEUS), 'prometheus is missing: run scripts/test-data.sh');
    const dir = await mkdtemp(join(tmpdir(), 'stratum-prometheus-registry-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    // The registry (and so the embedded job queue) is on, for the queue's series.
    const server = await startTestServer(t, {
      fixtures: ['mlp'],
      withoutGrpc: true,
      overrides: {
        registry: true,
        databaseUrl: `sqlite:${join(dir, 'stratum.db')}`,
        artifactsUrl: `file:${join(dir, 'artifacts')}`,
      },
    });
    const infer = (data: unknown[]) =>
      server.http.inject({
        method: 'POST',
        url: '/v2/models/mlp/infer',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [1, data.length], data }] }),
      });
    const SENT = 12;
    for (let i = 0; i < SENT; i++) assert.equal((await infer(new Array(784).fill(i / SENT))).statusCode, 200);
    // A request of the wrong shape: a failure of the mlp's version.
    assert.equal((await infer([1, 2, 3])).statusCode, 400);
    const failures = (await server.metrics.registry.getSingleMetricAsString('stratum_inference_requests_total'))
      .split('\n')
      .filter((line) => line.includes('model="mlp"') && line.includes('outcome="failure"'))
      .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
    assert.ok(failures >= 1, 'the server counted the failure');

    const prometheus = await startPrometheus(t, new URL(server.httpUrl).host);
    await waitForValue(prometheus, 'up{job="stratum"}', (v) => v === 1);
    // The counts Prometheus scraped are the server's.
    const success = await waitForValue(
      prometheus,
      'sum(stratum_inference_requests_total{model="mlp",outcome="success"})',
      (v) => v === SENT,
    );
    assert.equal(success, SENT);
    await waitForValue(
      prometheus,
      'sum(stratum_inference_requests_total{model="mlp",outcome="failure"})',
      (v) => v === failures,
    );
    await waitForValue(prometheus, 'sum(stratum_request_duration_seconds_count{model="mlp"})', (v) => v === SENT);
    await waitForValue(prometheus, 'count(stratum_request_duration_seconds_bucket{model="mlp"})', (v) => v > 10);
    await waitForValue(prometheus, 'sum(stratum_inference_count_total{model="mlp"})', (v) => v === SENT);
    await waitForValue(prometheus, 'sum(stratum_pending_requests{model="mlp"})', (v) => v === 0);
    await waitForValue(prometheus, 'count(stratum_jobs)', (v) => v > 0);
    await waitForValue(prometheus, 'stratum_process_resident_memory_bytes', (v) => v > 0);

    // The rules loaded, and the recording rules produce series once two scrapes hold traffic.
    const rules = (await prometheus.get('/api/v1/rules')) as {
      data: { groups: { name: string; rules: { health: string }[] }[] };
    };
    assert.deepEqual(rules.data.groups.map((g) => g.name).sort(), [
      'stratum-jobs',
      'stratum-model-monitoring',
      'stratum-serving',
    ]);
    for (let i = 0; i < 5; i++) await infer(new Array(784).fill(0.5));
    await waitForValue(prometheus, 'stratum:inference_requests:rate5m{model="mlp"}', (v) => v > 0);
    await waitForValue(prometheus, 'stratum:request_duration_seconds:p99_5m{model="mlp"}', (v) => v > 0);
    await waitFor('every rule to evaluate without error', async () => {
      const now = (await prometheus.get('/api/v1/rules')) as typeof rules;
      const all = now.data.groups.flatMap((g) => g.rules);
      const bad = all.filter((r) => r.health === 'err');
      assert.deepEqual(bad, [], 'no rule fails to evaluate');
      return all.every((r) => r.health === 'ok');
    });

    // Every Grafana panel query is valid PromQL on these series.
    const dashboard = JSON.parse(readFileSync(GRAFANA, 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    assert.ok(dashboard.panels.length >= 8);
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        const answer = await prometheus.query(target.expr.replaceAll('$__rate_interval', '1m'));
        assert.equal(answer.status, 'success', `${panel.title}: ${target.expr}: ${answer.error}`);
      }
    }
    const requests = await prometheus.query('sum by (model) (rate(stratum_inference_requests_total[1m]))');
    assert.deepEqual(
      requests.data?.result.map((r) => r.metric['model']),
      ['mlp'],
      'the requests panel shows the model',
    );
  },
);
