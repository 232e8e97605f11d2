/**
 * Probe: SQLite's cost per inference-log record for the stored form of its tensors and the page
 * size, in-process and single-threaded (CPU µs per record from process.cpuUsage, medians over
 * rounds that alternate the variants). Each variant takes 20,000 records, by default in
 * transactions of two 250-row INSERTs (the writer's default batch of 500), of mlp records (784 FP32 inputs, 10 FP32 outputs) into the table of migration 015 on a file
 * database in WAL mode, `synchronous = NORMAL`, as the server's driver opens it:
 * - `base64 JSON, 4 KiB`: the tensors as JSON text with base64 bytes, default pages (before);
 * - `binary, N KiB`: the tensors in the binary form of `store/logged-tensor-codec.ts` (BLOBs),
 *   pages of N KiB (the driver now creates files with 16 KiB pages); at 16 KiB also one 500-row
 *   INSERT per transaction instead of two of 250, and transactions of 2,000 rows instead of 500.
 * Encoding is outside the measure: only the INSERTs and the COMMIT (WAL writes, checkpoints).
 * Request ids are random (v4-like) unless a variant says UUIDv7 (`util/time-ordered-ids.ts`, what
 * Stratum gives a logged request without an id); the `… rows before` variants first fill the
 * table with that many records of their kind of id, unmeasured, as a log that has been running
 * a while would be (the default row cap is 1,000,000).
 *
 * Then the embedded job queue's side of a page size: the same CPU measure for small transactions
 * on a migrated database with 2,000 jobs (claim: an UPDATE of one job and an INSERT into
 * `job_events`; finish: another UPDATE), and the WAL bytes each one writes (checkpoints off while
 * it is counted).
 *
 *   node --import tsx bench/probes/log-insert-cost.ts [--rounds 5] [--only 'rows before']
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'libsql';
import { encodeLoggedTensors } from '../../src/store/logged-tensor-codec.ts';
import { loadMigrations } from '../../src/store/migrate.ts';
import { createTimeOrderedIds } from '../../src/util/time-ordered-ids.ts';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, only: { type: 'string' } },
  strict: true,
});
const rounds = Number(values.rounds);

const TABLE = `CREATE TABLE inference_log (deployment TEXT NOT NULL, request_id TEXT NOT NULL, model TEXT NOT NULL,
  version TEXT NOT NULL, at BIGINT NOT NULL, latency_ms DOUBLE PRECISION NOT NULL, inputs TEXT NOT NULL,
  outputs TEXT NOT NULL, label TEXT, labelled_at BIGINT, PRIMARY KEY (request_id, deployment));
  CREATE INDEX inference_log_deployment_at ON inference_log (deployment, at);
  CREATE INDEX inference_log_at ON inference_log (at);`;

const input = Float32Array.from({ length: 784 }, () => Math.random());
const output = Float32Array.from({ length: 10 }, () => Math.random());
const base64Json = (name: string, values: Float32Array): string =>
  JSON.stringify({
    [name]: { datatype: 'FP32', shape: [1, values.length], base64: Buffer.from(values.buffer).toString('base64') },
  });
const FORMS = {
  base64: { inputs: base64Json('input', input), outputs: base64Json('output', output) },
  binary: {
    inputs: encodeLoggedTensors({ input: { datatype: 'FP32', shape: [1, 784], values: input } }),
    outputs: encodeLoggedTensors({ output: { datatype: 'FP32', shape: [1, 10], values: output } }),
  },
};
interface Variant {
  readonly name: string;
  readonly form: keyof typeof FORMS;
  readonly page: number;
  /** Rows per INSERT statement. @default 250 */
  readonly rows?: number;
  /** Rows per transaction. @default 500 (the default batch size) */
  readonly transactionRows?: number;
  /** Further PRAGMAs of the connection. */
  readonly pragmas?: readonly string[];
  /** @default 'random' */
  readonly ids?: 'random' | 'uuidv7';
  /** Records in the table before the measured ones. @default 0 */
  readonly rowsBefore?: number;
}
const VARIANTS: readonly Variant[] = [
  { name: 'base64 JSON, 4 KiB', form: 'base64', page: 4096 },
  { name: 'binary, 4 KiB', form: 'binary', page: 4096 },
  { name: 'binary, 8 KiB', form: 'binary', page: 8192 },
  { name: 'binary, 16 KiB', form: 'binary', page: 16384 },
  { name: 'binary, 64 KiB', form: 'binary', page: 65536 },
  { name: 'binary, 16 KiB, 500-row INSERTs', form: 'binary', page: 16384, rows: 500 },
  { name: 'binary, 16 KiB, 100-row INSERTs', form: 'binary', page: 16384, rows: 100 },
  { name: 'binary, 16 KiB, 2,000-row transactions', form: 'binary', page: 16384, transactionRows: 2000 },
  { name: 'binary, 16 KiB, cache 16 MiB', form: 'binary', page: 16384, pragmas: ['cache_size = -16384'] },
  {
    name: 'binary, 16 KiB, checkpoint at 4,000 pages',
    form: 'binary',
    page: 16384,
    pragmas: ['wal_autocheckpoint = 4000'],
  },
  { name: 'binary, 16 KiB, synchronous OFF', form: 'binary', page: 16384, pragmas: ['synchronous = OFF'] },
  { name: 'binary, 16 KiB, UUIDv7 ids', form: 'binary', page: 16384, ids: 'uuidv7' },
  { name: 'binary, 16 KiB, 200,000 rows before', form: 'binary', page: 16384, rowsBefore: 200_000 },
  {
    name: 'binary, 16 KiB, 200,000 rows before, UUIDv7 ids',
    form: 'binary',
    page: 16384,
    rowsBefore: 200_000,
    ids: 'uuidv7',
  },
  {
    name: 'binary, 16 KiB, 200,000 rows before, cache 16 MiB',
    form: 'binary',
    page: 16384,
    rowsBefore: 200_000,
    pragmas: ['cache_size = -16384'],
  },
];
const only = values.only;
const variants = VARIANTS.filter((v) => only === undefined || v.name.includes(only));
const JOB_PAGES = [4096, 8192, 16384];

