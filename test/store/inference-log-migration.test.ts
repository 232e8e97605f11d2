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
    // Rows as the log wrote them then: JSON text.
    for (const [deployment, requestId, at] of [
      ['a', 'r1', 1],
      ['b', 'r1', 2],
      ['a', 'r2', 3],
    ] as const) {
      await driver.execute(
        `INSERT INTO inference_log (deployment, request_id, model, version, at, latency_ms, inputs, outputs)
         VALUES (?, ?, 'iris', '1', ?, 1, ?, ?)`,
        [
          deployment,
          requestId,
          at,
          JSON.stringify({ x: { datatype: 'FP32', shape: [1], data: [at] } }),
          JSON.stringify({ y: { datatype: 'INT64', shape: [1], data: [1] } }),
        ],
      );
    }
    assert.deepEqual(await migrate({ driver, migrations: all }), [
      ...all.filter((m) => m.version >= 15 && (m.engine ?? name) === name).map((m) => m.version),
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

for (const [name, makeEngine] of [
  ['sqlite', () => sqliteEngine('log-016')],
  ['postgres', postgresEngine],
] as const) {
  test(`${name}: rows logged as JSON text before migration 016 read the same after it, beside binary rows`, async (t) => {
    const engine: Engine = makeEngine();
    t.after(() => engine.cleanup());
    const all = await loadMigrations();
    const { driver } = await openDriver({ url: engine.url });
    const log = inferenceLogRows(driver);
    t.after(() => log.close());
    await migrate({ driver, migrations: all.filter((m) => m.version < 16) });
    const base64 = Buffer.from(Float32Array.from([1.5, -2]).buffer).toString('base64');
    const documents = [
      JSON.stringify({ x: { datatype: 'FP32', shape: [2], data: [1.5, -2] } }),
      JSON.stringify({
        x: { datatype: 'FP32', shape: [2], base64 },
        s: { datatype: 'BYTES', shape: [1], data: ['é'] },
      }),
    ];
    for (const [i, inputs] of documents.entries()) {
      await driver.execute(
        `INSERT INTO inference_log (deployment, request_id, model, version, at, latency_ms, inputs, outputs)
         VALUES ('d', ?, 'm', '1', ?, 1, ?, '{}')`,
        [`old${i}`, i, inputs],
      );
    }
    await migrate({ driver, migrations: all });
    assert.equal(
      await log.append([
        {
          deployment: 'd',
          requestId: 'new',
          model: 'm',
          version: '1',
          at: 5,
          latencyMs: 1,
          inputs: { x: { datatype: 'FP32', shape: [2], values: Float32Array.from([1.5, -2]) } },
          outputs: {},
        },
      ]),
      1,
    );
    const window = await log.readWindow({ deployment: 'd', limit: 10 });
    assert.deepEqual(
      window.map((r) => [r.requestId, r.inputs['x']?.data, r.inputs['s']?.data, r.outputs]),
      [
        ['old0', [1.5, -2], undefined, {}],
        ['old1', [1.5, -2], ['é'], {}],
        ['new', [1.5, -2], undefined, {}],
      ],
    );
  });
}
