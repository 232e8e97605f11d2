/**
 * The metrics server of processes without an API: /metrics renders the registry given, /healthz
 * follows `ready`, anything else is 404 or 405, a taken port is PORT_IN_USE, close() is idempotent.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { isStratumError } from '../../src/errors/index.ts';
import { startMetricsServer } from '../../src/monitor/metrics-server.ts';

test('the metrics server renders its registry, follows ready, and refuses the rest', async (t) => {
  const registry = new Registry();
  const counter = new Counter({ name: 'test_things_total', help: 'Things.', registers: [registry] });
  counter.inc(3);
  let ready = false;
  const server = await startMetricsServer({ host: '127.0.0.1', port: 0, registry, ready: () => ready });
  t.after(() => server.close());
  assert.ok(server.port > 0);

  const metrics = await fetch(`${server.url}/metrics`);
  assert.equal(metrics.status, 200);
  assert.equal(metrics.headers.get('content-type'), registry.contentType);
  assert.match(await metrics.text(), /^test_things_total 3$/m);

  assert.equal((await fetch(`${server.url}/healthz`)).status, 503);
  ready = true;
  const health = await fetch(`${server.url}/healthz?probe=1`);
  assert.equal(health.status, 200);
  assert.equal(await health.text(), 'ok\n');

  assert.equal((await fetch(`${server.url}/other`)).status, 404);
  const post = await fetch(`${server.url}/metrics`, { method: 'POST', body: '' });
  assert.equal(post.status, 405);
  assert.equal(post.headers.get('allow'), 'GET, HEAD');

  await assert.rejects(
    startMetricsServer({ host: '127.0.0.1', port: server.port, registry, ready: () => true }),
    (error: unknown) =>
      isStratumError(error) && error.code === 'PORT_IN_USE' && error.details?.['setting'] === 'jobs.metricsPort',
  );
  await Promise.all([server.close(), server.close()]);
  await assert.rejects(fetch(`${server.url}/metrics`));
});
