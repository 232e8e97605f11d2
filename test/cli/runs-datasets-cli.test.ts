/**
 * What needed `curl /api/v1/runs` before: `stratum runs list|show|compare`, `stratum datasets
 * list|show` and the lineage in `stratum models show`, run as the compiled CLI against a real
 * server whose store holds two tracked training runs (trained in-process on the same stores, as
 * `stratum train` does). People get metrics to 3 significant digits; --json keeps every digit.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openTrainingStores } from '../../src/cli/training-stores.ts';
import { createLogger } from '../../src/logging/logger.ts';
import type { DatasetVersionRecord, RunRecord, VersionRecord } from '../../src/store/metadata-store.ts';
import { runTraining, type TrainingResult } from '../../src/train/run/run-training.ts';
import { parseTrainSpec } from '../../src/train/run/train-spec.ts';
import { runCli, type CliResult } from '../helpers/run-cli.ts';
import { startRegistryServer } from '../helpers/test-server.ts';
import { tabularRows } from '../train/pipeline/tabular-data.ts';

function ok(result: CliResult): string {
  assert.equal(result.code, 0, `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

/** Every number of a `k=v k=v` list has at most 3 significant digits. */
function assertRounded(metrics: string): void {
  for (const [, value] of metrics.matchAll(/=(-?[\d.e+-]+)/g)) {
    const digits = (value ?? '').replace(/e.*$/, '').replace(/[-.]/g, '').replace(/^0+/, '');
    assert.ok(digits.length <= 3, `${value} in "${metrics}" has more than 3 significant digits`);
  }
}

