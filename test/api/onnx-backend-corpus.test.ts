/**
 * The ONNX project's backend test models (Debian's libonnx-testdata) served through Stratum: every
 * case that onnxruntime-node runs correctly when called directly must give the expected outputs
 * over REST and over gRPC, from one server serving them all as a model repository. Cases whose
 * inputs or outputs the inference protocol cannot express (sequences, maps, optionals, bfloat16)
 * are counted apart with their reason.
 */
import assert from 'node:assert/strict';
import { mkdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { inferOverGrpc, inferOverRest } from '../helpers/corpus-requests.ts';
import { connectGrpc } from '../helpers/grpc-client.ts';
import { type CorpusCase, readCorpus, runDirect } from '../helpers/onnx-backend-corpus.ts';
import { startTestServer } from '../helpers/test-server.ts';

/** Requests in flight at once, per protocol. */
const CONCURRENCY = 8;

async function eachBounded<T>(items: readonly T[], task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, lane));
}

test('every ONNX backend test case onnxruntime passes directly is served over REST and gRPC', async (t) => {
  const started = performance.now();
  const corpus = await readCorpus();
  const baseline: CorpusCase[] = [];
  const direct: string[] = [];
  for (const testCase of corpus.cases) {
    const why = await runDirect(testCase);
    if (why === undefined) baseline.push(testCase);
    else direct.push(`${testCase.id}: ${why}`);
  }
  assert.ok(baseline.length > 800, `only ${baseline.length} cases pass in onnxruntime directly`);

  const server = await startTestServer(t, {
    fixtures: [],
    overrides: { runtime: { workers: 2 } },
    async repository(dir) {
      for (const testCase of baseline) {
        await mkdir(join(dir, testCase.model, '1'), { recursive: true });
        await symlink(testCase.file, join(dir, testCase.model, '1', 'model.onnx'));
      }
    },
  });
  const loaded = performance.now();
  const index = await server.service.index();
  assert.deepEqual(
    index.filter((row) => row.state !== 'READY'),
    [],
    'every baseline model is READY, whether or not its synthetic warm-up worked',
  );
  const warmupFailed = index.filter((row) => (row.warmup?.failures ?? 0) > 0).length;

  const call = connectGrpc(t, server.grpcPort);
  const restFailures: string[] = [];
  const grpcFailures: string[] = [];
  await eachBounded(baseline, async (testCase) => {
    for (const set of testCase.dataSets) {
      const why = await inferOverRest({ server, model: testCase.model, set });
      if (why !== undefined) restFailures.push(`${testCase.id}: ${why}`);
    }
  });
  await eachBounded(baseline, async (testCase) => {
    for (const set of testCase.dataSets) {
      const why = await inferOverGrpc({ call, model: testCase.model, set });
      if (why !== undefined) grpcFailures.push(`${testCase.id}: ${why}`);
    }
  });

  const n = baseline.length;
  const reasons = new Map<string, number>();
  for (const e of corpus.excluded) {
    const kind = e.reason.replace(/^(input|output) "[^"]*" is /, '');
    reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
  }
  t.diagnostic(
    `onnx backend: ${n - restFailures.length}/${n} served over REST, ${n - grpcFailures.length}/${n} over gRPC ` +
      `(onnxruntime direct: ${n} of ${corpus.total}; ${direct.length} fail in onnxruntime itself; ` +
      `${corpus.excluded.length} not expressible: ${[...reasons].map(([k, c]) => `${c} ${k}`).join(', ')}); ` +
      `${warmupFailed} served although their zero-filled warm-up failed`,
  );
  t.diagnostic(
    `load ${((loaded - started) / 1000).toFixed(1)} s, requests ${((performance.now() - loaded) / 1000).toFixed(1)} s`,
  );
  assert.deepEqual(restFailures, [], 'REST');
  assert.deepEqual(grpcFailures, [], 'gRPC');
});
