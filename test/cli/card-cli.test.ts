/**
 * `stratum card` as a real child process (compiled dist/: `npm run build` first) against an
 * in-process registry server holding a trained version: Markdown by default, the API's JSON with
 * --json, each way of naming the version, and a missing version named in the error.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/run-cli.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { cardSpec, trainInto, writeCardData } from '../train/card/card-model.ts';

test('stratum card prints a version’s card as Markdown or JSON', async (t) => {
  const server = await startRegistryServer(t);
  const result = await trainInto(t, server, cardSpec(writeCardData(server.dir)));
  const cli = (...args: string[]) => runCli([...args, '--url', server.httpUrl]);

  const markdown = await cli('card', 'credit@production');
  assert.equal(markdown.code, 0, markdown.stderr);
  const text = markdown.stdout;
  assert.match(text, /^# Model card: credit version 1\n/);
  assert.match(text, /## Intended use\n\nRanking applications for manual review; not for automatic refusal\.\n/);
  assert.match(text, /## Fairness by `group`\n/);
  assert.match(text, /\| group \| count \| selection rate \| accuracy \| TPR \| FPR \|\n/);
  assert.match(text, /## Feature importance \(permutation\)\n/);
  assert.match(text, /\| income \| /);
  assert.match(
    text,
    /## Feature importance \(mean \|SHAP\|\)\n\nMean absolute SHAP value of each column \(exact linear SHAP, explaining the log-odds\) over \d+ held-out rows\.\n/,
  );
  const epsilon = result.run.metrics['privacy.epsilon'] as number;
  assert.ok(text.includes(`(ε = ${Number(epsilon.toPrecision(3))}, δ = 1e-5)`), text);
  assert.match(text, new RegExp(`- run: ${result.run.id} \\(credit\\)`));

  const json = await cli('card', 'credit:1', '--json');
  assert.equal(json.code, 0, json.stderr);
  const card = JSON.parse(json.stdout);
  assert.equal(card.version, 1);
  assert.equal(card.privacy.epsilon, epsilon);
  assert.equal(card.fairness[0].column, 'group');

  // A bare name is the newest ready version.
  const newest = await cli('card', 'credit', '--json');
  assert.equal(JSON.parse(newest.stdout).version, 1);

  const missing = await cli('card', 'credit:7');
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /version 7 of model "credit" does not exist/);
  const noModel = await cli('card', 'nothing@production');
  assert.notEqual(noModel.code, 0);
  assert.match(noModel.stderr, /nothing/);
});
