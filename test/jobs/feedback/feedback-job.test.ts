/**
 * The `feedback` job end to end on a real server (registry, SQLite, the embedded queue and its
 * in-process worker, the inference log at 100%, real onnxruntime): 1,500 logged requests, then
 * files of a few thousand label rows — good ones, a relabel, unknown ids, labels of the wrong type,
 * lines that are not JSON, rows without an id — submitted through `POST /api/v1/jobs`. Every bad
 * row comes back with its line and reason; none is dropped. The CLI test runs the compiled
 * `stratum` (npm run build first).
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { FeedbackJobResult, FeedbackProblem } from '../../../src/jobs/feedback/feedback-job.ts';
import { GraphBuilder } from '../../../src/onnx/graph-builder.ts';
import { runCli } from '../../helpers/run-cli.ts';
import { injectJson, startTestServer, type TestServer } from '../../helpers/test-server.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const LOGGED = 1500;

/** y = x0 + 2·x1: a regressor (labels are numbers). */
async function writeLinearModel(dir: string): Promise<void> {
  const graph = new GraphBuilder({ name: 'linreg' });
  const x = graph.addInput({ name: 'x', type: 'FLOAT', shape: ['batch', 2] });
  const w = graph.addInitializer({ name: 'w', dims: [2, 1], data: new Float32Array([1, 2]) });
  graph.addNode({ op: 'MatMul', inputs: [x, w], outputs: ['y'] });
  graph.addOutput({ name: 'y', type: 'FLOAT', shape: ['batch', 1] });
  await mkdir(join(dir, 'linreg', '1'), { recursive: true });
  await writeFile(join(dir, 'linreg', '1', 'model.onnx'), graph.toBytes());
}

async function start(t: TestContext): Promise<TestServer> {
  let databaseUrl = '';
  let artifactsUrl = '';
  const server = await startTestServer(t, {
    fixtures: [],
    withoutGrpc: true,
    repository: async (dir) => {
      await writeLinearModel(dir);
      databaseUrl = `sqlite:${join(dir, '.state', 'stratum.db')}`;
      artifactsUrl = `file:${join(dir, '.state', 'artifacts')}`;
    },
    overrides: {
      registry: true,
      get databaseUrl() {
        return databaseUrl;
      },
      get artifactsUrl() {
        return artifactsUrl;
      },
      inferenceLog: { sampleRate: 1, flushIntervalMs: 20 },
    } as never,
  });
  for (let i = 0; i < LOGGED; i++) {
    const reply = await injectJson(server, {
      url: '/v2/models/linreg/infer',
      body: { id: `req-${i}`, inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 2], data: [i, 1] }] },
    });
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
  }
  return server;
}

/** Submits a feedback job and waits for it to end; its record. */
async function runJob(
  server: TestServer,
  payload: object,
): Promise<{ state: string; result?: unknown; error?: unknown }> {
  const submitted = await injectJson(server, { url: '/api/v1/jobs', body: { kind: 'feedback', payload } });
  assert.equal(submitted.status, 201, JSON.stringify(submitted.json));
  const id = (submitted.json as { id: string }).id;
  return waitFor(`feedback job ${id} to end`, async () => {
    const record = (await injectJson(server, { url: `/api/v1/jobs/${id}` })).json as { state: string };
    return record.state === 'completed' || record.state === 'failed' ? record : undefined;
  });
}

/** The JSON Lines file: what each line is, to check the job's answer against. */
function jsonlFile(): { text: string; expected: Map<number, string> } {
  const lines: string[] = [];
  const expected = new Map<number, string>();
  const add = (line: string, problem?: string) => {
    lines.push(line);
    if (problem !== undefined) expected.set(lines.length, problem);
  };
  for (let i = 0; i < LOGGED; i++) {
    if (i % 100 === 7) add(JSON.stringify({ requestId: `req-${i}`, label: 'high' }), 'wrong_label');
    else if (i % 250 === 3) add(JSON.stringify({ requestId: `req-${i}`, label: true }), 'wrong_label');
    else add(JSON.stringify({ requestId: `req-${i}`, label: i + 2 + (i % 3) }));
    // Unknown ids, bad lines and rows without an id, spread through the file.
    if (i < 1400) add(JSON.stringify({ requestId: `ghost-${i}`, label: 1 }), 'unknown_request');
    if (i % 30 === 0) add('{"requestId": "req-1", "label": ', 'invalid_item');
    if (i % 30 === 15 && i < 1470) add(JSON.stringify({ label: 1 }), 'invalid_item');
    if (i % 500 === 0) lines.push('');
  }
  // A correction of an earlier label: accepted, counted as relabelled.
  add(JSON.stringify({ request_id: 'req-0', label: 3.5 }));
  return { text: `${lines.join('\n')}\n`, expected };
}

