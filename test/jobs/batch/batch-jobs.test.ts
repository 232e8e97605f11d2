/**
 * Batch inference as queue jobs on the embedded queue (a real SQLite file) with two in-process
 * workers: the `batch-infer` job fans out one `batch-chunk` job per chunk, the workers run them,
 * the output equals one session.run over every row; a cancelled batch leaves no output and no
 * parts; a mapping that does not fit fails the batch job without queueing chunks.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { sqlDataset } from '../../../src/data/duckdb-source.ts';
import { createBatchHandlers } from '../../../src/jobs/batch/batch-handlers.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { dropBullmqQueue } from '../../../src/queue/drop-bullmq-queue.ts';
import type { JobHandler, JobQueue } from '../../../src/queue/job-queue.ts';
import { openJobQueue } from '../../../src/queue/open-job-queue.ts';
import { createRuntimePool } from '../../../src/runtime/runtime-pool.ts';
import { waitForJob } from '../../queue/job-queue-conformance.ts';
import { csvText, inputRows, referencePredictions, tempDir, trainFixtureModel, writeInput } from './batch-fixture.ts';

const logger = createLogger({ level: 'silent' });

/** Two workers, each its own queue connection, runtime pool and handlers, as two processes would have. */
async function startWorkers(
  t: TestContext,
  options: {
    databaseUrl: string;
    name: string;
    ranChunks: string[];
    workers?: number;
    concurrency?: number;
    queueUrl?: string;
    /** Chunk jobs wait for their signal to abort before they run: the batch cannot finish first. */
    holdChunks?: boolean;
  },
): Promise<JobQueue> {
  const { databaseUrl, name } = options;
  const queueUrl = options.queueUrl ?? 'embedded';
  const submitter = await openJobQueue({ queueUrl, databaseUrl, name, pollMs: 50 });
  t.after(() => submitter.close());
  for (let w = 0; w < (options.workers ?? 2); w++) {
    const queue = await openJobQueue({ queueUrl, databaseUrl, name, pollMs: 50 });
    const runtime = createRuntimePool({ workers: 1, logger });
    const batch = createBatchHandlers({ queue, runtime });
    const handler: JobHandler = async (job) => {
      if (job.record.kind === 'batch-chunk') {
        options.ranChunks.push(`worker-${w}`);
        if (options.holdChunks === true && !job.signal.aborted) {
          await new Promise((resolve) => job.signal.addEventListener('abort', resolve, { once: true }));
        }
      }
      return batch.handlers[job.record.kind as 'batch-infer'](job);
    };
    const worker = queue.work({ handler, concurrency: options.concurrency ?? 2, name: `worker-${w}` });
    t.after(async () => {
      await worker.close();
      await batch.close();
      await runtime.close();
      await queue.close();
    });
  }
  return submitter;
}

async function setUp(
  t: TestContext,
  rows: number,
  layout: { workers?: number; concurrency?: number; queueUrl?: string; name?: string; holdChunks?: boolean } = {},
) {
  const dir = await tempDir(t);
  const model = await trainFixtureModel();
  const modelPath = join(dir, 'model.onnx');
  await writeFile(modelPath, model);
  const data = inputRows(rows, 31);
  const input = await writeInput(dir, 'in.csv', csvText(data));
  const ranChunks: string[] = [];
  const queue = await startWorkers(t, {
    databaseUrl: `sqlite:${join(dir, 'stratum.db')}`,
    name: layout.name ?? `batch-${process.pid}-${rows}`,
    ranChunks,
    ...layout,
  });
  return { dir, model, modelPath, data, input, queue, ranChunks };
}

