// The inference log's writer and recorder on a real SQLite store: a full buffer drops and counts
// instead of blocking, close() writes what is buffered, sampling follows the deployment's rate,
// and ids are generated only where requests may be logged; the worker-thread sink a server uses
// converts, redacts, writes and prunes on its own connection, and a database it cannot open is
// counted as failed writes.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { Registry } from 'prom-client';
import { createInferenceLogRecorder } from '../../src/deploy/inference-log-recorder.ts';
import { openThreadLogSink } from '../../src/deploy/inference-log-thread-sink.ts';
import { createInferenceLogWriter, type PendingLogRecord } from '../../src/deploy/inference-log-writer.ts';
import { packLogBatch } from '../../src/deploy/log-batch-packing.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createInferenceLogMetrics } from '../../src/monitor/inference-log-metrics.ts';
import { stackInputs } from '../../src/serving/batch-tensors.ts';
import { openInferenceLogStore } from '../../src/store/open-inference-log-store.ts';
import { freshPostgresUrl } from '../helpers/test-server.ts';

function pending(requestId: string): PendingLogRecord {
  return {
    requestId,
    deployment: 'd',
    model: 'd',
    version: '1',
    at: Date.now(),
    latencyMs: 1,
    inputs: [{ name: 'x', datatype: 'INT64', shape: [1], data: BigInt64Array.from([7n]) }],
    outputs: [{ name: 'y', datatype: 'FP32', shape: [1], data: Float32Array.from([0.5]) }],
    redact: {},
  };
}

async function counter(registry: Registry, outcome: string): Promise<number> {
  const metric = await registry.getSingleMetric('stratum_inference_log_records_total')?.get();
  return metric?.values.find((v) => v.labels.outcome === outcome)?.value ?? 0;
}

/** A writer on this thread into a SQLite log in a temporary folder, with room for `bufferSize` records. */
async function storeWriter(t: TestContext, bufferSize: number) {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-logwriter-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const store = await openInferenceLogStore({ url: `sqlite:${join(dir, 'log.db')}` });
  t.after(() => store.close());
  const registry = new Registry();
  const writer = createInferenceLogWriter({
    store,
    settings: {
      bufferSize,
      batchSize: 10,
      flushIntervalMs: 600_000,
      retentionDays: 0,
      maxRows: 0,
      pruneIntervalMs: 600_000,
    },
    metrics: createInferenceLogMetrics(registry),
    logger: createLogger({ level: 'silent' }),
  });
  return { store, registry, writer };
}

test('a full buffer drops and counts; close() writes what is buffered', async (t) => {
  const { store, registry, writer } = await storeWriter(t, 2);
  assert.equal(writer.offer(pending('a')), true);
  assert.equal(writer.offer(pending('b')), true);
  assert.equal(writer.offer(pending('c')), false, 'the third does not fit');
  assert.equal(await counter(registry, 'dropped'), 1);
  assert.equal(await store.count(), 0, 'nothing is written on the request path');
  await writer.close();
  await writer.close();
  assert.equal(writer.offer(pending('d')), false, 'closed');
  assert.equal(await counter(registry, 'written'), 2);
  const rows = await store.readWindow({ deployment: 'd', limit: 10 });
  assert.deepEqual(rows.map((r) => r.requestId).sort(), ['a', 'b']);
  assert.deepEqual(rows[0]?.inputs.x, { datatype: 'INT64', shape: [1], data: [7] });
});

test('a record that cannot be packed fails alone, counted, and the batch it was offered to is intact', async (t) => {
  const { store, registry, writer } = await storeWriter(t, 10);
  assert.equal(writer.offer(pending('a')), true);
  // Its tensors are copied in before its fields fail to serialise.
  const unpackable = { ...pending('bad'), redact: { x: 1n } as unknown as PendingLogRecord['redact'] };
  assert.equal(writer.offer(unpackable), false);
  assert.equal(writer.offer(pending('b')), true);
  assert.equal(writer.pending, 2);
  await writer.close();
  assert.equal(await counter(registry, 'failed'), 1);
  assert.equal(await counter(registry, 'written'), 2);
  const rows = await store.readWindow({ deployment: 'd', limit: 10 });
  assert.deepEqual(rows.map((r) => [r.requestId, r.inputs.x?.data, r.outputs.y?.data]).sort(), [
    ['a', [7], [0.5]],
    ['b', [7], [0.5]],
  ]);
});

