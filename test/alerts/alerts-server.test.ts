/**
 * Alert rules in a running server: read from `alerts.rulesFile` at start (a bad file refuses the
 * start naming the field), evaluated on the serving metrics, shown at /api/v1/alerts, and a
 * firing rule's webhook delivered with its HMAC signature.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { injectJson, startTestServer } from '../helpers/test-server.ts';

async function rulesDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-alerts-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function registryOverrides(dir: string) {
  return {
    registry: true,
    databaseUrl: `sqlite:${join(dir, 'stratum.db')}`,
    artifactsUrl: `file:${join(dir, 'artifacts')}`,
  };
}

test('a rule on the failure counter fires in a running server and its signed webhook arrives', async (t) => {
  const dir = await rulesDir(t);
  const received: { body: string; signature: string }[] = [];
  let wake: (() => void) | undefined;
  const hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString(), signature: String(req.headers['x-stratum-signature']) });
      res.end();
      wake?.();
    });
  });
  hook.listen(0, '127.0.0.1');
  await once(hook, 'listening');
  t.after(() => new Promise<void>((r) => hook.close(() => r())));
  process.env['STRATUM_TEST_ALERT_KEY'] = 'alert-test-key';
  t.after(() => delete process.env['STRATUM_TEST_ALERT_KEY']);
  const rulesFile = join(dir, 'alerts.yaml');
  await writeFile(
    rulesFile,
    `rules:
  - name: any-failure
    measure: { kind: value, metric: stratum_inference_requests_total, where: { outcome: failure } }
    above: 0
    actions:
      - webhook: { url: "http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook", secretEnv: STRATUM_TEST_ALERT_KEY }
`,
  );
  const server = await startTestServer(t, {
    withoutGrpc: true,
    overrides: { ...registryOverrides(dir), alerts: { rulesFile, intervalMs: 100 } },
  });
  const before = await injectJson(server, { url: '/api/v1/alerts' });
  assert.equal(before.status, 200);
  assert.equal((before.json as { rules: { phase: string }[] }).rules[0]?.phase, 'inactive');

  // A request the model refuses (an input it does not have) is a failure the metrics count.
  const bad = await injectJson(server, {
    url: '/v2/models/mlp/infer',
    body: { inputs: [{ name: 'not-an-input', datatype: 'FP32', shape: [1, 1], data: [0] }] },
  });
  assert.equal(bad.status, 400);
  const metrics = await server.metrics.render();
  assert.match(metrics, /stratum_inference_requests_total\{[^}]*outcome="failure"[^}]*\} 1/);

  // Wait for the state: the rule firing, as the API reports it.
  let phase = 'inactive';
  while (phase !== 'firing') {
    await new Promise<void>((r) => setImmediate(r));
    const reply = await injectJson(server, { url: '/api/v1/alerts' });
    phase = (reply.json as { rules: { phase: string }[] }).rules[0]?.phase ?? 'missing';
  }
  while (received.length === 0) await new Promise<void>((r) => (wake = r));
  const [{ body, signature }] = received as [{ body: string; signature: string }];
  const payload = JSON.parse(body) as { rule: string; transition: string; value: number };
  assert.equal(payload.rule, 'any-failure');
  assert.equal(payload.transition, 'fired');
  assert.equal(payload.value, 1);
  const [, stamp, mac] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature) ?? [];
  assert.equal(mac, createHmac('sha256', 'alert-test-key').update(`${stamp}.${body}`).digest('hex'));
  const history = (await injectJson(server, { url: '/api/v1/alerts' })).json as { history: { transition: string }[] };
  assert.deepEqual(
    history.history.map((e) => e.transition),
    ['fired'],
  );
});

test('a malformed rules file refuses the start, naming the field', async (t) => {
  const dir = await rulesDir(t);
  const rulesFile = join(dir, 'alerts.yaml');
  await writeFile(
    rulesFile,
    'rules:\n  - name: x\n    measure: { kind: rate, metric: m, window: soon }\n    above: 1\n',
  );
  await assert.rejects(
    startTestServer(t, { withoutGrpc: true, overrides: { ...registryOverrides(dir), alerts: { rulesFile } } }),
    { code: 'CONFIG_INVALID', message: /alerts\.yaml: rules\[0\]\.measure\.window: must be a duration/ },
  );
  await assert.rejects(
    startTestServer(t, {
      withoutGrpc: true,
      overrides: { ...registryOverrides(dir), alerts: { rulesFile: join(dir, 'missing.yaml') } },
    }),
    { code: 'CONFIG_INVALID', message: /alerts\.rulesFile: cannot read .*missing\.yaml \(ENOENT\)/ },
  );
});

test('without rules the alerts route says how to configure them', async (t) => {
  const dir = await rulesDir(t);
  const server = await startTestServer(t, { withoutGrpc: true, overrides: registryOverrides(dir) });
  const reply = await injectJson(server, { url: '/api/v1/alerts' });
  assert.equal(reply.status, 501);
  assert.match(JSON.stringify(reply.json), /alerts\.rulesFile/);
});
