// Migration 015 (the inference log keyed by request id first) on both engines for real: rows
// logged before it are kept, found by request id, labelled, and still unique per deployment.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inferenceLogRows } from '../../src/store/inference-log-rows.ts';
import { loadMigrations, migrate } from '../../src/store/migrate.ts';
import { openDriver } from '../../src/store/open-metadata-store.ts';
import { type Engine, postgresEngine, sqliteEngine } from './store-engines.ts';

for (const [name, makeEngine] of [
  ['sqlite', () => sqliteEngine('log-015')],
  ['postgres', postgresEngine],
] as const) {
  test(`${name}: rows logged before migration 015 survive it and stay unique per deployment`, async (t) => {
    const engine: Engine = makeEngine();
    t.after(() => engine.cleanup());
    const all = await loadMigrations();
    const { driver } = await openDriver({ url: engine.url });
    const log = inferenceLogRows(driver);
    t.after(() => log.close());
    await migrate({ driver, migrations: all.filter((m) => m.version < 15) });
    const row = (deployment: string, requestId: string, at: number) => ({
      deployment,
      requestId,
      model: 'iris',
      version: '1',
      at,
      latencyMs: 1,
      inputs: { x: { datatype: 'FP32', shape: [1], values: Float32Array.from([at]) } },
      outputs: { y: { datatype: 'INT64', shape: [1], data: [1] } },
    });
    assert.equal(await log.append([row('a', 'r1', 1), row('b', 'r1', 2), row('a', 'r2', 3)]), 3);
    assert.deepEqual(await migrate({ driver, migrations: all }), [
      ...all.filter((m) => m.version >= 15).map((m) => m.version),
    ]);
    const found = await log.find(['r1', 'r2']);
    assert.deepEqual(found.map((r) => [r.deployment, r.requestId, r.inputs['x']?.data]).sort(), [
      ['a', 'r1', [1]],
      ['a', 'r2', [3]],
      ['b', 'r1', [2]],
    ]);
    // The same (deployment, request id) is still written once; the same id in another deployment is not a duplicate.
    assert.equal(await log.append([row('a', 'r1', 9), row('c', 'r1', 10)]), 1);
    assert.equal(await log.setLabels([{ deployment: 'b', requestId: 'r1', label: 1 }]), 1);
    const window = await log.readWindow({ deployment: 'b', limit: 10 });
    assert.deepEqual(
      window.map((r) => [r.requestId, r.label]),
      [['r1', 1]],
    );
    assert.equal(await log.prune({ before: 3 }), 2);
  });
}