test('the recorder samples at the deployment rate and generates ids only for the requests it logs', () => {
  const offered: PendingLogRecord[] = [];
  const draws = [0.1, 0.6, 0.7, 0.3];
  let ids = 0;
  const recorder = createInferenceLogRecorder({
    settings: {
      sampleRate: 0,
      redact: { x: 'hash' },
      deployments: { fraud: { sampleRate: 0.5, redact: { card: 'drop' } } },
    },
    writer: { offer: (r) => offered.push(r) > 0 },
    random: () => draws.shift() ?? 0.99,
    newId: () => `gen-${++ids}`,
  });
  const request = {
    inputs: [{ name: 'x', datatype: 'FP32' as const, shape: [1], data: Float32Array.from([1]) }],
    binaryOutputs: false,
  };
  const quiet = recorder.begin('other', request);
  assert.equal(quiet.request, request, 'a name logged at rate 0 is untouched');
  assert.equal(quiet.capture, undefined);
  const first = recorder.begin('fraud', request);
  assert.equal(first.request.id, 'gen-1');
  assert.ok(first.capture !== undefined, '0.1 < 0.5: sampled');
  const second = recorder.begin('fraud', { ...request, id: 'mine' });
  assert.equal(second.request.id, 'mine');
  assert.equal(second.capture, undefined, '0.6 ≥ 0.5: not sampled');
  const third = recorder.begin('fraud', request);
  assert.equal(third.request, request, 'a request that is not logged gets no id: feedback could not name it');
  assert.equal(third.capture, undefined);
  // The capture holds a copy: running the request may transfer its buffer away.
  (request.inputs[0]?.data as Float32Array)[0] = 42;
  assert.equal((first.capture?.inputs[0]?.data as Float32Array)[0], 1);
  recorder.end(first.capture!, {
    model: 'fraud',
    version: '3',
    response: { modelName: 'fraud', modelVersion: '3', outputs: [] },
  });
  assert.equal(offered.length, 1);
  assert.deepEqual(offered[0]?.redact, { x: 'hash', card: 'drop' });
  assert.equal(offered[0]?.requestId, 'gen-1');
  assert.equal(offered[0]?.version, '3');
});

test('the recorder keeps views into a request body and copies arrays running may transfer away', () => {
  const offered: PendingLogRecord[] = [];
  const recorder = createInferenceLogRecorder({
    settings: { sampleRate: 1, redact: {}, deployments: {} },
    writer: { offer: (r) => offered.push(r) > 0 },
  });
  // A binary request's tensor is a view into its body: stacking only reads it.
  const body = new Uint8Array(64);
  const view = new Float32Array(body.buffer, 16, 2);
  const owned = Float32Array.from([3]);
  const strings = [new TextEncoder().encode('a')];
  const { capture } = recorder.begin('m', {
    inputs: [
      { name: 'v', datatype: 'FP32', shape: [1, 2], data: view },
      { name: 'o', datatype: 'FP32', shape: [1], data: owned },
      { name: 's', datatype: 'BYTES', shape: [1], data: strings },
    ],
    binaryOutputs: false,
  });
  const [v, o, s] = capture?.inputs ?? [];
  assert.equal(v?.data, view, 'no copy of a view');
  assert.equal(s?.data, strings, 'no copy of BYTES');
  assert.notEqual(o?.data, owned, 'a whole-buffer array is copied');
  assert.deepEqual([...(o?.data as Float32Array)], [3]);
  // What keeping the view relies on: a batch of one sends a copy of a view, never the view's buffer.
  const [feed] = stackInputs([{ name: 'v', datatype: 'FP32', shape: [-1, 2] }], [[capture!.inputs[0]!]], 1);
  assert.notEqual(feed?.data, view);
  assert.notEqual((feed?.data as Float32Array).buffer, body.buffer);
});

const SETTINGS = {
  bufferSize: 100,
  batchSize: 10,
  flushIntervalMs: 600_000,
  retentionDays: 0,
  maxRows: 2,
  pruneIntervalMs: 600_000,
};

