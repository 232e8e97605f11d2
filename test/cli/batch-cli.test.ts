/**
 * `stratum batch` as a user runs it (the compiled CLI in a child process): a file model over a CSV
 * to Parquet with an id passed through, the JSON result, progress lines on a non-terminal stderr,
 * a registry-free bad-row report, and the usage errors.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { sqlDataset } from '../../src/data/duckdb-source.ts';
import { createApiClient } from '../../src/client/api-client.ts';
import { runCli } from '../helpers/run-cli.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { csvText, inputRows, tempDir, trainFixtureModel, writeInput } from '../jobs/batch/batch-fixture.ts';

test('stratum batch writes a Parquet file from a CSV, prints progress lines and a JSON result', async (t) => {
  const dir = await tempDir(t);
  const model = join(dir, 'model.onnx');
  await writeFile(model, await trainFixtureModel());
  const rows = inputRows(1_200);
  const input = await writeInput(dir, 'in.csv', csvText(rows));
  const output = join(dir, 'scores.parquet');
  const args = ['batch', '--model', model, '--input', input, '--output', output, '--chunk-rows', '400'];
  const result = await runCli([...args, '--pass-through', 'id', '--workers', '1', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const reply = JSON.parse(result.stdout) as { rows: number; written: number; chunks: number; output: string };
  assert.deepEqual([reply.rows, reply.written, reply.chunks, reply.output], [1_200, 1_200, 3, output]);
  assert.match(result.stderr, /batch \[#{24}\] 1,200\/1,200 rows, chunk 3\/3/);
  const written = await sqlDataset('select id, label, probabilities_stay from read_parquet($1)', {
    params: [output],
  }).toArray();
  assert.deepEqual(
    written.map((r) => r.id),
    rows.map((r) => r.id),
  );
  assert.ok(written.every((r) => r.label === 'stay' || r.label === 'leave'));
});

test('stratum batch --on-bad-row skip names the errors file; fail exits 1 naming file and line', async (t) => {
  const dir = await tempDir(t);
  const model = join(dir, 'model.onnx');
  await writeFile(model, await trainFixtureModel());
  const lines = csvText(inputRows(50)).split('\n');
  lines[10] = 'r9,old,1,paris,good';
  const input = await writeInput(dir, 'in.csv', lines.join('\n'));
  const skipped = await runCli([
    'batch',
    '--model',
    model,
    '--input',
    input,
    '--output',
    join(dir, 'a.csv'),
    '--on-bad-row',
    'skip',
  ]);
  assert.equal(skipped.code, 0, skipped.stderr);
  assert.match(skipped.stdout, /wrote .*a\.csv: 49 rows/);
  assert.match(skipped.stdout, /skipped 1 bad rows, listed in .*a\.csv\.errors\.jsonl/);
  const failed = await runCli(['batch', '--model', model, '--input', input, '--output', join(dir, 'b.csv')]);
  assert.equal(failed.code, 1);
  assert.match(failed.stderr, /in\.csv: line 11: column "age": expected a number, got "old"/);
});

test('stratum batch refuses both or neither of --input and --sql', async () => {
  const both = await runCli([
    'batch',
    '--model',
    'm.onnx',
    '--input',
    'a.csv',
    '--sql',
    'select 1',
    '--output',
    'o.csv',
  ]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /exactly one of --input <file> and --sql <query>/);
  const neither = await runCli(['batch', '--model', 'm.onnx', '--output', 'o.csv']);
  assert.equal(neither.code, 2);
});

test('stratum batch --queue --wait runs the batch as a job on the server and prints the summary', async (t) => {
  const server = await startRegistryServer(t, { overrides: { shutdownGraceMs: 1000 } });
  const model = join(server.dir, 'model.onnx');
  await writeFile(model, await trainFixtureModel());
  const rows = inputRows(900);
  const input = await writeInput(server.dir, 'in.csv', csvText(rows));
  const output = join(server.dir, 'scored.jsonl');
  const url = ['--url', server.httpUrl];
  const args = ['batch', '--model', model, '--input', input, '--output', output, '--chunk-rows', '300'];
  const waited = await runCli([...args, '--pass-through', 'id', '--queue', '--wait', ...url]);
  assert.equal(waited.code, 0, waited.stderr);
  assert.match(waited.stderr, /submitted batch-infer job \S+/);
  assert.match(waited.stdout, /wrote .*scored\.jsonl: 900 rows from .*model\.onnx \(3 chunks\)/);
  const written = await sqlDataset("select id from read_json($1, format = 'newline_delimited')", {
    params: [output],
  }).toArray();
  assert.deepEqual(
    written.map((r) => r.id),
    rows.map((r) => r.id),
  );

  // Submitted over the API as is, a relative path is refused at submission, naming the field.
  const api = createApiClient({ baseUrl: server.httpUrl });
  await assert.rejects(
    api.submitJob({ kind: 'batch-infer', payload: { model, input: { path: 'in.csv' }, output } }),
    /payload\.input\.path: "in\.csv" must be an absolute path/,
  );
  await assert.rejects(
    api.submitJob({ kind: 'batch-infer', payload: { model, input: { path: input }, output, chunkSize: 3 } }),
    /payload: .*chunkSize/,
  );
  const bad = await runCli([...args, '--wait', ...url]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--wait goes with --queue/);
});
