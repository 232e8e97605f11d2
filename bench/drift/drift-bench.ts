/**
 * `npm run bench -- --only drift`: drift of a 1,000,000-row window × 20 features (12 numeric, 8
 * categorical) against a 100,000-row reference sample, Stratum's `computeDrift` next to SciPy's
 * implementations of the same tests on the same data in the same run (bench/drift/peers.py, with a
 * Python that has scipy: /tmp/venv-drift, made from the local package indexes, or Debian's).
 * Two test sets: Evidently's defaults for a large reference (normed Wasserstein, Jensen–Shannon)
 * and the exact ones (KS, chi-square). Both sides start from columns in memory and count the
 * categorical codes inside the timed region; Stratum's time includes sorting the window (SciPy's
 * functions sort inside too). Also timed: turning the window's row objects into columns, and a
 * comparison through the drift thread (what the server does for a large window).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeDrift } from '../../src/drift/compute-drift.ts';
import { parseDriftConfig, type DriftConfigInput } from '../../src/drift/drift-config.ts';
import type { CurrentColumn, NamedReference } from '../../src/drift/drift-columns.ts';
import { createDriftRunner } from '../../src/drift/drift-runner.ts';
import { windowColumns } from '../../src/drift/window-columns.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import type { Progress } from '../progress.ts';

const PEERS = new URL('./peers.py', import.meta.url).pathname;
/** Interpreters tried in order: the first that imports scipy runs the peers. */
const PYTHONS = ['/tmp/venv-drift/bin/python', '/usr/bin/python3'];
const NUMERIC = 12;
const CATEGORICAL = 8;
const CATEGORIES = 12;

/** One test set's figures. */
export interface DriftBenchRow {
  readonly tests: 'default' | 'exact';
  readonly stratumMs: number;
  readonly scipyMs: number | undefined;
}

/** What the bench measured. */
export interface DriftBenchResult {
  readonly windowRows: number;
  readonly referenceRows: number;
  readonly rows: DriftBenchRow[];
  /** Row objects → columns (windowColumns), ms. */
  readonly columnsMs: number;
  /** The default tests through the drift thread, ms (transfer included). */
  readonly threadMs: number;
  readonly python: string | undefined;
  readonly scipy: string | undefined;
}

interface Data {
  readonly numeric: { ref: Float64Array; cur: Float64Array }[];
  readonly categorical: { ref: Int32Array; cur: Int32Array }[];
}

function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

function makeData(referenceRows: number, windowRows: number): Data {
  const random = mulberry32(12);
  const numeric = Array.from({ length: NUMERIC }, (_, c) => {
    const shift = c % 3 === 0 ? 0.2 : 0;
    const ref = Float64Array.from({ length: referenceRows }, () => normal(random) * (1 + c) + c);
    const cur = Float64Array.from({ length: windowRows }, () => (normal(random) + shift) * (1 + c) + c);
    return { ref, cur };
  });
  const categorical = Array.from({ length: CATEGORICAL }, (_, c) => {
    const skew = c % 2 === 0 ? 1 : 1.3;
    const pick = (power: number) => Math.min(CATEGORIES - 1, Math.floor(random() ** power * CATEGORIES));
    return {
      ref: Int32Array.from({ length: referenceRows }, () => pick(1)),
      cur: Int32Array.from({ length: windowRows }, () => pick(skew)),
    };
  });
  return { numeric, categorical };
}

const NAMES = Array.from({ length: CATEGORIES }, (_, i) => `c${i}`);

function countCodes(codes: Int32Array): Map<string, number> {
  const counts = new Int32Array(CATEGORIES);
  for (const code of codes) counts[code] = (counts[code] as number) + 1;
  return new Map(NAMES.map((name, i) => [name, counts[i] as number]));
}

function references(data: Data): NamedReference[] {
  return [
    ...data.numeric.map((c, i) => ({
      name: `n${i}`,
      column: { kind: 'numeric' as const, values: Float64Array.from(c.ref).sort() },
    })),
    ...data.categorical.map((c, i) => ({
      name: `k${i}`,
      column: { kind: 'categorical' as const, counts: countCodes(c.ref), rest: 0 },
    })),
  ];
}

/** The window's columns, copied (computeDrift sorts them in place), categorical codes counted. */
function currentColumns(data: Data): Map<string, CurrentColumn> {
  const columns = new Map<string, CurrentColumn>();
  data.numeric.forEach((c, i) => columns.set(`n${i}`, { kind: 'numeric', values: Float64Array.from(c.cur) }));
  data.categorical.forEach((c, i) => columns.set(`k${i}`, { kind: 'categorical', counts: countCodes(c.cur) }));
  return columns;
}

