/**
 * Batch chunks in the background thread `stratum serve` uses: a batch job over the embedded queue
 * (a real SQLite file) writes exactly what one session.run over every row gives, and the threads
 * that ran it — the chunk thread and the session threads it started — run at nice 19 while the
 * main thread keeps its priority (read from /proc, Linux only); a cancelled chunk stops there and
 * leaves no part.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isStratumError, StratumError } from '../../../src/errors/index.ts';
import { backgroundChunkExecutor } from '../../../src/jobs/batch/background-chunk-executor.ts';
import { createBatchHandlers } from '../../../src/jobs/batch/batch-handlers.ts';
import { planBatch } from '../../../src/jobs/batch/batch-plan.ts';
import { parseBatchSpec, partsDir } from '../../../src/jobs/batch/batch-spec.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import type { JobHandler } from '../../../src/queue/job-queue.ts';
import { openJobQueue } from '../../../src/queue/open-job-queue.ts';
import { createRuntimePool } from '../../../src/runtime/runtime-pool.ts';
import { waitForJob } from '../../queue/job-queue-conformance.ts';
import { csvText, inputRows, referencePredictions, tempDir, trainFixtureModel, writeInput } from './batch-fixture.ts';

const logger = createLogger({ level: 'silent' });

/** The nice value of every thread of this process, by thread id (/proc/self/task/<tid>/stat field 19). */
async function threadNiceness(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const tid of await readdir('/proc/self/task')) {
    const stat = await readFile(`/proc/self/task/${tid}/stat`, 'utf8').catch(() => undefined);
    if (stat === undefined) continue; // the thread ended meanwhile
    // Fields after the command name (which may hold spaces) start at field 3, so field 19 is [16].
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(Number(tid), Number(fields[16]));
  }
  return out;
}

test('a batch job run by the background executor matches the reference, in threads at nice 19', async (t) => {
  const dir = await tempDir(t);
  const model = await trainFixtureModel();
  const modelPath = join(dir, 'model.onnx');
  await writeFile(modelPath, model);
  const data = inputRows(1_200, 17);
  const input = await writeInput(dir, 'in.csv', csvText(data));
  const queue = await openJobQueue({
    queueUrl: 'embedded',
    databaseUrl: `sqlite:${join(dir, 'stratum.db')}`,
    name: `background-chunks-${process.pid}`,
    pollMs: 50,
  });
  t.after(() => queue.close());
  const runtime = createRuntimePool({ workers: 1, logger });
  t.after(() => runtime.close());
  // As in `stratum serve`, onnxruntime is first used at normal priority (a served model): the
  // thread it starts for the whole process the first time takes the priority of its creator.
  await runtime.load({ key: 'served', bytes: model, instances: 1, settings: { intraOpThreads: 1, interOpThreads: 1 } });
  const chunks = backgroundChunkExecutor({ workers: 2 });
  const batch = createBatchHandlers({ queue, runtime, chunks });
  t.after(() => batch.close());
  const handler: JobHandler = (job) => batch.handlers[job.record.kind as 'batch-infer'](job);
  const worker = queue.work({ handler, concurrency: 2 });
  t.after(() => worker.close());

  const output = join(dir, 'out.jsonl');
  const job = await queue.submit({
    kind: 'batch-infer',
    payload: { model: modelPath, input: { path: input }, output, chunkRows: 300, passThrough: ['id'] },
  });
  const done = await waitForJob(queue, job.id, (r) => r.state === 'completed' || r.state === 'failed');
  assert.equal(done.state, 'completed', JSON.stringify(done.error));
  assert.equal((done.result as { written: number }).written, 1_200);
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

  if (process.platform !== 'linux') return;
  // The executor is open: its chunk thread and that thread's two session threads are alive.
  const niceness = await threadNiceness();
  assert.equal(niceness.get(process.pid), 0, 'the main thread keeps its priority');
  const lowered = [...niceness.values()].filter((n) => n === 19).length;
  assert.ok(
    lowered >= 3,
    `the chunk thread and its 2 session threads at nice 19; nice values: ${[...niceness.values()]}`,
  );
  await batch.close();
  const after = await threadNiceness();
  assert.equal([...after.values()].filter((n) => n === 19).length, 0, 'the background threads ended with close()');
});

test('a chunk cancelled in the background thread rejects with the reason and leaves no part', async (t) => {
  const dir = await tempDir(t);
  const modelPath = join(dir, 'model.onnx');
  await writeFile(modelPath, await trainFixtureModel());
  const input = await writeInput(dir, 'in.csv', csvText(inputRows(2_000, 5)));
  const spec = parseBatchSpec({ model: modelPath, input: { path: input }, output: join(dir, 'out.csv') });
  const { plan } = await planBatch({ spec });
  const chunk = plan.chunks[0];
  assert.ok(chunk !== undefined);
  const chunks = backgroundChunkExecutor();
  t.after(() => chunks.close());
  const reason = new StratumError('JOB_CANCELLED', 'cancelled by the test');
  // Aborted before the thread answers: the reply is awaited, then the signal's reason is thrown.
  const controller = new AbortController();
  const running = chunks.run({ spec, plan, chunk, signal: controller.signal });
  controller.abort(reason);
  await assert.rejects(running, (error) => isStratumError(error) && error.message === 'cancelled by the test');
  const left = existsSync(partsDir(spec)) ? await readdir(partsDir(spec)) : [];
  assert.deepEqual(
    left.filter((f) => f.startsWith('part-')),
    [],
    'no part file, whole or temporary',
  );
});
