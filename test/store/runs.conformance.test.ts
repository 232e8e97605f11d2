// The run-tracking part of the MetadataStore contract, on both engines for real: SQLite in a
// temporary folder and PostgreSQL in a schema of its own (dropped afterwards).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { MetadataStore } from '../../src/store/metadata-store.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { type Engine, postgresEngine, rejectsWith, sqliteEngine } from './store-engines.ts';

function conformance(name: 'sqlite' | 'postgres', makeEngine: () => Engine): void {
  describe(`MetadataStore runs conformance: ${name}`, () => {
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

    test('a run is created, logs metrics by step and finishes succeeded', async () => {
      const name = unique('train');
      const run = await store.createRun({
        name,
        params: { lr: 0.01, layers: [64, 32] },
        datasetVersion: 'mnist@3',
        codeVersion: 'abc123',
        by: 'alice',
      });
      assert.equal(run.status, 'running');
      assert.equal(run.finishedAt, undefined);
      assert.deepEqual(await store.getRun(run.id), run);

      await store.logRunMetrics(run.id, [
        { key: 'loss', step: 1, value: 0.9 },
        { key: 'accuracy', step: 1, value: 0.5 },
      ]);
      await store.logRunMetrics(run.id, [
        { key: 'loss', step: 0, value: 1.25 },
        { key: 'loss', step: 2, value: 0.4 },
      ]);
      const metrics = await store.runMetrics(run.id);
      assert.deepEqual(
        metrics.map((m) => [m.key, m.step, m.value]),
        [
          ['accuracy', 1, 0.5],
          ['loss', 0, 1.25],
          ['loss', 1, 0.9],
          ['loss', 2, 0.4],
        ],
      );
      assert.deepEqual(
        (await store.runMetrics(run.id, { key: 'loss' })).map((m) => m.step),
        [0, 1, 2],
      );

      const finished = await store.finishRun({
        id: run.id,
        status: 'succeeded',
        metrics: { accuracy: 0.97 },
        artifacts: [{ name: 'model.onnx', digest: 'a'.repeat(64), size: 1234 }],
      });
      assert.equal(finished.status, 'succeeded');
      assert.ok(finished.finishedAt !== undefined && finished.finishedAt >= run.startedAt);
      assert.deepEqual(finished.metrics, { accuracy: 0.97 });
      assert.deepEqual(await store.getRun(run.id), finished);
      assert.deepEqual(finished.params, { lr: 0.01, layers: [64, 32] });
      assert.equal(finished.codeVersion, 'abc123');
    });

    test('a failed run is recorded as failed with its error; a finished run refuses writes and is unchanged', async () => {
      const run = await store.createRun({ name: unique('train'), by: 'bob' });
      assert.deepEqual(run.params, {});
      await store.logRunMetrics(run.id, [{ key: 'loss', step: 0, value: 2 }]);
      const failed = await store.finishRun({ id: run.id, status: 'failed', error: 'CUDA out of memory' });
      assert.equal(failed.status, 'failed');
      assert.equal(failed.error, 'CUDA out of memory');
      const metricsBefore = await store.runMetrics(run.id);

      await rejectsWith(
        store.logRunMetrics(run.id, [{ key: 'loss', step: 1, value: 1 }]),
        'RUN_FINISHED',
        new RegExp(`run "${run.id}" already finished as failed`),
      );
      await rejectsWith(store.finishRun({ id: run.id, status: 'succeeded' }), 'RUN_FINISHED', /already finished/);
      assert.deepEqual(await store.getRun(run.id), failed);
      assert.deepEqual(await store.runMetrics(run.id), metricsBefore);
    });

    test('bad metric writes are refused whole', async () => {
      const run = await store.createRun({ name: unique('train'), by: 'alice' });
      await store.logRunMetrics(run.id, [{ key: 'loss', step: 0, value: 1 }]);
      await rejectsWith(
        store.logRunMetrics(run.id, [
          { key: 'loss', step: 1, value: 0.5 },
          { key: 'loss', step: 2, value: Number.NaN },
        ]),
        'BAD_REQUEST',
        /metrics\[1\]\.value must be a finite number/,
      );
      await rejectsWith(
        store.logRunMetrics(run.id, [
          { key: 'loss', step: 1, value: 0.5 },
          { key: 'loss', step: 0, value: 0.7 },
        ]),
        'ALREADY_EXISTS',
        /metric "loss" at step 0/,
      );
      assert.deepEqual(
        (await store.runMetrics(run.id)).map((m) => m.step),
        [0],
        'nothing of a refused write is kept',
      );
      await rejectsWith(store.finishRun({ id: run.id, status: 'succeeded', error: 'x' }), 'BAD_REQUEST');
      await rejectsWith(
        store.finishRun({ id: run.id, status: 'succeeded', metrics: { loss: Number.POSITIVE_INFINITY } }),
        'BAD_REQUEST',
      );
      assert.equal((await store.getRun(run.id)).status, 'running');
    });

    test('runs are listed newest first, filtered by status and name, and paginated', async () => {
      const name = unique('sweep');
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await store.createRun({ name, params: { i }, by: 'alice' })).id);
      await store.finishRun({ id: ids[1] ?? '', status: 'failed', error: 'boom' });
      await store.finishRun({ id: ids[3] ?? '', status: 'succeeded' });
      const other = await store.createRun({ name: unique('other'), by: 'alice' });

      const all = await store.listRuns({ name });
      assert.deepEqual(
        all.items.map((r) => r.id),
        [...ids].reverse(),
      );
      assert.equal(all.nextCursor, undefined);
      const first = await store.listRuns({ limit: 1 });
      assert.equal(first.items[0]?.id, other.id, 'newest first');

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listRuns({ name, limit: 2, ...(cursor !== undefined && { cursor }) });
        assert.ok(page.items.length <= 2);
        seen.push(...page.items.map((r) => r.id));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      assert.deepEqual(seen, [...ids].reverse());

      assert.deepEqual(
        (await store.listRuns({ name, status: 'failed' })).items.map((r) => r.id),
        [ids[1]],
      );
      assert.deepEqual(
        (await store.listRuns({ name, status: 'running' })).items.map((r) => r.id),
        [ids[4], ids[2], ids[0]],
      );
      await rejectsWith(store.listRuns({ cursor: 'nonsense' }), 'BAD_REQUEST');
    });

    test('an unknown run is NOT_FOUND, named in the message', async () => {
      const id = randomUUID();
      const named = new RegExp(`run "${id}" does not exist`);
      await rejectsWith(store.getRun(id), 'NOT_FOUND', named);
      await rejectsWith(store.logRunMetrics(id, [{ key: 'loss', step: 0, value: 1 }]), 'NOT_FOUND', named);
      await rejectsWith(store.finishRun({ id, status: 'succeeded' }), 'NOT_FOUND', named);
      await rejectsWith(store.runMetrics(id), 'NOT_FOUND', named);
    });

    test("a run's artifacts count as referenced, so garbage collection keeps them", async () => {
      const digest = 'ab'.repeat(32);
      const run = await store.createRun({ name: unique('gc-'), by: 'test' });
      assert.equal((await store.referencedArtifacts()).has(digest), false);
      await store.finishRun({ id: run.id, status: 'succeeded', artifacts: [{ name: 'model.onnx', digest, size: 3 }] });
      assert.equal((await store.referencedArtifacts()).has(digest), true);
    });

    test('a dataset version is recorded once with its profile, found by hash and listed by name', async () => {
      const name = unique('data-');
      const version = `sha256:${randomUUID().replaceAll('-', '')}`;
      const profile = { rows: 3, columns: { x: { count: 3, mean: 2 } } };
      const recorded = await store.recordDatasetVersion({
        version,
        name,
        source: 'x.csv',
        numRows: 3,
        profile,
        by: 'me',
      });
      assert.deepEqual(recorded.profile, profile);
      assert.equal(recorded.numRows, 3);
      // The hash names the content: recording it again changes nothing and returns the first record.
      const again = await store.recordDatasetVersion({
        version,
        name,
        source: 'y.csv',
        numRows: 3,
        profile: {},
        by: 'other',
      });
      assert.deepEqual(again, recorded);
      assert.deepEqual(await store.getDatasetVersion(version), recorded);

      const second = `sha256:${randomUUID().replaceAll('-', '')}`;
      await store.recordDatasetVersion({ version: second, name, source: 'x.csv', numRows: 5, profile, by: 'me' });
      const first = await store.listDatasetVersions({ name, limit: 1 });
      assert.deepEqual(
        first.items.map((d) => d.version),
        [second],
      );
      assert.ok(first.nextCursor !== undefined);
      const rest = await store.listDatasetVersions({ name, limit: 1, cursor: first.nextCursor });
      assert.deepEqual(
        rest.items.map((d) => d.version),
        [version],
      );
      await rejectsWith(
        store.getDatasetVersion('sha256:nope'),
        'NOT_FOUND',
        /dataset version "sha256:nope" does not exist/,
      );
      await rejectsWith(
        store.recordDatasetVersion({ version: 'v', name, source: 's', numRows: -1, profile, by: 'me' }),
        'BAD_REQUEST',
        /numRows/,
      );
    });
  });
}

conformance('sqlite', () => sqliteEngine('runs'));
conformance('postgres', postgresEngine);
