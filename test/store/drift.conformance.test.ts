// The drift part of the MetadataStore contract (settings, reports, reference samples), on both
// engines for real: SQLite in a temporary folder and PostgreSQL in a schema of its own.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { MetadataStore } from '../../src/store/metadata-store.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { type Engine, postgresEngine, rejectsWith, sqliteEngine } from './store-engines.ts';

function conformance(name: 'sqlite' | 'postgres', makeEngine: () => Engine): void {
  describe(`MetadataStore drift conformance: ${name}`, () => {
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

    async function deploymentOf(versions: number): Promise<{ model: string; deployment: string }> {
      const model = unique('m');
      await store.createModel({ name: model, by: 'alice' });
      for (let i = 0; i < versions; i++) {
        await store.createVersion({
          model,
          artifactDigest: randomUUID().replaceAll('-', '').padEnd(64, '0'),
          artifactSize: 10,
          signature: { inputs: [], outputs: [] },
          metrics: {},
          by: 'alice',
        });
      }
      const deployment = unique('d');
      await store.createDeployment({
        name: deployment,
        model,
        spec: {},
        state: {},
        versionRefs: [1],
        aliasRefs: [],
        by: 'alice',
      });
      return { model, deployment };
    }

    test('drift settings are set, replaced and read back; none before they are set', async () => {
      const { deployment } = await deploymentOf(1);
      assert.equal(await store.getDriftConfig(deployment), undefined);
      const first = await store.setDriftConfig({ deployment, config: { driftShare: 0.3 }, updatedBy: 'alice' });
      assert.deepEqual(first.config, { driftShare: 0.3 });
      await store.setDriftConfig({ deployment, config: { driftShare: 0.7, columns: { a: {} } }, updatedBy: 'bob' });
      const read = await store.getDriftConfig(deployment);
      assert.deepEqual(read?.config, { driftShare: 0.7, columns: { a: {} } });
      assert.equal(read?.updatedBy, 'bob');
      await rejectsWith(store.getDriftConfig(unique('none')), 'DEPLOYMENT_NOT_FOUND');
      await rejectsWith(
        store.setDriftConfig({ deployment: unique('none'), config: {}, updatedBy: 'a' }),
        'DEPLOYMENT_NOT_FOUND',
      );
    });

    test('reports are kept and listed newest first, by version and window', async () => {
      const { model, deployment } = await deploymentOf(2);
      const save = (version: number, windowKey: string, computedAt: number) =>
        store.saveDriftReport({ deployment, model, version, windowKey, computedAt, report: { version, computedAt } });
      await save(1, 'count:100', 1000);
      await save(1, 'count:100', 3000);
      await save(2, 'count:100', 2000);
      await save(1, 'time:1h', 4000);
      const all = await store.listDriftReports({ deployment });
      assert.deepEqual(
        all.map((r) => r.computedAt),
        [4000, 3000, 2000, 1000],
      );
      const latest = await store.listDriftReports({ deployment, version: 1, windowKey: 'count:100', limit: 1 });
      assert.equal(latest.length, 1);
      assert.deepEqual(latest[0]?.report, { version: 1, computedAt: 3000 });
      assert.equal(latest[0]?.model, model);
      assert.equal((await store.listDriftReports({ deployment, version: 2 })).length, 1);
      assert.equal((await store.listDriftReports({ deployment, windowKey: 'time:1h' }))[0]?.computedAt, 4000);
      await rejectsWith(store.listDriftReports({ deployment: unique('none') }), 'DEPLOYMENT_NOT_FOUND');

      // Reports and settings go with their deployment.
      await store.setDriftConfig({ deployment, config: {}, updatedBy: 'a' });
      await store.deleteDeployment({ name: deployment, by: 'alice' });
      await store.createDeployment({
        name: deployment,
        model,
        spec: {},
        state: {},
        versionRefs: [1],
        aliasRefs: [],
        by: 'alice',
      });
      assert.deepEqual(await store.listDriftReports({ deployment }), []);
      assert.equal(await store.getDriftConfig(deployment), undefined);
    });

    test('a version keeps one reference sample, replaced when recorded again', async () => {
      const { model } = await deploymentOf(2);
      assert.equal(await store.referenceSample(model, 1), undefined);
      await store.recordReferenceSample({ model, version: 1, sample: { rows: [{ a: 1 }] } });
      await store.recordReferenceSample({ model, version: 1, sample: { rows: [{ a: 2 }], predictions: [{ y: 0 }] } });
      assert.deepEqual(await store.referenceSample(model, 1), { rows: [{ a: 2 }], predictions: [{ y: 0 }] });
      assert.equal(await store.referenceSample(model, 2), undefined);
      await rejectsWith(store.recordReferenceSample({ model, version: 9, sample: {} }), 'VERSION_NOT_FOUND');
    });
  });
}

conformance('sqlite', () => sqliteEngine('drift'));
conformance('postgres', postgresEngine);