test('a batch-infer job spreads its chunks over two workers and assembles the output once', async (t) => {
  const { dir, model, modelPath, data, input, queue, ranChunks } = await setUp(t, 3_000);
  const output = join(dir, 'out.jsonl');
  const job = await queue.submit({
    kind: 'batch-infer',
    payload: { model: modelPath, input: { path: input }, output, chunkRows: 250, passThrough: ['id'] },
  });
  const started = performance.now();
  const done = await waitForJob(queue, job.id, (r) => r.state === 'completed' || r.state === 'failed');
  t.diagnostic(`batch job took ${Math.round(performance.now() - started)} ms`);
  assert.equal(done.state, 'completed', JSON.stringify(done.error));
  assert.deepEqual(done.result, {
    output,
    rows: 3_000,
    written: 3_000,
    badRows: 0,
    chunks: 12,
    resumedChunks: 0,
    model: modelPath,
  });
  const children = await queue.list({ parentId: job.id, limit: 100 });
  assert.equal(children.items.length, 12, 'one chunk job per chunk');
  // A chunk the coordinator ran itself while its job waited is cancelled; the others completed.
  assert.ok(
    children.items.every((c) => c.kind === 'batch-chunk' && (c.state === 'completed' || c.state === 'cancelled')),
    JSON.stringify(children.items.map((c) => c.state)),
  );
  const perWorker = ranChunks.reduce<Record<string, number>>((n, w) => ({ ...n, [w]: (n[w] ?? 0) + 1 }), {});
  t.diagnostic(`chunk attempts per worker: ${JSON.stringify(perWorker)}`);
  const written = (await readFile(output, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { id: string; label: string; probabilities_leave: number });
  assert.deepEqual(
    written.map((r) => r.id),
    data.map((r) => r.id),
  );
  const reference = await referencePredictions(model, data);
  for (const row of written) {
    assert.equal(row.label, reference.get(row.id)?.label);
    assert.ok(Math.abs(row.probabilities_leave - (reference.get(row.id)?.leave ?? NaN)) < 1e-6);
  }
  assert.equal(existsSync(`${output}.parts`), false);
});

test('cancelling a batch job stops its chunks and leaves no output and no parts', async (t) => {
  // A chunk job a worker takes is held until the cancel reaches it, so the batch is still running
  // when it is cancelled however fast the machine is; the coordinator runs the chunks no worker took.
  const { dir, modelPath, input, queue, ranChunks } = await setUp(t, 20_000, { holdChunks: true });
  const output = join(dir, 'out.csv');
  const job = await queue.submit({
    kind: 'batch-infer',
    payload: { model: modelPath, input: { path: input }, output, chunkRows: 200, batchRows: 50 },
  });
  await waitForJob(queue, job.id, (r) => r.state === 'active' && ranChunks.length >= 1);
  await queue.cancel(job.id);
  const cancelled = await waitForJob(queue, job.id, (r) => r.state !== 'active');
  assert.equal(cancelled.state, 'cancelled');
  const children = await queue.list({ parentId: job.id, limit: 1000 });
  assert.ok(children.items.every((c) => c.state === 'completed' || c.state === 'cancelled'));
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.startsWith('out')),
    [],
    'no output, no parts, no temporary file',
  );
  assert.equal(existsSync(output), false);
  assert.equal(existsSync(`${output}.parts`), false);
});

test('a mapping the model cannot take fails the batch job at once, with no chunk queued', async (t) => {
  const { dir, modelPath, input, queue } = await setUp(t, 100);
  const job = await queue.submit({
    kind: 'batch-infer',
    payload: { model: modelPath, input: { path: input }, output: join(dir, 'o.csv'), inputs: { nope: 'id' } },
  });
  const failed = await waitForJob(queue, job.id, (r) => r.state === 'failed');
  assert.equal(failed.error?.code, 'BAD_REQUEST');
  assert.match(failed.error?.message ?? '', /no input "nope"/);
  assert.equal((await queue.list({ parentId: job.id })).items.length, 0);
});

test('one worker with one slot finishes a batch: the coordinator runs the chunks no one took', async (t) => {
  const { dir, input, modelPath, data, queue } = await setUp(t, 1_000, { workers: 1, concurrency: 1 });
  const output = join(dir, 'out.csv');
  const job = await queue.submit({
    kind: 'batch-infer',
    payload: { model: modelPath, input: { path: input }, output, chunkRows: 200, passThrough: ['id'] },
  });
  const done = await waitForJob(queue, job.id, (r) => r.state === 'completed' || r.state === 'failed');
  assert.equal(done.state, 'completed', JSON.stringify(done.error));
  const ids = (await readFile(output, 'utf8'))
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.split(',')[0]);
  assert.deepEqual(
    ids,
    data.map((r) => r.id),
  );
  const children = await queue.list({ parentId: job.id, limit: 100 });
  assert.equal(children.items.length, 5);
  assert.ok(children.items.every((c) => c.state === 'cancelled' || c.state === 'completed'));
});

test('bullmq: the same fan-out on Redis, one output row per input row', async (t) => {
  const queueUrl = 'redis://127.0.0.1:6379';
  const name = `test-batch-${randomUUID()}`;
  t.after(() => dropBullmqQueue({ url: queueUrl, name }));
  const { dir, input, modelPath, data, queue, ranChunks } = await setUp(t, 1_500, { queueUrl, name });
  assert.equal(queue.engine, 'bullmq');
  const output = join(dir, 'out.parquet');
  const job = await queue.submit({
    kind: 'batch-infer',
    payload: { model: modelPath, input: { path: input }, output, chunkRows: 250, passThrough: ['id'] },
  });
  const done = await waitForJob(queue, job.id, (r) => r.state === 'completed' || r.state === 'failed');
  assert.equal(done.state, 'completed', JSON.stringify(done.error));
  t.diagnostic(`chunk attempts: ${ranChunks.length} for 6 chunks`);
  const written = await sqlDataset('select id from read_parquet($1)', { params: [output] }).toArray();
  assert.deepEqual(
    written.map((r) => r.id),
    data.map((r) => r.id),
  );
});
