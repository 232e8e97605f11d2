// Rows of every inference log form, side by side on both engines for real (SQLite in a temporary
// folder, PostgreSQL in a schema of its own): JSON-array rows and base64 JSON rows as the log wrote
// them before (inserted as literal text on SQLite, and on PostgreSQL as the UTF-8 bytes migration
// 016 turned them into) and rows of the binary form read the same through the drift window source
// and the feedback join, and redaction holds in the binary form.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createFeedback } from '../../src/deploy/feedback.ts';
import { toNewRecord } from '../../src/deploy/inference-log-sink.ts';
import { inferenceLogDriftSource } from '../../src/server/inference-log-drift-source.ts';
import type { InferenceLogStore } from '../../src/store/inference-log-store.ts';
import { openDriver } from '../../src/store/open-metadata-store.ts';
import { openInferenceLogStore } from '../../src/store/open-inference-log-store.ts';
import type { SqlDriver } from '../../src/store/sql-driver.ts';
import { type Engine, postgresEngine, sqliteEngine } from './store-engines.ts';

// Two rows of x (FP32 [2, 2]) and the class probabilities of each (FP32 [2, 2]): values exact in
// FP32, so the old decimal form and the new bytes hold the same numbers.
const X = [0.5, 1.25, -2, 3.75];
const PROBABILITIES = [0.25, 0.75, 0.875, 0.125];

type OldForm = 'decimal' | 'base64';

function oldTensor(form: OldForm, values: readonly number[]) {
  return form === 'decimal'
    ? { datatype: 'FP32', shape: [2, 2], data: values }
    : { datatype: 'FP32', shape: [2, 2], base64: Buffer.from(Float32Array.from(values).buffer).toString('base64') };
}

/** A record's tensor documents exactly as the JSON-array (decimal) or base64 writer stored them. */
function oldDocuments(form: OldForm): { inputs: string; outputs: string } {
  return {
    inputs: JSON.stringify({ x: oldTensor(form, X) }),
    outputs: JSON.stringify({ probabilities: oldTensor(form, PROBABILITIES) }),
  };
}

async function insertOld(
  driver: SqlDriver,
  row: { deployment: string; requestId: string; at: number; form?: OldForm },
): Promise<void> {
  const { deployment, requestId, at, form = 'decimal' } = row;
  const { inputs, outputs } = oldDocuments(form);
  // What migration 016 made of the text on PostgreSQL; SQLite kept the text.
  const text = driver.engine === 'postgres' ? "convert_to(?, 'UTF8')" : '?';
  await driver.execute(
    `INSERT INTO inference_log (deployment, request_id, model, version, at, latency_ms, inputs, outputs)
     VALUES (?, ?, ?, ?, ?, ?, ${text}, ${text})`,
    [deployment, requestId, 'clf', '1', at, 1.5, inputs, outputs],
  );
}

function newRecord(row: {
  deployment: string;
  requestId: string;
  at: number;
  redact?: Record<string, 'drop' | 'hash'>;
}) {
  const { deployment, requestId, at, redact = {} } = row;
  return toNewRecord({
    requestId,
    deployment,
    model: 'clf',
    version: '1',
    at,
    latencyMs: 1.5,
    inputs: [
      { name: 'x', datatype: 'FP32', shape: [2, 2], data: Float32Array.from(X) },
      { name: 'card', datatype: 'INT64', shape: [2, 1], data: BigInt64Array.from([4111n, 4222n]) },
    ],
    // A view into a larger buffer, as a batch's output split per request is.
    outputs: [
      {
        name: 'probabilities',
        datatype: 'FP32',
        shape: [2, 2],
        data: Float32Array.from([9, ...PROBABILITIES, 9]).subarray(1, 5),
      },
    ],
    redact,
  });
}

