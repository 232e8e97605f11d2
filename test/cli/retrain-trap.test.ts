/**
 * The README trap of issue 9, as a user meets it, with real child processes against a running
 * server: the demo's steps (a logistic regression behind `production`, a deployment through the
 * alias answering requests, a GBDT on the same features switched in by moving the alias), then
 * `stratum train` of the logistic spec again. It used to fail at registration (the GBDT had a
 * `label` output the logistic model lacked), consume a version number and refuse the rollback;
 * now every classifier has the same outputs, the retrain moves `production`, the versions stay
 * contiguous and the way back to version 1 is open.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { tabularRows } from '../train/pipeline/tabular-data.ts';
import { api } from '../helpers/management-api.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { waitFor } from '../helpers/wait-for.ts';
import { runCli } from '../helpers/run-cli.ts';

function ok(result: { code: number | null; stdout: string; stderr: string }): string {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

test('after the demo, retraining the logistic spec moves production, versions stay contiguous, rollback to version 1 works', async (t) => {
  const server = await startRegistryServer(t);
  const env = { STRATUM_DATABASE_URL: server.databaseUrl, STRATUM_ARTIFACTS_URL: server.artifactsUrl };
  const url = server.httpUrl;
  const { rows, labels } = tabularRows({ count: 600, seed: 5, complete: true });
  const dataPath = join(server.dir, 'mail.jsonl');
  await writeFile(
    dataPath,
    rows
      .map((row, i) => `${JSON.stringify({ text: row['review'], label: labels[i] === 1 ? 'spam' : 'ham' })}\n`)
      .join(''),
  );
  // The two example specs' shapes: the same raw text column, different algorithms.
  const base = {
    data: { source: { format: 'jsonl', path: dataPath }, label: 'label', positive: 'spam' },
    split: { validation: 0.2, seed: 7 },
  };
  const logistic = join(server.dir, 'logistic.yaml');
  await writeFile(
    logistic,
    stringify({
      ...base,
      name: 'mail-logistic',
      features: { transforms: [{ column: 'text', transform: 'text', ngramRange: [1, 2], buckets: 256 }] },
      model: { kind: 'linear', objective: 'binary', params: { optimizer: 'lbfgs', epochs: 30, seed: 7 } },
      register: { model: 'mail', alias: 'production' },
    }),
  );
  const gbdt = join(server.dir, 'gbdt.yaml');
  await writeFile(
    gbdt,
    stringify({
      ...base,
      name: 'mail-gbdt',
      features: { transforms: [{ column: 'text', transform: 'text', buckets: 64 }] },
      model: { kind: 'gbdt', objective: 'binary', params: { numTrees: 10, maxDepth: 3, seed: 7 } },
      register: { model: 'mail' },
    }),
  );
  const ask = async (): Promise<string> => {
    const response = await fetch(`${url}/v2/models/mail/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        inputs: [{ name: 'text', datatype: 'BYTES', shape: [1, 1], data: ['WIN a FREE prize, click now'] }],
      }),
    });
    const reply = (await response.json()) as { model_version: string; outputs: { name: string }[] };
    assert.equal(response.status, 200, JSON.stringify(reply));
    assert.deepEqual(
      reply.outputs.map((o) => o.name),
      ['label', 'probabilities'],
      'every classifier answers the same outputs',
    );
    return reply.model_version;
  };

  // The demo: logistic behind production, deployed, asked; a GBDT switched in by the alias.
  assert.match(ok(await runCli(['train', logistic], env)), /^registered\s+mail version 1$/m);
  ok(await runCli(['deploy', 'create', 'mail', '--model', 'mail', '--alias', 'production', '--wait', '--url', url]));
  assert.equal(await ask(), '1');
  assert.match(ok(await runCli(['train', gbdt], env)), /^registered\s+mail version 2$/m);
  ok(
    await runCli(['alias', 'set', 'mail', 'production', '2', '--reason', 'demo: blue-green to the GBDT', '--url', url]),
  );
  await waitFor('the deployment to serve the GBDT', async () => (await ask()) === '2');

  // The README's own command again: it registers and moves production.
  const retrained = await runCli(['train', logistic], env);
  assert.match(ok(retrained), /^registered\s+mail version 3$/m);
  assert.equal((await api(server, { url: '/api/v1/models/mail/aliases/production' })).json.version, 3);
  await waitFor('the deployment to serve the retrained model', async () => (await ask()) === '3');

  // The way back to the first version.
  ok(await runCli(['deploy', 'rollout', 'mail', '--strategy', 'blue-green', '--version', '1', '--wait', '--url', url]));
  assert.equal((await api(server, { url: '/api/v1/models/mail/aliases/production' })).json.version, 1);
  assert.equal(await ask(), '1');
  const versions = await api(server, { url: '/api/v1/models/mail/versions' });
  assert.deepEqual(
    versions.json.items.map((v: { version: number }) => v.version),
    [3, 2, 1],
    'no version number was used up',
  );

  // A forced move from the CLI needs a reason.
  const noReason = await runCli(['alias', 'set', 'mail', 'production', '2', '--force', '--url', url]);
  assert.equal(noReason.code, 2, noReason.stderr);
  assert.match(noReason.stderr, /--force needs --reason/);
});