function configFor(tests: 'default' | 'exact') {
  const input: DriftConfigInput =
    tests === 'default'
      ? {}
      : {
          columns: Object.fromEntries([
            ...Array.from({ length: NUMERIC }, (_, i) => [`n${i}`, { test: 'ks' as const }]),
            ...Array.from({ length: CATEGORICAL }, (_, i) => [`k${i}`, { test: 'chisquare' as const }]),
          ]),
        };
  return parseDriftConfig(input);
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

async function findPython(): Promise<string | undefined> {
  for (const python of PYTHONS) {
    if (!existsSync(python)) continue;
    const ok = await new Promise<boolean>((resolve) => {
      const child = spawn(python, ['-c', 'import scipy, numpy'], { stdio: 'ignore' });
      child.on('exit', (code) => resolve(code === 0));
      child.on('error', () => resolve(false));
    });
    if (ok) return python;
  }
  return undefined;
}

async function runPeer(python: string, job: unknown): Promise<{ seconds: number[]; scipy: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [PEERS, JSON.stringify(job)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`peers.py exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as { seconds: number[]; scipy: string });
    });
  });
}

/** Runs the comparison (quick: a 100,000-row window and a 20,000-row reference). */
export async function runDriftBench(options: { progress: Progress; quick: boolean }): Promise<DriftBenchResult> {
  const windowRows = options.quick ? 100_000 : 1_000_000;
  const referenceRows = options.quick ? 20_000 : 100_000;
  const rounds = options.quick ? 2 : 3;
  options.progress.log(
    `drift: generating ${windowRows} × ${NUMERIC + CATEGORICAL} window, ${referenceRows}-row reference`,
  );
  const data = makeData(referenceRows, windowRows);
  const refs = references(data);
  const python = await findPython();
  const dir = await mkdtemp(join(tmpdir(), 'stratum-drift-bench-'));
  try {
    const job = {
      rounds,
      numeric: await Promise.all(
        data.numeric.map(async (c, i) => {
          const files = { reference: join(dir, `n${i}.ref`), current: join(dir, `n${i}.cur`) };
          await writeFile(files.reference, c.ref);
          await writeFile(files.current, c.cur);
          return files;
        }),
      ),
      categorical: await Promise.all(
        data.categorical.map(async (c, i) => {
          const files = { reference: join(dir, `k${i}.ref`), current: join(dir, `k${i}.cur`), categories: CATEGORIES };
          await writeFile(files.reference, c.ref);
          await writeFile(files.current, c.cur);
          return files;
        }),
      ),
    };
    const rows: DriftBenchRow[] = [];
    let scipy: string | undefined;
    for (const tests of ['default', 'exact'] as const) {
      const config = configFor(tests);
      const times: number[] = [];
      for (let round = 0; round < rounds; round++) {
        // The copy is outside the timed region; counting the codes is inside (SciPy's side bincounts).
        const numericCopies = data.numeric.map((c) => Float64Array.from(c.cur));
        const started = performance.now();
        const current = new Map<string, CurrentColumn>();
        numericCopies.forEach((values, i) => current.set(`n${i}`, { kind: 'numeric', values }));
        data.categorical.forEach((c, i) => current.set(`k${i}`, { kind: 'categorical', counts: countCodes(c.cur) }));
        computeDrift({ references: refs, current, config });
        times.push(performance.now() - started);
      }
      options.progress.log(`drift: stratum ${tests} ${median(times).toFixed(0)} ms`);
      let scipyMs: number | undefined;
      if (python !== undefined) {
        const peer = await runPeer(python, { ...job, tests });
        scipyMs = median(peer.seconds.map((s) => s * 1000));
        scipy = peer.scipy;
        options.progress.log(`drift: scipy ${tests} ${scipyMs.toFixed(0)} ms`);
      }
      rows.push({ tests, stratumMs: median(times), scipyMs });
    }

    // Row objects → columns: what the server does with the window a source returns.
    const objects = Array.from({ length: windowRows }, (_, r) => {
      const row: Record<string, unknown> = {};
      data.numeric.forEach((c, i) => (row[`n${i}`] = c.cur[r]));
      data.categorical.forEach((c, i) => (row[`k${i}`] = NAMES[c.cur[r] as number]));
      return row;
    });
    const columnsStarted = performance.now();
    await windowColumns(objects, refs);
    const columnsMs = performance.now() - columnsStarted;
    options.progress.log(`drift: rows → columns ${columnsMs.toFixed(0)} ms`);

    const runner = createDriftRunner({ threadValues: 1 });
    let threadMs: number;
    try {
      await runner.run({ references: refs.slice(0, 1), current: currentColumns(data), config: configFor('default') });
      const started = performance.now();
      await runner.run({ references: refs, current: currentColumns(data), config: configFor('default') });
      threadMs = performance.now() - started;
    } finally {
      await runner.close();
    }
    options.progress.log(`drift: through the thread ${threadMs.toFixed(0)} ms`);
    return { windowRows, referenceRows, rows, columnsMs, threadMs, python, scipy };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The report's section. */
export function renderDriftBench(result: DriftBenchResult): string {
  const lines = [
    `Window ${result.windowRows.toLocaleString('en')} rows × ${NUMERIC} numeric + ${CATEGORICAL} categorical columns, reference sample ${result.referenceRows.toLocaleString('en')} rows; median of rounds.`,
    '',
    '| tests | Stratum computeDrift (ms) | SciPy (ms) | Stratum / SciPy time |',
    '|---|---:|---:|---:|',
    ...result.rows.map((r) => {
      const name = r.tests === 'default' ? 'wasserstein (normed) + jensenshannon' : 'ks + chisquare';
      const scipy = r.scipyMs === undefined ? 'missing' : r.scipyMs.toFixed(0);
      const ratio = r.scipyMs === undefined ? '–' : `${(r.stratumMs / r.scipyMs).toFixed(2)}×`;
      return `| ${name} | ${r.stratumMs.toFixed(0)} | ${scipy} | ${ratio} |`;
    }),
    '',
    `Row objects → columns (windowColumns, on the event loop in 10,000-row slices): ${result.columnsMs.toFixed(0)} ms.`,
    `Default tests through the drift thread (columns moved, not copied): ${result.threadMs.toFixed(0)} ms.`,
    result.python === undefined
      ? 'SciPy peer missing: python3 -m venv /tmp/venv-drift && /tmp/venv-drift/bin/pip install --index-url file:///opt/pypi/simple scipy numpy'
      : `SciPy ${result.scipy ?? '?'} under ${result.python}.`,
  ];
  return lines.join('\n');
}