// Records per variant and round.
const RECORDS = 20_000;
const JOBS = 2000;
const JOB_STEPS = 1000;

function open(file: string, page: number): Database.Database {
  const db = new Database(file);
  db.pragma(`page_size = ${page}`);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}

function cpuMicros(run: () => void): number {
  const before = process.cpuUsage();
  run();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

function logRecordMicros(db: Database.Database, variant: Variant): number {
  const { form, rows = 250, transactionRows = 500, rowsBefore = 0 } = variant;
  db.exec(TABLE);
  const { inputs, outputs } = FORMS[form];
  const insert = db.prepare(
    `INSERT INTO inference_log (deployment, request_id, model, version, at, latency_ms, inputs, outputs)
     VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
     ON CONFLICT (deployment, request_id) DO NOTHING`,
  );
  const newId = variant.ids === 'uuidv7' ? createTimeOrderedIds() : () => randomBytes(16).toString('hex');
  let at = Date.now();
  const fill = (): unknown[][] => {
    const statements: unknown[][] = [];
    for (let s = 0; s < transactionRows / rows; s++) {
      const p: unknown[] = [];
      for (let i = 0; i < rows; i++) p.push('mlp', newId(), 'mlp', '1', at++, 0.5, inputs, outputs);
      statements.push(p);
    }
    return statements;
  };
  const commit = (statements: readonly unknown[][]): void => {
    db.exec('BEGIN IMMEDIATE');
    for (const p of statements) insert.run(p);
    db.exec('COMMIT');
  };
  for (let t = 0; t < rowsBefore / transactionRows; t++) commit(fill());
  db.pragma('wal_checkpoint(TRUNCATE)');
  let micros = 0;
  for (let t = 0; t < RECORDS / transactionRows; t++) {
    const statements = fill();
    micros += cpuMicros(() => commit(statements));
  }
  return micros / RECORDS;
}

async function jobStepCost(db: Database.Database, wal: string): Promise<{ micros: number; walBytes: number }> {
  for (const m of await loadMigrations()) if (m.engine !== 'postgres') db.exec(m.sql);
  const now = Date.now();
  const add = db.prepare(
    `INSERT INTO jobs (id, queue, seq, kind, state, urgency, attempts_made, max_attempts, backoff, run_at, created_by, created_at)
     VALUES (?, 'q', ?, 'infer-async', 'waiting', 0, 0, 3, '{}', ?, 'probe', ?)`,
  );
  const ids = Array.from({ length: JOBS }, () => randomUUID());
  db.exec('BEGIN');
  ids.forEach((id, seq) => add.run([id, seq, now, now]));
  db.exec('COMMIT');
  db.pragma('wal_checkpoint(TRUNCATE)');
  const claim = db.prepare(
    "UPDATE jobs SET state = 'active', attempts_made = attempts_made + 1, worker_id = 'w', lock_token = ?, lock_expires_at = ?, started_at = ? WHERE id = ?",
  );
  const event = db.prepare("INSERT INTO job_events (seq, queue, origin, event, created_at) VALUES (?, 'q', 'o', ?, ?)");
  const finish = db.prepare(
    "UPDATE jobs SET state = 'completed', result = ?, finished_at = ?, lock_token = NULL WHERE id = ?",
  );
  const step = (i: number): void => {
    const id = ids[i % JOBS] as string;
    db.exec('BEGIN IMMEDIATE');
    claim.run([randomUUID(), now + 30_000, now, id]);
    event.run([2 * i, `{"id":"${id}","state":"active"}`, now]);
    db.exec('COMMIT');
    db.exec('BEGIN IMMEDIATE');
    finish.run(['{"ok":true}', now, id]);
    event.run([2 * i + 1, `{"id":"${id}","state":"completed"}`, now]);
    db.exec('COMMIT');
  };
  // CPU with checkpoints on (as served), then WAL bytes with them off.
  const micros = cpuMicros(() => {
    for (let i = 0; i < JOB_STEPS; i++) step(i);
  });
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma('wal_autocheckpoint = 0');
  for (let i = JOB_STEPS; i < JOB_STEPS + 200; i++) step(i);
  const walBytes = statSync(wal).size / 400;
  return { micros: micros / (2 * JOB_STEPS), walBytes };
}

function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? NaN;
}