test('a feedback job joins thousands of JSON Lines rows in chunks and reports every bad one', async (t) => {
  const server = await start(t);
  const { text, expected } = jsonlFile();
  const input = join(server.dir, 'labels.jsonl');
  await writeFile(input, text);
  const problemsFile = join(server.dir, 'problems.jsonl');
  const rows = text.split('\n').filter((l) => l.trim() !== '').length;
  assert.ok(rows >= 3000, `a few thousand rows (${rows})`);
  const bad = expected.size;

  const job = await runJob(server, { input: { path: input }, chunkRows: 400, problems: problemsFile });
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  const result = job.result as FeedbackJobResult;
  assert.equal(result.rows, rows);
  assert.equal(result.rejected, bad);
  assert.equal(result.accepted, rows - bad);
  assert.equal(result.accepted + result.rejected, result.rows, 'every row is answered');
  assert.equal(result.relabelled, 1);
  const count = (code: string) => [...expected.values()].filter((c) => c === code).length;
  assert.deepEqual(result.byCode, {
    unknown_request: count('unknown_request'),
    wrong_label: count('wrong_label'),
    invalid_item: count('invalid_item'),
  });
  assert.equal(result.problems.length, 1000, 'the first 1,000 in the result');
  assert.equal(result.problemsOmitted, 0, 'all of them are in the problems file');
  assert.equal(result.problemsFile, problemsFile);

  // The file lists every problem, in file order, each on the line it is on.
  const listed = (await readFile(problemsFile, 'utf8'))
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as FeedbackProblem);
  assert.deepEqual(
    listed.map((p) => [p.line, p.code]),
    [...expected.entries()],
  );
  assert.deepEqual(result.problems, listed.slice(0, 1000));
  const wrong = listed.find((p) => p.requestId === 'req-7');
  assert.match(wrong?.reason ?? '', /wrong label type: expected a finite number \(regression\).*"high"/);
  assert.match(listed.find((p) => p.code === 'invalid_item')?.reason ?? '', /not JSON/);
  assert.match(listed.find((p) => p.code === 'unknown_request')?.reason ?? '', /unknown request id/);

  // The labels are stored: live quality counts every accepted request once.
  const quality = await injectJson(server, { url: '/api/v1/deployments/linreg/quality?windowRecords=100000' });
  assert.equal(quality.status, 200, JSON.stringify(quality.json));
  const versions = (quality.json as { versions: { labelled: number }[] }).versions;
  assert.equal(versions[0]?.labelled, result.accepted - result.relabelled);

  // Without a problems file the result says how many it could not list.
  const again = await runJob(server, { input: { path: input } });
  const second = again.result as FeedbackJobResult;
  assert.equal(second.problems.length, 1000);
  assert.equal(second.problemsOmitted, bad - 1000);
  assert.equal(second.relabelled, second.accepted, 'every label given again replaces the first');
});

