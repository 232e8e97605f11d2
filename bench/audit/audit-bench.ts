/**
 * `npm run bench -- --only audit`: what the audit log costs. On each engine, an audit append
 * against the reference measured in the same run — a metadata write of the same size class (a
 * model's description changed: one short transaction through the change-feed lock) — both
 * sequential, interleaved in rounds so load on a shared machine hits both alike; then concurrent
 * appends (PostgreSQL: from three stores, as three replicas would) and the verifier's speed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { verifyAuditChain } from '../../src/audit/verify-chain.ts';
import type { MetadataStore } from '../../src/store/metadata-store.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import type { Progress } from '../progress.ts';

const PG_BASE = 'postgres://postgres@127.0.0.1:5432/test';

/** One engine's figures. */
export interface AuditBenchRow {
  readonly engine: 'sqlite' | 'postgres';
  readonly operations: number;
  /** Reference: a model update, per second, sequential. */
  readonly storeWritesPerSecond: number;
  readonly appendsPerSecond: number;
  /** Appends per second with `concurrency` in flight (from `stores` stores). */
  readonly concurrentAppendsPerSecond: number;
  readonly concurrency: number;
  readonly stores: number;
  /** Records verified per second, over the whole log. */
  readonly verifiedPerSecond: number;
  readonly verifiedRecords: number;
  readonly chainOk: boolean;
}

/** Runs the comparison on SQLite and PostgreSQL. */
export async function runAuditBench(options: { progress: Progress; quick: boolean }): Promise<AuditBenchRow[]> {
  const operations = options.quick ? 200 : 1000;
  const dir = await mkdtemp(join(tmpdir(), 'stratum-audit-bench-'));
  const schema = `stratum_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  try {
    options.progress.log('audit: sqlite');
    const sqlite = await benchEngine({
      url: `sqlite:${join(dir, 'bench.db')}`,
      engine: 'sqlite',
      operations,
      stores: 1,
    });
    options.progress.log('audit: postgres');
    const postgres = await benchEngine({
      url: `${PG_BASE}?schema=${schema}`,
      engine: 'postgres',
      operations,
      stores: 3,
    });
    return [sqlite, postgres];
  } finally {
    await rm(dir, { recursive: true, force: true });
    const client = new pg.Client({ connectionString: PG_BASE });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => client.end());
  }
}

async function benchEngine(options: {
  url: string;
  engine: 'sqlite' | 'postgres';
  operations: number;
  stores: number;
}): Promise<AuditBenchRow> {
  const stores: MetadataStore[] = [];
  try {
    for (let i = 0; i < options.stores; i++) stores.push(await openMetadataStore({ url: options.url, pollMs: 60_000 }));
    const [store] = stores as [MetadataStore];
    await store.createModel({ name: 'bench', by: 'bench' });
    const entry = (n: number) => ({
      actor: 'key:bench',
      action: 'model.update',
      resource: 'models/bench',
      outcome: 'ok' as const,
      source: '127.0.0.1',
      requestId: `req-${n}`,
      before: { name: 'bench', description: `d${n - 1}`, tags: ['a', 'b'] },
      after: { name: 'bench', description: `d${n}`, tags: ['a', 'b'] },
    });
    let writeMs = 0;
    let appendMs = 0;
    const rounds = 10;
    const perRound = Math.ceil(options.operations / rounds);
    let n = 0;
    for (let round = 0; round < rounds; round++) {
      let started = performance.now();
      for (let i = 0; i < perRound; i++) await store.updateModel('bench', { description: `d${n + i}` });
      writeMs += performance.now() - started;
      started = performance.now();
      for (let i = 0; i < perRound; i++) await store.audit.append(entry(n + i));
      appendMs += performance.now() - started;
      n += perRound;
    }
    const concurrency = 8;
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async (_, lane) => {
        const own = stores[lane % stores.length] as MetadataStore;
        while (next < options.operations) {
          next += 1;
          await own.audit.append(entry(n + next));
        }
      }),
    );
    const concurrentMs = performance.now() - started;
    const verifyStarted = performance.now();
    const verdict = await verifyAuditChain({ source: store.audit });
    const verifyMs = performance.now() - verifyStarted;
    const total = rounds * perRound;
    return {
      engine: options.engine,
      operations: total,
      storeWritesPerSecond: (total / writeMs) * 1000,
      appendsPerSecond: (total / appendMs) * 1000,
      concurrentAppendsPerSecond: (options.operations / concurrentMs) * 1000,
      concurrency,
      stores: options.stores,
      verifiedPerSecond: (verdict.checked / verifyMs) * 1000,
      verifiedRecords: verdict.checked,
      chainOk: verdict.ok,
    };
  } finally {
    for (const store of stores) await store.close();
  }
}

/** The report's table. */
export function renderAuditBench(rows: readonly AuditBenchRow[]): string {
  const lines = [
    '| engine | ops | model update /s (reference) | audit append /s | append ÷ reference | concurrent appends /s | verify records/s | chain |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.engine} | ${r.operations} | ${r.storeWritesPerSecond.toFixed(0)} | ${r.appendsPerSecond.toFixed(0)} | ${(r.appendsPerSecond / r.storeWritesPerSecond).toFixed(2)}× | ${r.concurrentAppendsPerSecond.toFixed(0)} (${r.concurrency} in flight, ${r.stores} store${r.stores === 1 ? '' : 's'}) | ${r.verifiedPerSecond.toFixed(0)} (${r.verifiedRecords}) | ${r.chainOk ? 'ok' : 'BROKEN'} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
