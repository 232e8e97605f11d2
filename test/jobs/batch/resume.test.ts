/**
 * A batch killed with SIGKILL part-way (in a child process, once some part files exist — waited
 * for, not timed) resumes at its first unfinished chunk: the chunks already done are not run
 * again, and the output holds every input row exactly once, equal to one session.run over all.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runBatch } from '../../../src/jobs/batch/run-batch.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { createRuntimePool } from '../../../src/runtime/runtime-pool.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { csvText, inputRows, referencePredictions, tempDir, trainFixtureModel, writeInput } from './batch-fixture.ts';

const CHILD = fileURLToPath(new URL('./batch-child.ts', import.meta.url));
const ROWS = 30_000;

test('kill -9 after some chunks, then resume: every row exactly once, equal to a one-shot run', async (t) => {
  const dir = await tempDir(t);
  const rows = inputRows(ROWS, 21);
  const model = await trainFixtureModel();
  const modelPath = join(dir, 'model.onnx');
  await writeFile(modelPath, model);
  const input = await writeInput(dir, 'in.csv', csvText(rows));
  const output = join(dir, 'out.jsonl');
  const spec = { model: modelPath, input: { path: input }, output, chunkRows: 150, batchRows: 50, passThrough: ['id'] };

  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(spec)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let said = '';
  child.stdout.on('data', (d: Buffer) => (said += d.toString()));
  child.stderr.on('data', (d: Buffer) => (said += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  t.after(() => void (child.exitCode === null && child.kill('SIGKILL')));
  const parts = (): Promise<string[]> =>
    readdir(`${output}.parts`)
      .then((names) => names.filter((n) => /^part-\d+\.jsonl$/.test(n)))
      .catch(() => []);
  await waitFor('three finished chunks', async () => (await parts()).length >= 3 || said.includes('done'), {
    everyMs: 1,
  });
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', `the child was killed mid-batch (it said: ${said})`);
  const before = await parts();
  assert.ok(before.length >= 3 && before.length < ROWS / 150, `${before.length} chunks were done at the kill`);
  assert.equal(existsSync(output), false, 'no output before the batch finished');

  const runtime = createRuntimePool({ workers: 2, logger: createLogger({ level: 'silent' }) });
  t.after(() => runtime.close());
  const result = await runBatch({ spec, runtime });
  t.diagnostic(`killed after ${before.length} of ${result.chunks} chunks; resumed ${result.resumedChunks}`);
  assert.ok(result.resumedChunks >= before.length, 'the chunks done before the kill are not run again');
  assert.equal(result.written, ROWS);

  const written = (await readFile(output, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: string; label: string; probabilities_leave: number });
  assert.deepEqual(
    written.map((r) => r.id),
    rows.map((r) => r.id),
    'every row exactly once, in order',
  );
  const reference = await referencePredictions(model, rows);
  for (const row of written) {
    const want = reference.get(row.id);
    assert.equal(row.label, want?.label);
    assert.ok(Math.abs(row.probabilities_leave - (want?.leave ?? Number.NaN)) < 1e-6, `P(leave) of ${row.id}`);
  }
  assert.equal(existsSync(`${output}.parts`), false);
});