test('a CSV feedback file, limited to one deployment; a bad payload is refused at submission', async (t) => {
  const server = await start(t);
  const lines = ['request_id,label'];
  for (let i = 0; i < 2000; i++) {
    if (i % 10 === 1) lines.push(`req-${i % LOGGED},abc`);
    else if (i % 10 === 2) lines.push(`,${i}`);
    else if (i % 10 === 3) lines.push(`req-${i % LOGGED},`);
    else lines.push(`req-${i % LOGGED},${i * 0.25}`);
  }
  const input = join(server.dir, 'labels.csv');
  await writeFile(input, `${lines.join('\n')}\n`);
  const job = await runJob(server, { input: { path: input }, deployment: 'linreg' });
  assert.equal(job.state, 'completed', JSON.stringify(job.error));
  const result = job.result as FeedbackJobResult;
  assert.equal(result.rows, 2000);
  assert.deepEqual(result.byCode, { wrong_label: 400, invalid_item: 200 });
  assert.equal(result.accepted, 1400);
  assert.equal(result.relabelled, 1400 - LOGGED * 0.7, 'ids from 1,500 on repeat earlier ones');
  const abc = result.problems.find((p) => p.requestId === 'req-1');
  assert.equal(abc?.line, 3, 'the header is line 1');
  assert.match(abc?.reason ?? '', /wrong label type.*"abc"/);

  // Another deployment logged none of these requests.
  const other = await runJob(server, { input: { path: input }, deployment: 'mlp' });
  assert.equal(other.state, 'completed', JSON.stringify(other.error));
  const none = other.result as FeedbackJobResult;
  assert.equal(none.accepted, 0);
  assert.match(none.problems.find((p) => p.code === 'unknown_request')?.reason ?? '', /not logged by deployment mlp/);

  const relative = await injectJson(server, {
    url: '/api/v1/jobs',
    body: { kind: 'feedback', payload: { input: { path: 'labels.csv' } } },
  });
  assert.equal(relative.status, 400);
  assert.match(
    (relative.json as { error: string }).error,
    /payload\.input\.path: "labels\.csv" must be an absolute path/,
  );
  const unknownFormat = await injectJson(server, {
    url: '/api/v1/jobs',
    body: { kind: 'feedback', payload: { input: { path: '/tmp/labels.txt' } } },
  });
  assert.equal(unknownFormat.status, 400);
  assert.match((unknownFormat.json as { error: string }).error, /expected a \.jsonl, \.ndjson or \.csv file/);

  // A file that is not there fails the job, naming it.
  const missing = await runJob(server, { input: { path: join(server.dir, 'missing.csv') } });
  assert.equal(missing.state, 'failed');
  assert.match(JSON.stringify(missing.error), /missing\.csv/);
});

test('stratum feedback <file> --wait submits the job and prints the counts and the first problems', async (t) => {
  const server = await start(t);
  const input = join(server.dir, 'few.jsonl');
  const rows = [
    ...Array.from({ length: 30 }, (_, i) => JSON.stringify({ requestId: `req-${i}`, label: i })),
    JSON.stringify({ requestId: 'ghost', label: 1 }),
    JSON.stringify({ requestId: 'req-40', label: 'x' }),
    'nope',
  ];
  await writeFile(input, `${rows.join('\n')}\n`);
  const url = ['--url', server.httpUrl];
  const waited = await runCli(['feedback', input, '--deployment', 'linreg', '--wait', ...url]);
  assert.equal(waited.code, 0, waited.stderr);
  assert.match(waited.stderr, /submitted feedback job \S+/);
  assert.match(waited.stdout, /^rows\s+33$/m);
  assert.match(waited.stdout, /^accepted\s+30$/m);
  assert.match(waited.stdout, /^rejected\s+3$/m);
  assert.match(
    waited.stdout,
    /^line 31: ghost: unknown_request: unknown request id \(not logged by deployment linreg/m,
  );
  assert.match(waited.stdout, /^line 32: req-40: wrong_label: wrong label type/m);
  assert.match(waited.stdout, /^line 33: \(no id\): invalid_item: not JSON/m);

  const json = await runCli(['feedback', input, '--wait', '--json', ...url]);
  assert.equal(json.code, 0, json.stderr);
  const { result } = JSON.parse(json.stdout) as { result: FeedbackJobResult };
  assert.equal(result.relabelled, 30, 'the same labels again replace the first');

  const submitted = await runCli(['feedback', input, ...url]);
  assert.equal(submitted.code, 0, submitted.stderr);
  assert.match(submitted.stdout.trim(), /^\S+$/, 'the job id');

  const missing = await runCli(['feedback', join(server.dir, 'none.jsonl'), '--wait', ...url]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /job \S+ failed: \w+: .*none\.jsonl/);
});