test('in a worker thread: converted, redacted and written by its own connection, pruned, closed', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-logthread-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const url = `sqlite:${join(dir, 'log.db')}`;
  const sink = openThreadLogSink({ url });
  t.after(() => sink.close());
  const registry = new Registry();
  const writer = createInferenceLogWriter({
    sink,
    settings: SETTINGS,
    metrics: createInferenceLogMetrics(registry),
    logger: createLogger({ level: 'silent' }),
  });
  // An output that is one row of a batch's buffer: only the row is logged.
  const batchOutput = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
  for (const [i, id] of ['a', 'b', 'c'].entries()) {
    writer.offer({
      ...pending(id),
      at: 1000 + i,
      inputs: [
        { name: 'x', datatype: 'INT64', shape: [1], data: BigInt64Array.from([7n]) },
        { name: 'card', datatype: 'BYTES', shape: [1], data: [new TextEncoder().encode('4111')] },
      ],
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [1, 2], data: batchOutput.subarray(2 * (i % 2), 2 * (i % 2) + 2) },
      ],
      redact: { card: 'hash' },
    });
  }
  await writer.flush();
  assert.equal(await counter(registry, 'written'), 3);
  assert.deepEqual([...batchOutput], [0.1, 0.2, 0.3, 0.4].map(Math.fround), 'what was logged is copied, not taken');
  const store = await openInferenceLogStore({ url });
  t.after(() => store.close());
  const rows = await store.readWindow({ deployment: 'd', limit: 10 });
  assert.deepEqual(
    rows.map((r) => r.requestId),
    ['a', 'b', 'c'],
  );
  assert.deepEqual(rows[0]?.inputs.x, { datatype: 'INT64', shape: [1], data: [7] });
  assert.equal(rows[0]?.inputs.card?.redacted, 'hash');
  assert.match(String(rows[0]?.inputs.card?.data[0]), /^[0-9a-f]{16}$/);
  assert.notEqual(rows[0]?.inputs.card?.data[0], '4111');
  assert.deepEqual(
    rows.map((r) => r.outputs.y?.data.map((v) => Math.round(Number(v) * 10))),
    [
      [1, 2],
      [3, 4],
      [1, 2],
    ],
  );
  // Retention runs in the thread too: keep the newest two.
  assert.equal(await writer.prune(), 1);
  assert.equal(await store.count(), 2);
  await writer.close();
  await sink.close();
  await assert.rejects(sink.write(packLogBatch([])), { code: 'SHUTTING_DOWN' });
});

test('in a worker thread: a database that cannot be opened fails the writes, counted, never thrown', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stratum-logthread-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'not-a-folder'), '');
  const sink = openThreadLogSink({ url: `sqlite:${join(dir, 'not-a-folder', 'log.db')}` });
  t.after(() => sink.close());
  const registry = new Registry();
  const writer = createInferenceLogWriter({
    sink,
    settings: SETTINGS,
    metrics: createInferenceLogMetrics(registry),
    logger: createLogger({ level: 'silent' }),
  });
  assert.equal(writer.offer(pending('a')), true);
  await writer.flush();
  assert.equal(await counter(registry, 'failed'), 1);
  assert.equal(await counter(registry, 'written'), 0);
  await writer.close();
});

test('in a worker thread on PostgreSQL: written by the thread, read back on another connection', async (t) => {
  const url = await freshPostgresUrl(t);
  const sink = openThreadLogSink({ url });
  t.after(() => sink.close());
  const registry = new Registry();
  const writer = createInferenceLogWriter({
    sink,
    settings: SETTINGS,
    metrics: createInferenceLogMetrics(registry),
    logger: createLogger({ level: 'silent' }),
  });
  for (const id of ['p', 'q']) writer.offer(pending(id));
  await writer.close();
  assert.equal(await counter(registry, 'written'), 2);
  const store = await openInferenceLogStore({ url });
  t.after(() => store.close());
  const rows = await store.readWindow({ deployment: 'd', limit: 10 });
  assert.deepEqual(rows.map((r) => r.requestId).sort(), ['p', 'q']);
  assert.deepEqual(rows[0]?.outputs.y, { datatype: 'FP32', shape: [1], data: [0.5] });
});
