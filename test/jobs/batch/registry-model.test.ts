/**
 * A registry model by alias, version and name on a real SQLite store and artifact folder: the
 * reference is resolved once, at planning, so a resumed batch keeps the version it started with
 * even after the alias moved.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { openTrainingStores } from '../../../src/cli/training-stores.ts';
import { planBatch } from '../../../src/jobs/batch/batch-plan.ts';
import { parseBatchSpec } from '../../../src/jobs/batch/batch-spec.ts';
import { runBatch } from '../../../src/jobs/batch/run-batch.ts';
import { createLogger } from '../../../src/logging/logger.ts';
import { buildMlp } from '../../../src/onnx/fixtures/mlp.ts';
import { createRuntimePool } from '../../../src/runtime/runtime-pool.ts';
import { csvText, inputRows, tempDir, trainFixtureModel, writeInput } from './batch-fixture.ts';

test('name@alias and name:version resolve once; a resume keeps the planned version', async (t) => {
  const dir = await tempDir(t);
  await mkdir(join(dir, 'artifacts'));
  const logger = createLogger({ level: 'silent' });
  const stores = await openTrainingStores({
    config: {
      databaseUrl: `sqlite:${join(dir, 'stratum.db')}`,
      artifactsUrl: `file:${join(dir, 'artifacts')}`,
      registryPollMs: 200,
      bodyLimitBytes: 64 * 1024 * 1024,
    },
    logger,
  });
  t.after(() => stores.close());
  const { registry } = stores;
  const v1 = await registry.pushVersion({
    model: 'churn',
    bytes: await trainFixtureModel(),
    by: 'test',
    alias: { name: 'production' },
  });
  const input = await writeInput(dir, 'in.csv', csvText(inputRows(100)));
  const runtime = createRuntimePool({ workers: 1, logger });
  t.after(() => runtime.close());

  const byAlias = await runBatch({
    spec: { model: 'churn@production', input: { path: input }, output: join(dir, 'a.csv') },
    runtime,
    registry,
  });
  assert.equal(byAlias.model, `churn:${v1.version}`);
  assert.match(
    await readFile(join(dir, 'a.csv'), 'utf8'),
    /^label,probabilities_stay,probabilities_leave\n(stay|leave),/,
  );

  // Planned on v1; then the alias moves to a version that could not even run these rows.
  const spec = parseBatchSpec({ model: 'churn@production', input: { path: input }, output: join(dir, 'b.csv') });
  const { plan } = await planBatch({ spec, registry });
  const v2 = await registry.pushVersion({ model: 'churn', bytes: buildMlp({ hidden: 8 }), by: 'test' });
  await registry.setAlias({ model: 'churn', alias: 'production', version: v2.version, by: 'test' });
  const resumed = await runBatch({ spec, runtime, registry });
  assert.equal(resumed.model, `churn:${v1.version}`, 'the planned version, not the moved alias');
  assert.deepEqual(plan.model, { kind: 'registry', model: 'churn', version: v1.version, digest: v1.artifactDigest });

  await rm(join(dir, 'c.csv.parts'), { recursive: true, force: true });
  await assert.rejects(
    runBatch({
      spec: { model: `churn:${v2.version}`, input: { path: input }, output: join(dir, 'c.csv') },
      runtime,
      registry,
    }),
    /model input "input" takes 784 values per row/,
  );
  const newest = await runBatch({
    spec: { model: 'churn:1', input: { path: input }, output: join(dir, 'd.jsonl') },
    runtime,
    registry,
  });
  assert.equal(newest.model, 'churn:1');
});
