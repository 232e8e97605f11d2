/**
 * Two real `stratum serve` processes sharing one PostgreSQL schema and one artifact folder: a
 * change made through either converges on both within 2 seconds (LISTEN/NOTIFY, polling as the
 * safety net). Measured from the moment the change's request returns.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createApiClient } from '../../src/client/api-client.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import { buildMlp } from '../../src/onnx/fixtures/mlp.ts';
import { freshPostgresUrl } from '../helpers/test-server.ts';

const BIN = fileURLToPath(new URL('../../bin/stratum.js', import.meta.url));
const CONVERGENCE_MS = 2000;

async function startReplica(
  t: TestContext,
  env: Record<string, string>,
): Promise<{ url: string; child: ChildProcess }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(
    process.execPath,
    [BIN, 'serve', '--http-port', String(port), '--grpc-port', '0', '--workers', '1', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`replica exited: ${output}`);
    const ok = await fetch(`${url}/v2/health/ready`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return { url, child };
    await sleep(100);
  }
  throw new Error(`replica never became ready: ${output}`);
}

/** ms from now until `probe` holds, polling every 20 ms (fails after 10 s). */
async function timeUntil(probe: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < 10_000) {
    if (await probe()) return performance.now() - start;
    await sleep(20);
  }
  throw new Error('the replicas did not converge within 10 s');
}

async function servedVersion(url: string): Promise<string | undefined> {
  const res = await fetch(`${url}/v2/models/digits/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0.5) }],
    }),
  });
  if (res.status !== 200) return undefined;
  return ((await res.json()) as { model_version: string }).model_version;
}

test('two replicas on one PostgreSQL converge on every change within 2 seconds', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-replicas-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const env = {
    STRATUM_DATABASE_URL: await freshPostgresUrl(t),
    STRATUM_ARTIFACTS_URL: `file:${join(dir, 'artifacts')}`,
    // Polling is only the safety net: make it slower than the target so that the test proves
    // the notifications carry the change.
    STRATUM_REGISTRY_POLL_MS: '5000',
  };
  const [a, b] = await Promise.all([startReplica(t, env), startReplica(t, env)]);
  const apiA = createApiClient({ baseUrl: a.url, actor: 'replica-test' });
  const apiB = createApiClient({ baseUrl: b.url, actor: 'replica-test' });

  await apiA.pushVersion({ model: 'mlp', bytes: FIXTURES.mlp.build() });
  await apiA.pushVersion({ model: 'mlp', bytes: buildMlp({ seed: 7 }) });
  await apiA.setAlias({ model: 'mlp', alias: 'production', version: 1 });

  // A deployment created through A is served by B.
  await apiA.createDeployment({ name: 'digits', model: 'mlp', routes: [{ alias: 'production', weight: 100 }] });
  const created = await timeUntil(async () => (await servedVersion(b.url)) === '1');

  // An alias moved through B moves what A serves.
  await apiB.setAlias({ model: 'mlp', alias: 'production', version: 2, reason: 'replica test' });
  const moved = await timeUntil(async () => (await servedVersion(a.url)) === '2');

  // A blue-green switch through A reaches B; both then report the same served plan.
  await apiA.rollout({ name: 'digits', request: { strategy: 'blue-green', version: 1 } });
  const switched = await timeUntil(async () => (await servedVersion(b.url)) === '1');
  const statusA = await apiA.deploymentStatus('digits');
  const statusB = await apiB.deploymentStatus('digits');
  assert.equal(statusA.converged, true);
  assert.equal(statusB.converged, true);

  // A deleted deployment disappears from both.
  await apiB.deleteDeployment('digits');
  const deleted = await timeUntil(async () => {
    const res = await fetch(`${a.url}/v2/models/digits`);
    return res.status === 404;
  });

  const figures = { created, moved, switched, deleted };
  t.diagnostic(
    `convergence (ms, includes loading the version): ${JSON.stringify(figures, (_k, v: unknown) => (typeof v === 'number' ? Math.round(v) : v))}`,
  );
  for (const [change, ms] of Object.entries(figures)) {
    assert.ok(
      ms < CONVERGENCE_MS,
      `${change} took ${Math.round(ms)} ms to reach the other replica (target < ${CONVERGENCE_MS})`,
    );
  }
});
