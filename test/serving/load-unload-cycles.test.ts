/**
 * What unload/load cycles leave behind: nothing that can be counted. After cycles of a model whose
 * sessions have intra-op threads of their own (on two workers, plus an inline session on the main
 * thread), the process has as many threads as before and /metrics as many series of the model.
 * Counts, not RSS: RSS after cycles depends on the allocator and the collector (see
 * docs/BENCHMARKS.md, "Memory: 100 load/unload cycles").
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { injectJson, startTestServer, type TestServer } from '../helpers/test-server.ts';

const mlpRequest = { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 784], data: new Array(784).fill(0.5) }] };
const CYCLES = 8;

/** Threads of this process (the session workers and onnxruntime's intra-op threads among them). */
function threads(): number {
  return readdirSync('/proc/self/task').length;
}

async function seriesOfMlp(server: TestServer): Promise<number> {
  const res = await server.http.inject({ method: 'GET', url: '/metrics' });
  return res.body.split('\n').filter((line) => !line.startsWith('#') && line.includes('model="mlp"')).length;
}

async function serve(server: TestServer): Promise<void> {
  for (let i = 0; i < 5; i++) {
    assert.equal((await injectJson(server, { url: '/v2/models/mlp/infer', body: mlpRequest })).status, 200);
  }
}

test('unload/load cycles leave as many threads and metric series as before', async (t) => {
  if (process.platform !== 'linux') {
    t.skip('threads are counted from /proc/self/task');
    return;
  }
  const server = await startTestServer(t, {
    fixtures: ['mlp'],
    // The inline session is one more onnxruntime session, on the main thread, to release.
    modelConfigs: { mlp: { inlineRunMaxMicroseconds: 10_000 } },
    overrides: { runtime: { workers: 2, intraOpThreads: 2 } },
  });
  await serve(server);
  const before = { threads: threads(), series: await seriesOfMlp(server) };
  assert.ok(before.series > 0, 'the model has series to count');
  for (let cycle = 0; cycle < CYCLES; cycle++) {
    assert.equal((await injectJson(server, { url: '/v2/repository/models/mlp/unload', body: {} })).status, 200);
    assert.equal((await injectJson(server, { url: '/v2/repository/models/mlp/load', body: {} })).status, 200);
    await serve(server);
  }
  assert.deepEqual({ threads: threads(), series: await seriesOfMlp(server) }, before);
});
