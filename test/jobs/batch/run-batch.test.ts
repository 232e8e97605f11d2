/**
 * runBatch in process on a real trained classifier and real files: every format in and out, SQL
 * through DuckDB, several chunks, bad rows skipped into the errors file or failing fast with
 * file and line, a wide single-input model fed by column order, and a cancel that leaves nothing.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqlDataset } from '../../../src/data/duckdb-source.ts';
import type { StratumError } from '../../../src/errors/index.ts';
import { runBatch } from '../../../src/jobs/batch/run-batch.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { buildMlp } from '../../../src/onnx/fixtures/mlp.ts';
import { createRuntimePool, type RuntimePool } from '../../../src/runtime/runtime-pool.ts';
import {
  csvText,
  inputRows,
  jsonlText,
  type Prediction,
  referencePredictions,
  tempDir,
  trainFixtureModel,
  writeInput,
} from './batch-fixture.ts';

const logger = createLogger({ level: 'silent' });
const ROWS = 2_500;
const rows = inputRows(ROWS);

let model: Uint8Array;
let reference: Map<string, Prediction>;
let runtime: RuntimePool;

test.before(async () => {
  model = await trainFixtureModel();
  reference = await referencePredictions(model, rows);
  runtime = createRuntimePool({ workers: 2, logger });
});
test.after(() => runtime.close());

/** The output's rows, read by DuckDB whatever the format. */
async function readOutput(path: string): Promise<Record<string, unknown>[]> {
  const reader = path.endsWith('.parquet')
    ? 'read_parquet($1)'
    : path.endsWith('.csv')
      ? "read_csv($1, header = true, types = {'id': 'VARCHAR', 'label': 'VARCHAR'})"
      : "read_json($1, format = 'newline_delimited')";
  const out: Record<string, unknown>[] = [];
  for await (const row of sqlDataset(`select * from ${reader}`, { params: [path] })) out.push(row);
  return out;
}

function assertMatchesReference(output: readonly Record<string, unknown>[], expectedIds: readonly string[]): void {
  assert.deepEqual(
    output.map((r) => r.id),
    expectedIds,
    'every row exactly once, in input order',
  );
  for (const row of output) {
    const want = reference.get(row.id as string) as Prediction;
    assert.equal(row.label, want.label, `label of ${String(row.id)}`);
    assert.ok(Math.abs((row.probabilities_leave as number) - want.leave) < 1e-6, `P(leave) of ${String(row.id)}`);
  }
}

async function writeModel(dir: string): Promise<string> {
  const path = join(dir, 'model.onnx');
  await writeFile(path, model);
  return path;
}

const allIds = rows.map((r) => r.id);

for (const [input, output] of [
  ['csv', 'csv'],
  ['jsonl', 'jsonl'],
  ['csv', 'parquet'],
  ['jsonl', 'csv'],
] as const) {
  test(`${input} in, ${output} out, in 5 chunks: every row once, equal to one session.run`, async (t) => {
    const dir = await tempDir(t);
    const path = await writeInput(dir, `in.${input}`, input === 'csv' ? csvText(rows) : jsonlText(rows));
    const out = join(dir, `out.${output}`);
    const progress: number[] = [];
    const result = await runBatch({
      spec: {
        model: await writeModel(dir),
        input: { path },
        output: out,
        chunkRows: 500,
        batchRows: 128,
        passThrough: ['id'],
      },
      runtime,
      onProgress: (p) => progress.push(p.rowsDone),
    });
    assert.equal(result.rows, ROWS);
    assert.equal(result.written, ROWS);
    assert.equal(result.chunks, 5);
    assert.equal(progress.at(-1), ROWS);
    assertMatchesReference(await readOutput(out), allIds);
    assert.equal(existsSync(`${out}.parts`), false, 'the parts folder is removed');
  });
}

test('a Parquet input and a SQL query through DuckDB', async (t) => {
  const dir = await tempDir(t);
  const csv = await writeInput(dir, 'in.csv', csvText(rows));
  const parquet = join(dir, 'in.parquet');
  await sqlDataset(`copy (select * from read_csv($1, types = {'id': 'VARCHAR'})) to '${parquet}' (format parquet)`, {
    params: [csv],
  }).toArray();
  const modelPath = await writeModel(dir);
  const fromParquet = join(dir, 'a.jsonl');
  await runBatch({
    spec: { model: modelPath, input: { path: parquet }, output: fromParquet, chunkRows: 700, passThrough: ['id'] },
    runtime,
  });
  assertMatchesReference(await readOutput(fromParquet), allIds);

  const fromSql = join(dir, 'b.parquet');
  const result = await runBatch({
    spec: {
      model: modelPath,
      input: { sql: `select * from read_parquet('${parquet}') where city = 'paris'` },
      output: fromSql,
      chunkRows: 100,
      passThrough: ['id'],
    },
    runtime,
  });
  const parisIds = rows.filter((r) => r.city === 'paris').map((r) => r.id);
  assert.equal(result.rows, parisIds.length);
  assertMatchesReference(await readOutput(fromSql), parisIds);
});

