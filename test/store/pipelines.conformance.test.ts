// The pipeline part of the MetadataStore contract (specs by name, runs with their steps), on both
// engines for real: SQLite in a temporary folder and PostgreSQL in a schema of its own.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { MetadataStore } from '../../src/store/metadata-store.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { type Engine, postgresEngine, rejectsWith, sqliteEngine } from './store-engines.ts';

function conformance(name: 'sqlite' | 'postgres', makeEngine: () => Engine): void {
  describe(`MetadataStore pipeline conformance: ${name}`, () => {
    const engine = makeEngine();
    let store: MetadataStore;
    const unique = (prefix: string): string => `${prefix}${randomUUID().replaceAll('-', '').slice(0, 10)}`;

    before(async () => {
      store = await openMetadataStore({ url: engine.url, pollMs: 50 });
    });
    after(async () => {
      await store.close();
      await engine.cleanup();
    });

    test('pipelines are created, replaced, listed and deleted by name', async () => {
      const name = unique('p');
      const created = await store.putPipeline({ name, spec: { name, schedule: '0 3 * * *' }, by: 'alice' });
      assert.equal(created.created, true);
      assert.equal(created.updatedBy, 'alice');
      const replaced = await store.putPipeline({ name, spec: { name }, by: 'bob' });
      assert.equal(replaced.created, false);
      assert.equal(replaced.createdAt, created.createdAt);
      assert.deepEqual((await store.getPipeline(name)).spec, { name });
      assert.ok((await store.listPipelines()).some((p) => p.name === name));
      await store.deletePipeline(name);
      await rejectsWith(store.getPipeline(name), 'PIPELINE_NOT_FOUND', new RegExp(name));
      await rejectsWith(store.deletePipeline(name), 'PIPELINE_NOT_FOUND');
    });

    test('a run is recorded once under its id, updated step by step, and listed newest first by status', async () => {
      const pipeline = unique('p');
      const id = unique('job');
      const run = await store.createPipelineRun({
        id,
        pipeline,
        trigger: { kind: 'manual' },
        spec: { a: 1 },
        by: 'alice',
      });
      assert.equal(run.status, 'queued');
      assert.deepEqual(run.steps, []);
      assert.equal(run.finishedAt, undefined);
      // A second coordinator recording the same run gets the first record, unchanged.
      const again = await store.createPipelineRun({ id, pipeline, trigger: { kind: 'schedule' }, spec: {}, by: 'bob' });
      assert.deepEqual(again, run);
      const steps = [
        { name: 'ingest', status: 'succeeded' },
        { name: 'train', status: 'running' },
      ];
      const running = await store.updatePipelineRun({ id, status: 'running', steps });
      assert.equal(running.status, 'running');
      assert.deepEqual(running.steps, steps);
      const later = unique('job');
      await store.createPipelineRun({ id: later, pipeline, trigger: { kind: 'manual' }, spec: {}, by: 'alice' });
      const ended = await store.updatePipelineRun({
        id,
        status: 'rejected',
        outcome: { reason: 'no' },
        finishedAt: 42,
      });
      assert.deepEqual(ended.outcome, { reason: 'no' });
      assert.equal(ended.finishedAt, 42);
      assert.deepEqual(ended.steps, steps, 'steps not given are kept');
      const all = await store.listPipelineRuns({ pipeline });
      assert.deepEqual(new Set(all.map((r) => r.id)), new Set([id, later]));
      assert.ok((all[0]?.createdAt ?? 0) >= (all[1]?.createdAt ?? 0), 'newest first');
      assert.deepEqual(
        (await store.listPipelineRuns({ pipeline, statuses: ['queued', 'running'] })).map((r) => r.id),
        [later],
      );
      assert.equal((await store.listPipelineRuns({ pipeline, limit: 1 })).length, 1);
      await rejectsWith(store.getPipelineRun(unique('none')), 'PIPELINE_NOT_FOUND');
      await rejectsWith(store.updatePipelineRun({ id: unique('none'), status: 'failed' }), 'PIPELINE_NOT_FOUND');
    });
  });
}

conformance('sqlite', () => sqliteEngine('stratum-pipelines-'));
conformance('postgres', postgresEngine);
