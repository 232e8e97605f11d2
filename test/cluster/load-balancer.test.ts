/**
 * The cluster test's load balancer on its own: with one upstream down, every request is answered by
 * the other one, and the retries show in nginx's own log.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, startLoadBalancer } from '../helpers/load-balancer.ts';

test('nginx retries a POST on the other upstream when one refuses connections', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-lb-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const down = await freePort();
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(JSON.stringify({ method: req.method })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  assert.ok(typeof address === 'object' && address !== null);

  const lb = await startLoadBalancer(t, join(dir, 'nginx'), [down, address.port]);
  const statuses: number[] = [];
  for (let i = 0; i < 20; i++) {
    const res = await fetch(`${lb.url}/v2/models/x/infer`, { method: 'POST', body: '{}' });
    statuses.push(res.status);
    assert.deepEqual(await res.json(), { method: 'POST' });
  }
  assert.deepEqual(new Set(statuses), new Set([200]));
  const stats = await lb.stats();
  assert.ok(stats.requests >= 20, `nginx logged ${stats.requests} requests`);
  assert.ok(stats.retried >= 1, 'at least the first request was retried on the live upstream');
});