test('onBadRow skip: bad rows go to the errors file with file, line and reason; the others are written', async (t) => {
  const dir = await tempDir(t);
  const lines = csvText(rows.slice(0, 300)).split('\n');
  lines[5] = 'r4,forty,1000,paris,good'; // line 6: age is not a number
  lines[101] = 'r100,33,1000'; // line 102: too few fields
  const path = await writeInput(dir, 'in.csv', lines.join('\n'));
  const out = join(dir, 'out.csv');
  const result = await runBatch({
    spec: {
      model: await writeModel(dir),
      input: { path },
      output: out,
      chunkRows: 64,
      passThrough: ['id'],
      onBadRow: 'skip',
    },
    runtime,
  });
  assert.equal(result.badRows, 2);
  assert.equal(result.written, 298);
  const errors = (await readFile(`${out}.errors.jsonl`, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { file: string; line: number; reason: string });
  assert.deepEqual(
    errors.map((e) => [e.file, e.line]),
    [
      [path, 6],
      [path, 102],
    ],
  );
  assert.match(errors[0]?.reason ?? '', /column "age": expected a number, got "forty"/);
  assert.match(errors[1]?.reason ?? '', /3 fields, the header has 5/);
  const written = await readOutput(out);
  assert.deepEqual(
    written.map((r) => r.id),
    rows
      .slice(0, 300)
      .map((r) => r.id)
      .filter((id) => id !== 'r4' && id !== 'r100'),
  );
});

test('onBadRow fail: the batch fails fast naming the file and line, and leaves no output', async (t) => {
  const dir = await tempDir(t);
  const lines = jsonlText(rows.slice(0, 200)).split('\n');
  lines[150] = '{"id": "r150", "age": 3';
  const path = await writeInput(dir, 'in.jsonl', lines.join('\n'));
  const out = join(dir, 'out.jsonl');
  await assert.rejects(
    runBatch({ spec: { model: await writeModel(dir), input: { path }, output: out, chunkRows: 50 }, runtime }),
    (error: StratumError) => {
      assert.equal(error.code, 'BAD_REQUEST');
      assert.match(error.message, new RegExp(`${path}: line 151: not valid JSON`));
      assert.deepEqual((error.details as { line: number }).line, 151);
      return true;
    },
  );
  assert.equal(existsSync(out), false);
});

test('a wide single-input model takes the feature columns in file order', async (t) => {
  const dir = await tempDir(t);
  const modelPath = join(dir, 'mlp.onnx');
  await writeFile(modelPath, buildMlp({ hidden: 16 }));
  const header = ['key', ...Array.from({ length: 784 }, (_, i) => `p${i}`)];
  const body = Array.from({ length: 40 }, (_, r) =>
    [`k${r}`, ...Array.from({ length: 784 }, (_, i) => ((r * 7 + i) % 13) / 13)].join(','),
  );
  const path = await writeInput(dir, 'pixels.csv', `${header.join(',')}\n${body.join('\n')}\n`);
  const out = join(dir, 'logits.jsonl');
  await runBatch({
    spec: { model: modelPath, input: { path }, output: out, chunkRows: 16, passThrough: ['key'] },
    runtime,
  });
  const written = await readOutput(out);
  assert.equal(written.length, 40);
  assert.deepEqual(Object.keys(written[0] ?? {}), ['key', ...Array.from({ length: 10 }, (_, k) => `logits_${k}`)]);
});

test('a cancel stops the batch and leaves no output, no parts and no temporary file', async (t) => {
  const dir = await tempDir(t);
  const path = await writeInput(dir, 'in.csv', csvText(rows));
  const out = join(dir, 'out.csv');
  const controller = new AbortController();
  const cancelled = runBatch({
    spec: { model: await writeModel(dir), input: { path }, output: out, chunkRows: 100, batchRows: 20 },
    runtime,
    concurrency: 1,
    signal: controller.signal,
    onProgress: (p) => {
      if (p.chunksDone >= 2) controller.abort(new Error('cancelled by the test'));
    },
  });
  await assert.rejects(cancelled, /cancelled by the test/);
  assert.deepEqual((await readdir(dir)).sort(), ['in.csv', 'model.onnx']);
});

test('a spec with unknown keys or an unknown output format is refused before any work', async () => {
  await assert.rejects(
    runBatch({ spec: { model: 'm.onnx', input: { path: 'x.csv' }, output: 'o.csv', chunkSize: 5 }, runtime }),
    (error: StratumError) => error.code === 'BAD_REQUEST' && /chunkSize/.test(error.message),
  );
  await assert.rejects(
    runBatch({ spec: { model: 'm.onnx', input: { path: 'x.csv' }, output: 'o.xlsx' }, runtime }),
    /\.csv, \.jsonl or \.parquet/,
  );
});
