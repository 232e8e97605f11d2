/**
 * Probe: the log thread's SQLite cost per inference-log record for schema variants, in-process
 * and single-threaded (CPU µs per record from process.cpuUsage, medians over rounds that
 * alternate the variants). Each variant takes 40 transactions of two 250-row INSERTs of mlp
 * records (784 FP32 inputs) on a file database in WAL mode, `synchronous = NORMAL`, as the
 * server's driver opens it:
 * - `current`: migration 011 (primary key (deployment, request_id) and three secondary indexes,
 *   inputs as base64 in a JSON document);
 * - `pk-swap`: primary key (request_id, deployment), which also serves feedback's lookup by id,
 *   so the `request_id` index goes;
 * - `pk-swap + blob`: the same with the input bytes in a BLOB column instead of base64 in JSON.
 *
 *   node --import tsx bench/probes/log-insert-cost.ts [--rounds 5]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'libsql';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } }, strict: true });

const COLUMNS = `deployment TEXT NOT NULL, request_id TEXT NOT NULL, model TEXT NOT NULL, version TEXT NOT NULL,
  at BIGINT NOT NULL, latency_ms DOUBLE PRECISION NOT NULL`;
const TAIL = 'outputs TEXT NOT NULL, label TEXT, labelled_at BIGINT';
const BY_TIME = `CREATE INDEX inference_log_deployment_at ON inference_log (deployment, at);
  CREATE INDEX inference_log_at ON inference_log (at);`;
const VARIANTS: Readonly<Record<string, { ddl: string; blob: boolean }>> = {
  current: {
    ddl: `CREATE TABLE inference_log (${COLUMNS}, inputs TEXT NOT NULL, ${TAIL}, PRIMARY KEY (deployment, request_id));
      ${BY_TIME} CREATE INDEX inference_log_request_id ON inference_log (request_id);`,
    blob: false,
  },
  'pk-swap': {
    ddl: `CREATE TABLE inference_log (${COLUMNS}, inputs TEXT NOT NULL, ${TAIL}, PRIMARY KEY (request_id, deployment)); ${BY_TIME}`,
    blob: false,
  },
  'pk-swap + blob': {
    ddl: `CREATE TABLE inference_log (${COLUMNS}, inputs BLOB NOT NULL, ${TAIL}, PRIMARY KEY (request_id, deployment)); ${BY_TIME}`,
    blob: true,
  },
};

const ROWS = 250;
const TRANSACTIONS = 40;
const input = Buffer.from(new Float32Array(784).map(() => Math.random()).buffer);
const inputsJson = JSON.stringify({ input: { datatype: 'FP32', shape: [1, 784], base64: input.toString('base64') } });
const outputs = JSON.stringify({
  output: { datatype: 'FP32', shape: [1, 10], base64: Buffer.alloc(40).toString('base64') },
});

const dir = mkdtempSync(join(tmpdir(), 'stratum-log-insert-'));
try {
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const results = new Map<string, number[]>();
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [name, { ddl, blob }] of Object.entries(VARIANTS)) {
      const db = new Database(join(dir, `${round}-${name.replace(/\W+/g, '-')}.db`));
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.exec(ddl);
      const insert = db.prepare(
        `INSERT INTO inference_log (deployment, request_id, model, version, at, latency_ms, inputs, outputs)
         VALUES ${Array.from({ length: ROWS }, () => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
         ON CONFLICT (deployment, request_id) DO NOTHING`,
      );
      const write = db.transaction((params: unknown[][]) => {
        for (const p of params) insert.run(...p);
      });
      let at = Date.now();
      let micros = 0;
      for (let t = 0; t < TRANSACTIONS; t++) {
        const params: unknown[][] = [];
        for (let s = 0; s < 2; s++) {
          const p: unknown[] = [];
          for (let i = 0; i < ROWS; i++) {
            p.push('mlp', randomBytes(16).toString('hex'), 'mlp', '1', at++, 0.5, blob ? input : inputsJson, outputs);
          }
          params.push(p);
        }
        const before = process.cpuUsage();
        write(params);
        const used = process.cpuUsage(before);
        micros += used.user + used.system;
      }
      results.set(name, [...(results.get(name) ?? []), micros / (TRANSACTIONS * ROWS * 2)]);
      db.close();
    }
  }
  console.log('| schema | CPU µs per record (median) | min–max |');
  console.log('| --- | ---: | --- |');
  for (const [name, xs] of results) {
    const sorted = [...xs].sort((a, b) => a - b);
    console.log(
      `| ${name} | ${sorted[sorted.length >> 1]?.toFixed(1)} | ${sorted[0]?.toFixed(1)}–${sorted.at(-1)?.toFixed(1)} |`,
    );
  }
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
