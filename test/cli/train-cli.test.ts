/**
 * `stratum train` as a real child process, recording into the same SQLite database and artifact
 * folder a running server uses: the server lists the run, the dataset version with its profile and
 * the new version's reference profile over REST. A bad spec exits 1 naming the file and the path.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import type { DatasetProfile } from '../../src/data/profile/index.ts';
import type { RunRecord } from '../../src/store/metadata-store.ts';
import { tabularRows } from '../train/pipeline/tabular-data.ts';
import { api } from '../helpers/management-api.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { runCli } from '../helpers/run-cli.ts';

test('stratum train records a run a running server shows, with the dataset profile and the version lineage', async (t) => {
  const server = await startRegistryServer(t);
  const env = { STRATUM_DATABASE_URL: server.databaseUrl, STRATUM_ARTIFACTS_URL: server.artifactsUrl };
  const { rows, labels } = tabularRows({ count: 600, seed: 5, complete: true });
  const dataPath = join(server.dir, 'reviews.jsonl');
  await writeFile(dataPath, rows.map((row, i) => `${JSON.stringify({ ...row, label: labels[i] })}\n`).join(''));
  const specPath = join(server.dir, 'train.yaml');
  await writeFile(
    specPath,
    stringify({
      name: 'cli-reviews',
      data: { source: { format: 'jsonl', path: dataPath }, label: 'label' },
      features: {
        transforms: [
          { column: 'age', transform: 'standardize' },
          { column: 'city', transform: 'onehot' },
          { column: 'review', transform: 'text', buckets: 32 },
        ],
      },
      model: { kind: 'gbdt', objective: 'binary', params: { numTrees: 10, maxDepth: 3 } },
      register: { model: 'cli-reviews', alias: 'production' },
    }),
  );

  const human = await runCli(['train', specPath], env);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stderr, /training \[#+\] 10\/10/);
  assert.match(human.stdout, /^status\s+succeeded$/m);
  assert.match(human.stdout, /^registered\s+cli-reviews version 1$/m);
  // Every held-out metric sits beside the majority-class baseline's, and the table says what that is.
  assert.match(human.stdout, /^accuracy\s+0\.\d{4} \(baseline 0\.\d{4}\)$/m);
  assert.match(human.stdout, /^balanced_accuracy\s+0\.\d{4} \(baseline 0\.5000\)$/m);
  assert.match(human.stdout, /^f1_macro\s+0\.\d{4} \(baseline 0\.\d{4}\)$/m);
  assert.match(human.stdout, /^roc_auc\s+0\.\d{4} \(baseline 0\.5000\)$/m);
  assert.match(human.stdout, /^steps\s+10$/m);
  assert.doesNotMatch(human.stdout, /^baseline\./m);
  assert.match(human.stdout, /^baseline\s+always answering the training rows' most frequent class/m);

  const json = await runCli(['train', specPath, '--json', '--actor', 'ci'], env);
  assert.equal(json.code, 0, json.stderr);
  const result = JSON.parse(json.stdout) as {
    run: RunRecord;
    version: { version: number };
    baseline: Record<string, number>;
  };
  assert.equal(result.run.createdBy, 'ci');
  assert.equal(result.baseline['roc_auc'], 0.5);
  assert.equal(result.run.metrics['baseline.accuracy'], result.baseline['accuracy']);
  assert.equal(result.version.version, 2);

  const runs = await api(server, { url: '/api/v1/runs?name=cli-reviews' });
  assert.equal(runs.status, 200);
  assert.deepEqual(
    (runs.json as { items: RunRecord[] }).items.map((r) => r.status),
    ['succeeded', 'succeeded'],
  );
  // The CLI changed the stores without the server: it recorded its changes in the audit log itself.
  const audit = await api(server, { url: '/api/v1/audit?order=asc&source=cli' });
  assert.equal(audit.status, 400, 'source is not a filter');
  const recorded = await api(server, { url: '/api/v1/audit?order=asc' });
  assert.deepEqual(
    (recorded.json as { items: { action: string; resource: string; actor: string; source: string }[] }).items.map(
      (r) => [r.action, r.resource, r.actor, r.source],
    ),
    [
      ['run.create', `runs/${runs.json.items[1].id as string}`, `cli:${userInfo().username}`, 'cli'],
      ['version.register', 'models/cli-reviews/versions/1', `cli:${userInfo().username}`, 'cli'],
      ['run.create', `runs/${result.run.id}`, `cli:${userInfo().username}`, 'cli'],
      ['version.register', 'models/cli-reviews/versions/2', `cli:${userInfo().username}`, 'cli'],
    ],
  );
  const datasets = await api(server, { url: '/api/v1/datasets' });
  assert.deepEqual(
    (datasets.json as { items: { version: string; numRows: number }[] }).items.map((d) => [d.version, d.numRows]),
    [[result.run.datasetVersion, 600]],
  );
  const profile = await api(server, { url: '/api/v1/models/cli-reviews/versions/2/profile' });
  assert.equal(profile.status, 200);
  assert.equal(profile.json.datasetVersion, result.run.datasetVersion);
  const age = (profile.json as { profile: DatasetProfile }).profile.columns.find((c) => c.name === 'age');
  assert.ok(age?.numeric !== null && age?.numeric !== undefined);
  const ages = rows.map((r) => r['age'] as number);
  assert.equal(age.numeric.min, Math.min(...ages));
  assert.equal(age.numeric.max, Math.max(...ages));

  const unknown = await api(server, { url: '/api/v1/datasets/sha256:nope' });
  assert.equal(unknown.status, 404);

  // A spec error: exit 1, the file and the path named, no run recorded.
  const badPath = join(server.dir, 'bad.yaml');
  await writeFile(badPath, stringify({ name: 'bad', data: { source: { format: 'xls', path: 'x' }, label: 'y' } }));
  const bad = await runCli(['train', badPath], env);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /invalid training spec .*bad\.yaml: data\.source\.format: /);
  const badRuns = await api(server, { url: '/api/v1/runs?name=bad' });
  assert.deepEqual(badRuns.json.items, []);
});
