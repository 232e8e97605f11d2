// The inference log contract on both engines for real: SQLite in a temporary folder and
// PostgreSQL in a schema of its own (dropped afterwards).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { InferenceLogStore, NewInferenceLogRecord } from '../../src/store/inference-log-store.ts';
import { openInferenceLogStore } from '../../src/store/open-inference-log-store.ts';
import { type Engine, postgresEngine, rejectsWith, sqliteEngine } from './store-engines.ts';

function record(deployment: string, requestId: string, at: number): NewInferenceLogRecord {
  return {
    deployment,
    requestId,
    model: 'iris',
    version: '1',
    at,
    latencyMs: 1.25,
    inputs: { x: { datatype: 'FP32', shape: [1, 2], data: [at / 1000, 0.5] } },
    outputs: { label: { datatype: 'INT64', shape: [1], data: [at % 2] } },
  };
}

function conformance(name: 'sqlite' | 'postgres', makeEngine: () => Engine): void {
  describe(`InferenceLogStore conformance: ${name}`, () => {
    const engine = makeEngine();
    let log: InferenceLogStore;
    const unique = (prefix: string): string => `${prefix}${randomUUID().replaceAll('-', '').slice(0, 10)}`;

    before(async () => {
      log = await openInferenceLogStore({ url: engine.url });
    });
    after(async () => {
      await log.close();
      await log.close();
      await engine.cleanup();
    });

    test('appends in batches, keeps the first record of a request id, and reads windows oldest first', async () => {
      const d = unique('dep');
      const records = Array.from({ length: 600 }, (_, i) => ({
        ...record(d, `r${i}`, 1_000_000 + i),
        version: i % 3 === 0 ? '2' : '1',
      }));
      assert.equal(await log.append(records), 600);
      assert.equal(await log.append([{ ...record(d, 'r0', 5), model: 'other' }]), 0);
      assert.equal(await log.count(d), 600);

      const window = await log.readWindow({ deployment: d, limit: 10 });
      assert.deepEqual(
        window.map((r) => r.requestId),
        Array.from({ length: 10 }, (_, i) => `r${590 + i}`),
      );
      assert.deepEqual(window[0], { ...records[590] });
      const v2 = await log.readWindow({ deployment: d, version: '2', since: 1_000_000 + 500, limit: 1000 });
      assert.deepEqual(
        v2.map((r) => r.requestId),
        records.filter((r, i) => r.version === '2' && i >= 500).map((r) => r.requestId),
      );
      assert.equal((await log.readWindow({ deployment: unique('none'), limit: 5 })).length, 0);
      await rejectsWith(log.readWindow({ deployment: d, limit: 0 }), 'BAD_REQUEST', /limit/);
    });

    test('labels join by request id; the last label wins; labelled windows', async () => {
      const d = unique('dep');
      const other = unique('dep');
      await log.append([record(d, 'a', 10), record(d, 'b', 20), record(other, 'b', 30)]);
      const found = await log.find(['a', 'b', 'missing']);
      assert.deepEqual(
        found.map((r) => `${r.deployment}/${r.requestId}`).sort(),
        [`${d}/a`, `${d}/b`, `${other}/b`].sort(),
      );
      assert.equal(await log.setLabels([{ deployment: d, requestId: 'a', label: 1 }]), 1);
      assert.equal(
        await log.setLabels([
          { deployment: d, requestId: 'a', label: [0] },
          { deployment: d, requestId: 'zz', label: 1 },
        ]),
        1,
      );
      const [a] = await log.find(['a']);
      assert.deepEqual(a?.label, [0]);
      assert.equal(typeof a?.labelledAt, 'number');
      assert.deepEqual(
        (await log.readWindow({ deployment: d, labelled: true, limit: 10 })).map((r) => r.requestId),
        ['a'],
      );
      assert.deepEqual(
        (await log.readWindow({ deployment: d, labelled: false, limit: 10 })).map((r) => r.requestId),
        ['b'],
      );
    });

    test('prunes by age, then by row cap (oldest first)', async () => {
      // Its own database: the cap counts every deployment's records.
      const own = makeEngine();
      const store = await openInferenceLogStore({ url: own.url });
      try {
        const d = unique('dep');
        await store.append(Array.from({ length: 20 }, (_, i) => record(d, `p${i}`, 100 + i)));
        assert.equal(await store.prune({ before: 105 }), 5);
        assert.equal(await store.count(), 15);
        assert.equal(await store.prune({ maxRows: 10 }), 5);
        assert.deepEqual(
          (await store.readWindow({ deployment: d, limit: 100 })).map((r) => r.requestId),
          Array.from({ length: 10 }, (_, i) => `p${10 + i}`),
        );
        assert.equal(await store.prune({ maxRows: 10 }), 0);
      } finally {
        await store.close();
        await own.cleanup();
      }
    });
  });
}

conformance('sqlite', () => sqliteEngine('inferlog'));
conformance('postgres', postgresEngine);
