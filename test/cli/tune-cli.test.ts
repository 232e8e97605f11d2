/**
 * `stratum tune` in this process (its library entry, with captured streams): the trial lines off a
 * terminal, the summary and `--json`, the table redrawn in place on a terminal, and a bad spec
 * refused naming the file and the path. A running server on the same stores lists the experiment.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { tuneFromFile } from '../../src/cli/tune.ts';
import { createTrialTable } from '../../src/cli/commands/trial-table.ts';
import { loadConfig } from '../../src/config/index.ts';
import { StratumError } from '../../src/errors/index.ts';
import { createLogger } from '../../src/logging/logger.ts';
import type { TrialRecord } from '../../src/store/metadata-store.ts';
import { api } from '../helpers/management-api.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { tuneSpecInput, writeTuneCsv } from '../jobs/tune/tune-data.ts';

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d: Buffer) => (text += d.toString()));
  return { stream, text: () => text };
}

test('stratum tune runs the trials here, prints a line per change and the best; the server lists it', async (t) => {
  const server = await startRegistryServer(t);
  const dataPath = writeTuneCsv(server.dir);
  const specPath = join(server.dir, 'tune.json');
  await writeFile(specPath, JSON.stringify(tuneSpecInput(dataPath, { trials: 4, register: { model: 'cli-tuned' } })));
  const config = loadConfig({
    env: {},
    overrides: { databaseUrl: server.databaseUrl, artifactsUrl: server.artifactsUrl, logLevel: 'silent' },
  });
  const logger = createLogger({ level: 'silent' });
  const out = capture();
  const err = capture();
  const code = await tuneFromFile({ specPath, config, logger, stdout: out.stream, stderr: err.stream });
  assert.equal(code, 0, err.text());
  assert.match(err.text(), /^trial 0 running {2}learningRate=\S+ maxDepth=\d$/m);
  assert.match(err.text(), /^trial 0 completed {2}learningRate=\S+ maxDepth=\d {2}resource 16 {2}rmse \d\.\d{4}/m);
  assert.match(out.text(), /^status\s+succeeded$/m);
  assert.match(out.text(), /^trials\s+\d completed(, \d stopped)?$/m);
  assert.match(out.text(), /^registered\s+cli-tuned version 1$/m);

  const listed = await api(server, { url: '/api/v1/experiments' });
  assert.equal(listed.json.items.length, 1);
  const shown = await api(server, { url: `/api/v1/experiments/${listed.json.items[0].id}` });
  assert.equal(shown.json.trials.length, 4);
  assert.deepEqual(shown.json.registered, { model: 'cli-tuned', version: 1 });

  const json = capture();
  const again = await tuneFromFile({
    specPath,
    config,
    logger,
    json: true,
    stdout: json.stream,
    stderr: capture().stream,
  });
  assert.equal(again, 0);
  const result = JSON.parse(json.text()) as { experiment: { status: string }; trials: unknown[] };
  assert.equal(result.experiment.status, 'succeeded');
  assert.equal(result.trials.length, 4);

  await writeFile(
    specPath,
    JSON.stringify(tuneSpecInput(dataPath, { space: { 'model.params.maxDepth': { int: [0, 3] } } })),
  );
  await assert.rejects(
    tuneFromFile({ specPath, config, logger, stdout: capture().stream, stderr: capture().stream }),
    (error: unknown) =>
      error instanceof StratumError &&
      error.code === 'BAD_REQUEST' &&
      error.message.includes(specPath) &&
      error.message.includes('space.model.params.maxDepth'),
  );
});

test('on a terminal the trial table is redrawn in place', () => {
  const { stream, text } = capture();
  Object.assign(stream, { isTTY: true });
  const table = createTrialTable(stream, 'rmse');
  const trial = (status: TrialRecord['status'], extra: Partial<TrialRecord> = {}): TrialRecord => ({
    experiment: 'e',
    number: 0,
    status,
    params: { 'model.params.maxDepth': 3 },
    createdAt: 0,
    ...extra,
  });
  table.trials([trial('running')]);
  table.trials([trial('completed', { resource: 16, value: 0.25 })]);
  table.done();
  const drawn = text();
  assert.match(drawn, /TRIAL\s+PARAMS\s+RESOURCE\s+RMSE\s+STATE/);
  // The second draw moves the cursor up over the first (two lines) and clears below.
  assert.ok(drawn.includes('\x1b[2A\x1b[J'), JSON.stringify(drawn));
  assert.match(drawn, /0\s+maxDepth=3\s+16\s+0\.25000\s+completed/);
});