function conformance(name: 'sqlite' | 'postgres', makeEngine: () => Engine): void {
  describe(`inference log forms: ${name}`, () => {
    const engine = makeEngine();
    let log: InferenceLogStore;
    let raw: SqlDriver;
    const unique = (prefix: string): string => `${prefix}${randomUUID().replaceAll('-', '').slice(0, 10)}`;

    before(async () => {
      log = await openInferenceLogStore({ url: engine.url });
      const opened = await openDriver({ url: engine.url });
      await opened.notifier?.close();
      raw = opened.driver;
    });
    after(async () => {
      await raw.close();
      await log.close();
      await engine.cleanup();
    });

    test('new rows hold the raw bytes, not decimal arrays nor base64', async () => {
      const d = unique('dep');
      await log.append([newRecord({ deployment: d, requestId: 'n', at: 10 })]);
      const [row] = await raw.query<{ inputs: unknown }>('SELECT inputs FROM inference_log WHERE deployment = ?', [d]);
      // A BLOB comes back from libsql as an ArrayBuffer, a BYTEA from pg as a Buffer.
      const value = row?.inputs;
      assert.ok(value instanceof ArrayBuffer || Buffer.isBuffer(value), 'a BLOB / BYTEA value');
      const bytes = Buffer.from(value as ArrayBuffer);
      assert.notEqual(bytes.indexOf(Buffer.from(Float32Array.from(X).buffer)), -1);
      assert.doesNotMatch(bytes.toString('latin1'), /"data":|"base64":/);
    });

    test('the drift window reads old and new rows alike', async () => {
      const d = unique('dep');
      await insertOld(raw, { deployment: d, requestId: 'old', at: 10 });
      await insertOld(raw, { deployment: d, requestId: 'b64', at: 15, form: 'base64' });
      await log.append([newRecord({ deployment: d, requestId: 'new', at: 20 })]);
      const source = inferenceLogDriftSource({ store: log, writer: { flush: () => Promise.resolve() } });
      const window = await source.readWindow({ deployment: d });
      const xRows = [
        { 'x[0]': 0.5, 'x[1]': 1.25 },
        { 'x[0]': -2, 'x[1]': 3.75 },
      ];
      const predictions = [
        { 'probabilities[0]': 0.25, 'probabilities[1]': 0.75 },
        { 'probabilities[0]': 0.875, 'probabilities[1]': 0.125 },
      ];
      assert.deepEqual(window.rows, [...xRows, ...xRows, ...xRows.map((r, i) => ({ ...r, card: [4111, 4222][i] }))]);
      assert.deepEqual(window.predictions, [...predictions, ...predictions, ...predictions]);
      assert.deepEqual([window.from?.getTime(), window.to?.getTime()], [10, 20]);
    });

    test('feedback joins labels onto old and new rows alike', async () => {
      const d = unique('dep');
      const [oldId, newId] = [unique('old'), unique('new')];
      await insertOld(raw, { deployment: d, requestId: oldId, at: 10 });
      await log.append([newRecord({ deployment: d, requestId: newId, at: 20 })]);
      const feedback = createFeedback({ store: log });
      const result = await feedback.submit([
        { request_id: oldId, label: [1, 0] },
        { request_id: newId, label: [1, 0] },
        // Two classes: a class index of 2 does not fit either form's predictions.
        { request_id: newId, label: [2, 0] },
      ]);
      assert.equal(result.accepted, 2);
      assert.deepEqual(
        result.rejected.map((r) => [r.index, r.code]),
        [[2, 'wrong_label']],
      );
      const found = await log.find([oldId, newId]);
      assert.equal(found.length, 2);
      for (const record of found) {
        assert.deepEqual(record.label, [1, 0], record.requestId);
        assert.deepEqual(record.outputs, {
          probabilities: { datatype: 'FP32', shape: [2, 2], data: PROBABILITIES },
        });
        assert.deepEqual(record.inputs.x, { datatype: 'FP32', shape: [2, 2], data: X });
      }
    });

    test('redaction: a dropped input is absent and a hashed one holds hashes, in the new form', async () => {
      const d = unique('dep');
      await log.append([newRecord({ deployment: d, requestId: 'r', at: 10, redact: { x: 'drop', card: 'hash' } })]);
      const [record] = await log.find(['r']).then((all) => all.filter((r) => r.deployment === d));
      assert.equal(record?.inputs.x, undefined);
      const card = record?.inputs.card;
      assert.equal(card?.redacted, 'hash');
      assert.equal(card?.data.length, 2);
      for (const value of card?.data ?? []) assert.match(String(value), /^[0-9a-f]{16}$/);
      assert.ok(!JSON.stringify(record).includes('4111'), 'the value itself is not stored');
      // Hashes are of the value as a reader sees it, as before: equal values still join.
      const again = unique('dep');
      await log.append([newRecord({ deployment: again, requestId: 'r2', at: 10, redact: { card: 'hash' } })]);
      const [other] = await log.find(['r2']).then((all) => all.filter((r) => r.deployment === again));
      assert.deepEqual(other?.inputs.card, card);
      // Drift skips hashed inputs.
      const window = await inferenceLogDriftSource({
        store: log,
        writer: { flush: () => Promise.resolve() },
      }).readWindow({
        deployment: d,
      });
      assert.deepEqual(window.rows, []);
    });
  });
}

conformance('sqlite', () => sqliteEngine('inferlog-forms'));
conformance('postgres', postgresEngine);