test('stratum runs, datasets and models show: lineage, rounded metrics, full precision with --json', async (t) => {
  const server = await startRegistryServer(t);
  const stores = await openTrainingStores({
    config: {
      databaseUrl: server.databaseUrl,
      artifactsUrl: server.artifactsUrl,
      registryPollMs: 200,
      bodyLimitBytes: 64 * 1024 * 1024,
    },
    logger: createLogger({ level: 'silent' }),
  });
  t.after(() => stores.close());
  const { rows, labels } = tabularRows({ count: 300, seed: 5, complete: true });
  const dataPath = join(server.dir, 'reviews.jsonl');
  await writeFile(dataPath, rows.map((row, i) => `${JSON.stringify({ ...row, label: labels[i] })}\n`).join(''));
  const train = (numTrees: number): Promise<TrainingResult> =>
    runTraining(
      parseTrainSpec({
        name: 'reviews-exp',
        data: { source: { format: 'jsonl', path: dataPath }, label: 'label' },
        features: {
          transforms: [
            { column: 'age', transform: 'standardize' },
            { column: 'city', transform: 'onehot' },
          ],
        },
        model: { kind: 'gbdt', objective: 'binary', params: { numTrees, maxDepth: 2 } },
        register: { model: 'reviews', alias: 'production' },
      }),
      { ...stores, by: 'test', baseDir: server.dir, codeVersion: 'abc1234' },
    );
  const first = await train(4);
  const second = await train(6);
  const cli = (...args: string[]): Promise<CliResult> => runCli([...args, '--url', server.httpUrl]);
  const dataset = first.run.datasetVersion as string;

  await t.test('runs list: newest first, by experiment, paged', async () => {
    const table = ok(await cli('runs', 'list'));
    const ids = [...table.matchAll(/^([0-9a-f-]{36}) +reviews-exp +succeeded +\d{4}-/gm)].map((m) => m[1]);
    assert.deepEqual(ids, [second.run.id, first.run.id]);
    const page = JSON.parse(ok(await cli('runs', 'list', '--experiment', 'reviews-exp', '--limit', '1', '--json'))) as {
      items: RunRecord[];
      nextCursor?: string;
    };
    assert.deepEqual(
      page.items.map((r) => r.id),
      [second.run.id],
    );
    assert.ok(page.nextCursor !== undefined);
    assert.match(ok(await cli('runs', 'list', '--experiment', 'nothing-like-it')), /^\(no runs\)$/m);
  });

  await t.test('runs show by the start of its id: params, metrics, dataset, commit, artifacts', async () => {
    const shown = ok(await cli('runs', 'show', first.run.id.slice(0, 8)));
    assert.match(shown, new RegExp(`^run ${first.run.id} \\(reviews-exp\\)$`, 'm'));
    assert.match(shown, /^ {2}status +succeeded$/m);
    assert.match(shown, new RegExp(`^ {2}dataset +${dataset} \\(reviews\\.jsonl, 300 rows\\)$`, 'm'));
    assert.match(shown, /^ {2}commit +abc1234$/m);
    assert.match(shown, /^model\.params\.numTrees +4$/m);
    assert.match(shown, /^data\.source\.format +jsonl$/m);
    assert.match(shown, /^accuracy +0\.\d{1,3}$/m, 'rounded to 3 significant digits');
    assert.match(shown, /^train_loss \(step \d+\) +[\d.]+$/m, 'the last value of a stepped metric');
    assert.match(shown, /^model\.onnx +[0-9a-f]{12}… +[\d.]+ KiB$/m);
    const json = JSON.parse(ok(await cli('runs', 'show', first.run.id, '--json'))) as RunRecord;
    assert.deepEqual(json.metrics, first.run.metrics, 'full precision with --json');
    const missing = await cli('runs', 'show', 'ffffffff');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^stratum: no run starts with "ffffffff"\n$/);
  });

  await t.test('runs compare: side by side, differences marked', async () => {
    const table = ok(await cli('runs', 'compare', first.run.id, second.run.id.slice(0, 8)));
    assert.match(table, new RegExp(`^ +FIELD +${first.run.id.slice(0, 8)} +${second.run.id.slice(0, 8)}$`, 'm'));
    assert.match(table, /^\* +params\.model\.params\.numTrees +4 +6$/m);
    assert.match(table, /^ +experiment +reviews-exp +reviews-exp$/m, 'equal rows are not marked');
    const cut = `${dataset.slice(0, 39)}…`;
    assert.match(table, new RegExp(`^ +dataset +${cut} +${cut}$`, 'm'), 'long values cut');
    const differences = ok(await cli('runs', 'compare', first.run.id, second.run.id, '--differences'));
    assert.doesNotMatch(differences, /experiment/);
    assert.match(differences, /params\.model\.params\.numTrees/);
    const json = JSON.parse(ok(await cli('runs', 'compare', first.run.id, second.run.id, '--json'))) as {
      runs: RunRecord[];
      rows: { field: string; values: string[]; differs: boolean }[];
    };
    assert.deepEqual(
      json.runs.map((r) => r.metrics),
      [first.run.metrics, second.run.metrics],
    );
    assert.deepEqual(json.rows.find((r) => r.field === 'params.model.params.numTrees')?.values, ['4', '6']);
  });

  await t.test('datasets list and show, by name or by the start of its version', async () => {
    const table = ok(await cli('datasets', 'list'));
    const short = `${dataset.slice(0, 19)}…`;
    assert.match(
      table,
      new RegExp(`^${short} +reviews\\.jsonl +300 +\\d{4}-\\S+ \\S+ +test +\\S*reviews\\.jsonl$`, 'm'),
    );
    const byName = ok(await cli('datasets', 'show', 'reviews.jsonl'));
    assert.match(byName, new RegExp(`^dataset reviews\\.jsonl {2}${dataset}$`, 'm'));
    assert.match(byName, /^ {2}rows +300$/m);
    assert.match(byName, /^profile: 300 rows, \d+ columns$/m);
    assert.match(byName, /^age +numeric +0 \(0\.0%\) /m);
    assert.match(byName, /^city +categorical /m);
    const byPrefix = ok(await cli('datasets', 'show', dataset.slice(0, 19)));
    assert.equal(byPrefix, byName, 'the shortened version the list prints names the same dataset');
    assert.equal(ok(await cli('datasets', 'show', dataset.slice(7, 19))), byName, 'without "sha256:"');
    const json = JSON.parse(ok(await cli('datasets', 'show', dataset, '--json'))) as DatasetVersionRecord;
    assert.equal(json.version, dataset);
    assert.equal(json.numRows, 300);
  });

  await t.test('models show: each version with its run, lineage and rounded metrics', async () => {
    const shown = ok(await cli('models', 'show', 'reviews'));
    for (const result of [second, first]) {
      const version = result.version as VersionRecord;
      const block = new RegExp(
        `^version ${version.version} .*\\n {2}description +trained by run .*\\n {2}run +${result.run.id} \\(reviews-exp, succeeded\\)\\n {2}dataset +${dataset} \\(${dataPath.replaceAll(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\)\\n {2}commit +abc1234\\n {2}metrics +(.*)\\n`,
        'm',
      );
      const match = block.exec(shown);
      assert.ok(match !== null, `version ${version.version}:\n${shown}`);
      assert.match(match[1] ?? '', /accuracy=0\.\d+/);
      assertRounded(match[1] ?? '');
    }
    const json = JSON.parse(ok(await cli('models', 'show', 'reviews', '--json'))) as {
      versions: VersionRecord[];
      runs: RunRecord[];
    };
    assert.deepEqual(json.versions[0]?.metrics, second.version?.metrics, 'full precision with --json');
    assert.deepEqual(json.runs.map((r) => r.id).sort(), [first.run.id, second.run.id].sort());
  });
});
