// The tuning-experiment part of the MetadataStore contract (experiments, trials, rung results), on both engines for real: SQLite in a
// temporary folder and PostgreSQL in a schema of its own (dropped afterwards).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { MetadataStore } from '../../src/store/metadata-store.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { type Engine, postgresEngine, rejectsWith, sqliteEngine } from './store-engines.ts';

function conformance(name: 'sqlite' | 'postgres', makeEngine: () => Engine): void {
  describe(`MetadataStore experiments conformance: ${name}`, () => {
    const engine = makeEngine();
    let store: MetadataStore;

    before(async () => {
      store = await openMetadataStore({ url: engine.url, pollMs: 50 });
    });
    after(async () => {
      await store.close();
      await engine.cleanup();
    });

    test('an experiment is created with a given id, listed, and finishes once', async () => {
      const id = randomUUID();
      const created = await store.createExperiment({
        id,
        name: 'tune-flights',
        spec: { trials: 4, space: { 'model.params.maxDepth': { int: [2, 6] } } },
        metric: 'rmse',
        mode: 'min',
        jobId: 'job-1',
        by: 'alice',
      });
      assert.equal(created.id, id);
      assert.equal(created.status, 'running');
      assert.equal(created.jobId, 'job-1');
      assert.deepEqual(await store.getExperiment(id), created);
      await rejectsWith(
        store.createExperiment({ id, name: 'again', spec: {}, metric: 'rmse', mode: 'min', by: 'a' }),
        'ALREADY_EXISTS',
        new RegExp(id),
      );
      const listed = await store.listExperiments({ status: 'running' });
      assert.ok(listed.items.some((e) => e.id === id));

      const finished = await store.finishExperiment({
        id,
        status: 'succeeded',
        bestTrial: 2,
        bestValue: 0.25,
        registered: { model: 'flights', version: 3 },
      });
      assert.equal(finished.status, 'succeeded');
      assert.equal(finished.bestTrial, 2);
      assert.equal(finished.bestValue, 0.25);
      assert.deepEqual(finished.registered, { model: 'flights', version: 3 });
      assert.ok(finished.finishedAt !== undefined);
      await rejectsWith(store.finishExperiment({ id, status: 'failed', error: 'x' }), 'RUN_FINISHED');
      await rejectsWith(store.getExperiment(randomUUID()), 'NOT_FOUND', /experiment/);
    });

    test('a succeeded experiment records its registration once; another ending refuses it', async () => {
      const make = async (): Promise<string> => {
        const id = randomUUID();
        await store.createExperiment({ id, name: 'reg', spec: {}, metric: 'rmse', mode: 'min', by: 'a' });
        return id;
      };
      const id = await make();
      await rejectsWith(
        store.recordExperimentRegistration({ id, registered: { model: 'm', version: 1 } }),
        'BAD_REQUEST',
        /running/,
      );
      await store.finishExperiment({ id, status: 'succeeded', bestTrial: 0, bestValue: 1 });
      assert.equal((await store.getExperiment(id)).registered, undefined);
      const first = await store.recordExperimentRegistration({ id, registered: { model: 'm', version: 1 } });
      assert.deepEqual(first.registered, { model: 'm', version: 1 });
      const again = await store.recordExperimentRegistration({ id, registered: { model: 'm', version: 2 } });
      assert.deepEqual(again.registered, { model: 'm', version: 1 }, 'the first registration stays');
      const failed = await make();
      await store.finishExperiment({ id: failed, status: 'failed', error: 'no trial finished' });
      await rejectsWith(
        store.recordExperimentRegistration({ id: failed, registered: { model: 'm', version: 3 } }),
        'BAD_REQUEST',
        /failed/,
      );
    });

    test('trials are numbered once, updated, and listed by number', async () => {
      const id = randomUUID();
      await store.createExperiment({ id, name: 'tune', spec: {}, metric: 'accuracy', mode: 'max', by: 'bob' });
      await store.addTrial({ experiment: id, number: 1, params: { 'model.params.l2': 0.1 } });
      const first = await store.addTrial({ experiment: id, number: 0, params: { 'model.params.l2': 0.01 } });
      assert.equal(first.status, 'running');
      await rejectsWith(store.addTrial({ experiment: id, number: 0, params: {} }), 'ALREADY_EXISTS', /trial 0/);
      const done = await store.updateTrial({
        experiment: id,
        number: 0,
        status: 'stopped',
        runId: 'run-0',
        resource: 4,
        value: 0.75,
      });
      assert.equal(done.status, 'stopped');
      assert.equal(done.runId, 'run-0');
      assert.equal(done.resource, 4);
      assert.equal(done.value, 0.75);
      assert.ok(done.finishedAt !== undefined);
      const trials = await store.listTrials(id);
      assert.deepEqual(
        trials.map((t) => [t.number, t.status]),
        [
          [0, 'stopped'],
          [1, 'running'],
        ],
      );
      assert.deepEqual(trials[1]?.params, { 'model.params.l2': 0.1 });
      await rejectsWith(store.updateTrial({ experiment: id, number: 7, status: 'failed' }), 'NOT_FOUND', /trial 7/);
      await rejectsWith(store.updateTrial({ experiment: id, number: 1, value: Number.NaN }), 'BAD_REQUEST');
    });

    test('rung results are recorded, replaced on a retry, and read by rung', async () => {
      const id = randomUUID();
      await store.createExperiment({ id, name: 'tune', spec: {}, metric: 'rmse', mode: 'min', by: 'bob' });
      await store.recordRung({ experiment: id, rung: 4, trial: 1, value: 0.5 });
      await store.recordRung({ experiment: id, rung: 2, trial: 0, value: 0.9 });
      await store.recordRung({ experiment: id, rung: 2, trial: 1, value: 0.7 });
      await store.recordRung({ experiment: id, rung: 2, trial: 1, value: 0.6 });
      assert.deepEqual(
        (await store.rungResults(id)).map((r) => [r.rung, r.trial, r.value]),
        [
          [2, 0, 0.9],
          [2, 1, 0.6],
          [4, 1, 0.5],
        ],
      );
      await rejectsWith(store.rungResults(randomUUID()), 'NOT_FOUND');
    });
  });
}

conformance('sqlite', () => sqliteEngine('experiments'));
conformance('postgres', postgresEngine);