const dir = mkdtempSync(join(tmpdir(), 'stratum-log-insert-'));
try {
  const load = (): string =>
    loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
  console.log(`load average at start: ${load()}`);
  const log = new Map<string, number[]>();
  const jobs = new Map<number, { micros: number[]; walBytes: number[] }>();
  for (let round = 0; round < rounds; round++) {
    for (const [v, variant] of variants.entries()) {
      const db = open(join(dir, `${round}-log-${v}.db`), variant.page);
      for (const pragma of variant.pragmas ?? []) db.pragma(pragma);
      log.set(variant.name, [...(log.get(variant.name) ?? []), logRecordMicros(db, variant)]);
      db.close();
    }
    for (const page of only === undefined ? JOB_PAGES : []) {
      const file = join(dir, `${round}-jobs-${page}.db`);
      const db = open(file, page);
      const { micros, walBytes } = await jobStepCost(db, `${file}-wal`);
      db.close();
      const row = jobs.get(page) ?? { micros: [], walBytes: [] };
      row.micros.push(micros);
      row.walBytes.push(walBytes);
      jobs.set(page, row);
    }
  }
  console.log(
    `\ninference log record: stored bytes base64 JSON ${FORMS.base64.inputs.length + FORMS.base64.outputs.length}, binary ${FORMS.binary.inputs.length + FORMS.binary.outputs.length}`,
  );
  console.log('| variant | CPU µs per record (median) | min–max |');
  console.log('| --- | ---: | --- |');
  for (const [name, xs] of log) {
    const sorted = [...xs].sort((a, b) => a - b);
    console.log(`| ${name} | ${median(xs).toFixed(1)} | ${sorted[0]?.toFixed(1)}–${sorted.at(-1)?.toFixed(1)} |`);
  }
  console.log('\n| job queue, page size | CPU µs per small transaction (median) | WAL bytes per transaction |');
  console.log('| --- | ---: | ---: |');
  for (const [page, { micros, walBytes }] of jobs) {
    console.log(`| ${page / 1024} KiB | ${median(micros).toFixed(1)} | ${Math.round(median(walBytes))} |`);
  }
  console.log(`load average at end: ${load()}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
