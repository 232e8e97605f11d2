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
import { inferOverGrpc, inferOverRest, jsonCarries } from '../helpers/corpus-requests.ts';
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
  const direct = new Map<string, number>();
  for (const testCase of corpus.cases) {
    const why = await runDirect(testCase);
    if (why === undefined) baseline.push(testCase);
    else {
      const kind = why.startsWith('session:') ? 'cannot be loaded' : why.startsWith('run:') ? 'fail to run' : 'differ';
      direct.set(kind, (direct.get(kind) ?? 0) + 1);
    }
  }
  // About 960 cases pass with onnxruntime-node 1.30 and libonnx-testdata 1.12: far fewer means
  // the corpus or the reader broke, not that Stratum serves everything.
  assert.ok(baseline.length > 900, `only ${baseline.length} cases pass in onnxruntime directly`);
  const baselineDone = performance.now();

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
  const restFailures = new Map<string, string>();
  const grpcFailures = new Map<string, string>();
  await eachBounded(baseline, async (testCase) => {
    for (const set of testCase.dataSets) {
      const why = await inferOverRest({ server, model: testCase.model, set });
      if (why !== undefined) restFailures.set(testCase.id, why);
    }
  });
  const restDone = performance.now();
  await eachBounded(baseline, async (testCase) => {
    for (const set of testCase.dataSets) {
      const why = await inferOverGrpc({ call, model: testCase.model, set });
      if (why !== undefined) grpcFailures.set(testCase.id, why);
    }
  });
  const grpcDone = performance.now();

  const sets = baseline.flatMap((c) => c.dataSets);
  const restBinary = sets.filter((set) => ![...set.inputs, ...set.outputs].every(jsonCarries)).length;
  const grpcRaw = sets.filter((set) => [...set.inputs, ...set.outputs].some((x) => x.datatype === 'FP16')).length;
  const noInputs = baseline.filter((c) => c.dataSets.every((set) => set.inputs.length === 0)).length;
  const excluded = new Map<string, number>();
  for (const e of corpus.excluded) {
    const kind = e.reason.replace(/^(input|output) "[^"]*" is /, '');
    excluded.set(kind, (excluded.get(kind) ?? 0) + 1);
  }
  const list = (counts: Map<string, number>): string => [...counts].map(([k, c]) => `${c} ${k}`).join(', ');
  const n = baseline.length;
  t.diagnostic(
    `onnx backend: ${n - restFailures.size}/${n} served over REST, ${n - grpcFailures.size}/${n} over gRPC ` +
      `(onnxruntime direct: ${n} of ${corpus.total}; ${corpus.total - corpus.excluded.length - n} fail in ` +
      `onnxruntime itself: ${list(direct)}; ${corpus.excluded.length} not expressible in the protocol: ` +
      `${list(excluded)})`,
  );
  t.diagnostic(
    `${warmupFailed} served although their zero-filled warm-up failed; ${noInputs} without inputs; ` +
      `${restBinary} over REST needed the binary extension (FP16, NaN, ±Infinity or 64-bit integers beyond 2^53); ` +
      `${grpcRaw} over gRPC needed raw contents (FP16)`,
  );
  const seconds = (a: number, b: number): string => ((b - a) / 1000).toFixed(1);
  t.diagnostic(
    `read + onnxruntime direct ${seconds(started, baselineDone)} s, load ${seconds(baselineDone, loaded)} s, ` +
      `REST ${seconds(loaded, restDone)} s, gRPC ${seconds(restDone, grpcDone)} s`,
  );
  assert.deepEqual([...restFailures], [], 'REST');
  assert.deepEqual([...grpcFailures], [], 'gRPC');
});
