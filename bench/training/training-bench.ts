/**
 * The training benchmark: Stratum's trainers and CSV ingest side by side with peers from Debian's
 * packages (XGBoost `hist`, scikit-learn, pandas) on the same data, the same split and the same
 * hyper-parameters, in one run. Node prepares every matrix once and writes it as float32 files the
 * peer reads; both sides time only the work itself (fit, or read-to-matrix), and one AUC function
 * (Stratum's) scores both sides' predictions on the same held-out rows.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { sqlDataset } from '../../src/data/duckdb-source.ts';
import { fitFeatures } from '../../src/features/fit.ts';
import type { FeatureSpecInput } from '../../src/features/feature-spec.ts';
import { transformBatch } from '../../src/features/transform.ts';
import { loadSpamCorpus } from '../../src/examples/spam-corpus.ts';
import { mulberry32 } from '../../src/random/mulberry32.ts';
import { predictGbdt } from '../../src/train/gbdt/predict.ts';
import { trainGbdt, type GbdtParams } from '../../src/train/gbdt/train-gbdt.ts';
import { accuracy, rocAuc } from '../../src/train/metrics/classification-metrics.ts';
import type { Progress } from '../progress.ts';
import { readNumericCsvMatrix } from './ingest.ts';

/** Debian's interpreter, which sees python3-sklearn / -xgboost / -pandas (the first `python3` on PATH may not). */
const PYTHON = '/usr/bin/python3';
const PEERS = fileURLToPath(new URL('./peers.py', import.meta.url));
/** Stratum's side of the spam comparison, in a process of its own like the peer's. */
const LINEAR_FIT = fileURLToPath(new URL('./linear-fit.ts', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** Fits per side in the spam comparison (each in a fresh process, the sides alternating); the best counts. */
const LOGISTIC_ROUNDS = 3;

/** One comparison. */
export interface TrainingBenchRow {
  readonly task: string;
  readonly what: string;
  readonly stratum: number;
  readonly peer: number | undefined;
  readonly peerName: string;
  readonly unit: string;
  /** How the two compare, e.g. `time 1.21×` or `Δ AUC −0.0011`. */
  readonly comparison: string;
  readonly target: string;
  readonly met: boolean | undefined;
}

/** What the training benchmark measured. */
export interface TrainingBenchResult {
  readonly rows: TrainingBenchRow[];
  readonly notes: string[];
}

/** Options of {@link runTrainingBench}. */
export interface TrainingBenchOptions {
  readonly progress: Progress;
  readonly workDir: string;
  /** Smaller data (200k synthetic rows, 500k flights, 200k CSV rows). */
  readonly quick: boolean;
}

/** Row-major features with their labels. */
export interface Matrix {
  readonly features: Float32Array;
  readonly labels: Float32Array;
  readonly rows: number;
}

/** A training task: features, labels and a held-out split. */
export interface Task {
  readonly numFeatures: number;
  readonly train: Matrix;
  readonly valid: Matrix;
}

/** Runs a job process that prints one JSON line last; rejects with its stderr's tail when it fails. */
async function runJsonProcess(args: {
  command: string;
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  name: string;
}): Promise<Record<string, unknown>> {
  const child = spawn(args.command, args.argv, { stdio: ['ignore', 'pipe', 'pipe'], env: args.env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`${args.name} failed (${code}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(stdout.trim().split('\n').at(-1) as string) as Record<string, unknown>;
}

async function runPeer(job: Record<string, unknown>): Promise<Record<string, unknown>> {
  const threads = String(job['threads'] ?? 1);
  return runJsonProcess({
    command: PYTHON,
    argv: [PEERS, JSON.stringify(job)],
    env: { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads },
    name: `peer ${String(job['task'])}`,
  });
}

/**
 * Whether `dist/` was built after the last change to any source file, so that the spam fit can run
 * the compiled package as users run it (else it runs the sources through tsx).
 */
async function freshBuild(): Promise<boolean> {
  const built = await stat(join(REPO_ROOT, 'dist/.tsbuildinfo')).catch(() => undefined);
  if (built === undefined || !existsSync(join(REPO_ROOT, 'dist/train/linear/train-linear.js'))) return false;
  const sources = await readdir(join(REPO_ROOT, 'src'), { recursive: true });
  for (const file of sources) {
    if (!file.endsWith('.ts')) continue;
    if ((await stat(join(REPO_ROOT, 'src', file))).mtimeMs > built.mtimeMs) return false;
  }
  return true;
}

/** Which peers this machine has; a missing one is skipped with a message. */
async function peerModules(): Promise<Set<string>> {
  if (!existsSync(PYTHON)) return new Set();
  const found = new Set<string>();
  for (const module of ['xgboost', 'sklearn', 'pandas']) {
    const child = spawn(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
    if ((await new Promise((resolve) => child.on('close', resolve))) === 0) found.add(module);
  }
  return found;
}

interface TaskFiles {
  readonly trainFeatures: string;
  readonly trainLabels: string;
  readonly validFeatures: string;
  readonly predictions: string;
}

async function writeTask(dir: string, task: Task): Promise<TaskFiles> {
  await mkdir(dir, { recursive: true });
  const files = {
    trainFeatures: join(dir, 'train-x.f32'),
    trainLabels: join(dir, 'train-y.f32'),
    validFeatures: join(dir, 'valid-x.f32'),
    predictions: join(dir, 'peer-predictions.f32'),
  };
  await writeFile(files.trainFeatures, task.train.features);
  await writeFile(files.trainLabels, task.train.labels);
  await writeFile(files.validFeatures, task.valid.features);
  return files;
}

async function readFloats(path: string): Promise<Float32Array> {
  const bytes = await readFile(path);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

function positiveColumn(outputs: Float32Array): Float32Array {
  const out = new Float32Array(outputs.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = outputs[2 * i + 1] as number;
  return out;
}

function accuracyOf(scores: Float32Array, labels: Float32Array): number {
  return accuracy(
    labels,
    Array.from(scores, (p) => (p > 0.5 ? 1 : 0)),
  );
}

/** Splits rows 80/20 with a seeded generator. */
function split(args: { features: Float32Array; labels: Float32Array; numFeatures: number; seed: number }): Task {
  const { features, labels, numFeatures } = args;
  const random = mulberry32(args.seed);
  const rows = labels.length;
  const held = new Uint8Array(rows);
  let validRows = 0;
  for (let i = 0; i < rows; i++) {
    held[i] = random() < 0.2 ? 1 : 0;
    validRows += held[i] as number;
  }
  const make = (want: number, count: number): Matrix => {
    const x = new Float32Array(count * numFeatures);
    const y = new Float32Array(count);
    let r = 0;
    for (let i = 0; i < rows; i++) {
      if (held[i] !== want) continue;
      x.set(features.subarray(i * numFeatures, (i + 1) * numFeatures), r * numFeatures);
      y[r++] = labels[i] as number;
    }
    return { features: x, labels: y, rows: count };
  };
  return { numFeatures, train: make(0, rows - validRows), valid: make(1, validRows) };
}

/** A synthetic binary task with interactions and noise, so trees have something to find. */
function syntheticTask(rows: number, numFeatures: number): Task {
  const { features, labels } = syntheticRows(rows, numFeatures);
  return split({ features, labels, numFeatures, seed: 7 });
}

/** The synthetic task's rows (row-major features and 0/1 labels), the same for a given size. */
export function syntheticRows(rows: number, numFeatures: number): { features: Float32Array; labels: Float32Array } {
  const random = mulberry32(42);
  const normal = (): number => Math.sqrt(-2 * Math.log(Math.max(random(), 1e-12))) * Math.cos(2 * Math.PI * random());
  const features = new Float32Array(rows * numFeatures);
  const labels = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const x = features.subarray(r * numFeatures, (r + 1) * numFeatures);
    for (let f = 0; f < numFeatures; f++) x[f] = normal();
    const z =
      (x[0] as number) +
      0.8 * (x[1] as number) * (x[2] as number) -
      0.6 * Math.abs(x[3] as number) +
      0.5 * Math.sin(2 * (x[4] as number)) +
      0.4 * ((x[5] as number) > 0.5 ? 1 : -1) * (x[6] as number) +
      0.7 * normal();
    labels[r] = z > 0 ? 1 : 0;
  }
  return { features, labels };
}

/** The flight-delay task of the bundled example: date parts, distance, airports → delay over 15 minutes. */
/** The flights task (its first `limit` rows when given): date parts, distance and one-hot airports. */
export async function flightsTask(limit: number | undefined, progress: Progress): Promise<Task> {
  const parquet = fileURLToPath(new URL('../../node_modules/vega-datasets/data/flights-3m.parquet', import.meta.url));
  const query = `SELECT date, distance, origin, destination, CASE WHEN delay > 15 THEN 1 ELSE 0 END AS late FROM read_parquet('${parquet}')${limit === undefined ? '' : ` LIMIT ${limit}`}`;
  const rows: Record<string, unknown>[] = [];
  const labels: number[] = [];
  for await (const row of sqlDataset(query)) {
    labels.push(row['late'] as number);
    rows.push(row);
  }
  progress.log(`training: flights read, ${rows.length.toLocaleString('en-US')} rows`);
  const spec: FeatureSpecInput = {
    transforms: [
      { column: 'date', transform: 'dateparts', parts: ['month', 'dayofweek', 'hour', 'dayofyear'] },
      { column: 'distance', transform: 'standardize' },
      { column: 'origin', transform: 'onehot', topK: 30 },
      { column: 'destination', transform: 'onehot', topK: 30 },
    ],
  } as FeatureSpecInput;
  const fitted = await fitFeatures(spec, rows);
  const batch = transformBatch(fitted, rows);
  return split({ features: batch.data, labels: Float32Array.from(labels), numFeatures: batch.dims[1], seed: 7 });
}

/** The spam task of the bundled example: hashed word and word-pair TF-IDF of the raw e-mail. */
export async function spamTask(): Promise<Task> {
  const emails = loadSpamCorpus();
  const fitted = await fitFeatures(
    {
      transforms: [
        { column: 'text', transform: 'text', ngramRange: [1, 2], buckets: 4096, weighting: 'tfidf', norm: 'l2' },
      ],
    },
    emails,
  );
  const batch = transformBatch(fitted, emails);
  const labels = Float32Array.from(emails, (e) => (e.label === 'spam' ? 1 : 0));
  return split({ features: batch.data, labels, numFeatures: batch.dims[1], seed: 7 });
}

const GBDT_PARAMS = {
  numTrees: 100,
  maxDepth: 6,
  learningRate: 0.1,
  lambda: 1,
  minChildWeight: 1,
  maxBins: 255,
} as const;

/**
 * Times `fn`. The peer starts in a fresh process each time; this process has just dropped the
 * previous task's matrices, so collect them first rather than time their collection (`npm run
 * bench` runs node with --expose-gc).
 */
function timeIt<T>(fn: () => T): { value: T; seconds: number } {
  (globalThis as { gc?: () => void }).gc?.();
  const started = performance.now();
  const value = fn();
  return { value, seconds: (performance.now() - started) / 1000 };
}

async function gbdtComparison(args: {
  name: string;
  task: Task;
  dir: string;
  peers: Set<string>;
  progress: Progress;
  rows: TrainingBenchRow[];
  scaling: boolean;
  /** Issue 14's target: Stratum's time at most this many times XGBoost's. */
  maxRatio: number;
}): Promise<void> {
  const { name, task, dir, peers, progress, rows, maxRatio } = args;
  const train = (workers: number) =>
    timeIt(() =>
      trainGbdt({
        features: task.train.features,
        numFeatures: task.numFeatures,
        labels: task.train.labels,
        objective: 'binary',
        params: { ...GBDT_PARAMS, seed: 0, workers } as GbdtParams,
      }),
    );
  const size = `${task.train.rows.toLocaleString('en-US')}×${task.numFeatures}`;
  progress.log(`training: ${name} GBDT, 2 workers, ${size}`);
  const ours = train(2);
  const ourScores = positiveColumn(predictGbdt(ours.value, task.valid.features).outputs);
  const ourAuc = rocAuc(ourScores, task.valid.labels);
  if (args.scaling) {
    progress.log(`training: ${name} GBDT, 1 worker`);
    const single = train(1);
    rows.push({
      task: `${name} GBDT (${size}, 100 trees, depth 6)`,
      what: 'data-parallel speed-up, 1 → 2 workers',
      stratum: single.seconds / ours.seconds,
      peer: undefined,
      peerName: '',
      unit: '×',
      comparison: `${single.seconds.toFixed(2)} s → ${ours.seconds.toFixed(2)} s`,
      target: '≥ 1.8×',
      met: single.seconds / ours.seconds >= 1.8,
    });
  }
  if (!peers.has('xgboost')) {
    rows.push(
      row({
        task: name,
        what: 'GBDT training time',
        stratum: ours.seconds,
        unit: 's',
        peerName: 'XGBoost (missing: apt-get install python3-xgboost)',
      }),
    );
    return;
  }
  const files = await writeTask(join(dir, name), task);
  progress.log(`training: ${name} XGBoost hist, 2 threads`);
  const peer = await runPeer({
    task: 'xgboost',
    ...files,
    numFeatures: task.numFeatures,
    threads: 2,
    params: GBDT_PARAMS,
  });
  const peerScores = await readFloats(files.predictions);
  const peerAuc = rocAuc(peerScores, task.valid.labels);
  const peerSeconds = peer['seconds'] as number;
  const peerName = `XGBoost ${String(peer['version'])} hist, 2 threads`;
  rows.push({
    task: `${name} (${size})`,
    what: 'GBDT held-out AUC',
    stratum: ourAuc,
    peer: peerAuc,
    peerName,
    unit: 'AUC',
    comparison: `Δ ${(ourAuc - peerAuc).toFixed(4)}`,
    target: '|Δ| ≤ 0.003',
    met: Math.abs(ourAuc - peerAuc) <= 0.003,
  });
  rows.push({
    task: `${name} (${size})`,
    what: 'GBDT training time (2 threads each)',
    stratum: ours.seconds,
    peer: peerSeconds,
    peerName,
    unit: 's',
    comparison: `${(ours.seconds / peerSeconds).toFixed(2)}× XGBoost's`,
    target: `≤ ${maxRatio}×`,
    met: ours.seconds / peerSeconds <= maxRatio,
  });
}

function row(partial: {
  task: string;
  what: string;
  stratum: number;
  unit: string;
  peerName: string;
}): TrainingBenchRow {
  return { ...partial, peer: undefined, comparison: 'peer skipped', target: '', met: undefined };
}

interface TimedFit {
  readonly seconds: number;
  readonly cpuSeconds: number;
  readonly iterations: number;
}

/** The fit with the least wall time of several. */
function bestOf(fits: readonly TimedFit[]): TimedFit {
  return fits.reduce((best, fit) => (fit.seconds < best.seconds ? fit : best));
}

function timedFit(result: Record<string, unknown>): TimedFit {
  return {
    seconds: result['seconds'] as number,
    cpuSeconds: result['cpuSeconds'] as number,
    iterations: result['iterations'] as number,
  };
}

/**
 * Spam logistic regression against scikit-learn. Both sides fit in fresh processes from the same
 * float32 files, each timing its fit call alone (modules and data loaded before, predictions after),
 * on the same threads; Stratum runs compiled when `dist/` is fresh. Each side fits
 * {@link LOGISTIC_ROUNDS} times, alternating, and the best wall time counts, as the machine may be
 * shared.
 */
async function logisticComparison(args: {
  task: Task;
  dir: string;
  peers: Set<string>;
  progress: Progress;
  rows: TrainingBenchRow[];
  notes: string[];
}): Promise<void> {
  const { task, dir, peers, progress, rows } = args;
  const params = { optimizer: 'lbfgs' as const, learningRate: 1, l2: 1e-4, epochs: 200, batchSize: 256, seed: 0 };
  const size = `${task.train.rows.toLocaleString('en-US')}×${task.numFeatures}`;
  // The same threads on both sides: scikit-learn's lbfgs runs its products on 2 OpenBLAS threads,
  // Stratum its objective on the calling thread plus one worker.
  const threads = 2;
  const files = await writeTask(join(dir, 'spam'), task);
  const build = (await freshBuild()) ? 'dist' : 'src';
  if (build === 'src') {
    args.notes.push(
      'spam: dist/ is missing or older than src/, so Stratum fitted from the sources through tsx (its worker registers tsx inside the timed fit); run `npm run build` first to time the compiled package',
    );
  }
  const stratumPredictions = join(dir, 'spam', 'stratum-predictions.f32');
  const fit = async (workers: number): Promise<TimedFit> =>
    timedFit(
      await runJsonProcess({
        command: process.execPath,
        argv: [
          '--expose-gc',
          '--import',
          'tsx',
          LINEAR_FIT,
          JSON.stringify({
            ...files,
            predictions: stratumPredictions,
            numFeatures: task.numFeatures,
            workers,
            build,
            params,
          }),
        ],
        env: process.env,
        name: 'Stratum spam fit',
      }),
    );
  const hasPeer = peers.has('sklearn');
  const ours: TimedFit[] = [];
  const single: TimedFit[] = [];
  const theirs: TimedFit[] = [];
  let peerVersion = '';
  for (let round = 1; round <= LOGISTIC_ROUNDS; round++) {
    progress.log(
      `training: spam logistic regression (L-BFGS), ${size}, round ${round}/${LOGISTIC_ROUNDS}: Stratum (${build}) ${threads} threads, 1 thread${hasPeer ? `, scikit-learn ${threads} threads` : ''}`,
    );
    ours.push(await fit(threads));
    single.push(await fit(1));
    if (!hasPeer) continue;
    const peer = await runPeer({ task: 'sklearn-logistic', ...files, numFeatures: task.numFeatures, threads, params });
    theirs.push(timedFit(peer));
    peerVersion = String(peer['version']);
  }
  // Every thread count gives the same model bit for bit: the last fit's predictions stand for all.
  const ourScores = await readFloats(stratumPredictions);
  const ourAuc = rocAuc(ourScores, task.valid.labels);
  const ourAccuracy = accuracyOf(ourScores, task.valid.labels);
  const best = bestOf(ours);
  const bestSingle = bestOf(single);
  if (!hasPeer) {
    rows.push(
      row({
        task: 'spam',
        what: 'logistic regression time',
        stratum: best.seconds,
        unit: 's',
        peerName: 'scikit-learn (missing: apt-get install python3-sklearn)',
      }),
    );
    return;
  }
  const peerScores = await readFloats(files.predictions);
  const peerAuc = rocAuc(peerScores, task.valid.labels);
  const peerAccuracy = accuracyOf(peerScores, task.valid.labels);
  const peerBest = bestOf(theirs);
  const peerName = `scikit-learn ${peerVersion} lbfgs, ${threads} OpenBLAS threads (${peerBest.iterations} iterations)`;
  const name = `spam (${size}, ${best.iterations} iterations, ${threads} threads, best of ${LOGISTIC_ROUNDS} fresh processes, Stratum ${build === 'dist' ? 'compiled' : 'via tsx'})`;
  rows.push({
    task: name,
    what: 'logistic held-out accuracy',
    stratum: ourAccuracy,
    peer: peerAccuracy,
    peerName,
    unit: '',
    comparison: `Δ ${(ourAccuracy - peerAccuracy).toFixed(4)}`,
    target: '|Δ| ≤ 0.005',
    met: Math.abs(ourAccuracy - peerAccuracy) <= 0.005,
  });
  rows.push({
    task: name,
    what: 'logistic held-out AUC',
    stratum: ourAuc,
    peer: peerAuc,
    peerName,
    unit: 'AUC',
    comparison: `Δ ${(ourAuc - peerAuc).toFixed(4)}`,
    target: '|Δ| ≤ 0.005',
    met: Math.abs(ourAuc - peerAuc) <= 0.005,
  });
  rows.push({
    task: name,
    what: `logistic training time (${threads} threads each)`,
    stratum: best.seconds,
    peer: peerBest.seconds,
    peerName,
    unit: 's',
    comparison: `${(best.seconds / peerBest.seconds).toFixed(2)}× scikit-learn's`,
    target: '≤ 1×',
    met: best.seconds <= peerBest.seconds,
  });
  rows.push({
    task: name,
    what: 'logistic training time, Stratum on 1 thread',
    stratum: bestSingle.seconds,
    peer: peerBest.seconds,
    peerName,
    unit: 's',
    comparison: `${(bestSingle.seconds / peerBest.seconds).toFixed(2)}× scikit-learn's`,
    target: 'report',
    met: undefined,
  });
  rows.push({
    task: name,
    what: `logistic training CPU time of those fits, all threads (Stratum ${threads} / 1 thread: ${best.cpuSeconds.toFixed(2)} / ${bestSingle.cpuSeconds.toFixed(2)} s)`,
    stratum: best.cpuSeconds,
    peer: peerBest.cpuSeconds,
    peerName,
    unit: 's',
    comparison: `${(best.cpuSeconds / peerBest.cpuSeconds).toFixed(2)}× scikit-learn's`,
    target: 'report',
    met: undefined,
  });
}

/** Writes an `rows × 20` numeric CSV with a header (values with up to 6 decimals). */
async function writeNumericCsv(path: string, rows: number): Promise<void> {
  const random = mulberry32(9);
  const handle = await open(path, 'w');
  try {
    await handle.write(`${Array.from({ length: 20 }, (_, i) => `x${i}`).join(',')}\n`);
    let chunk: string[] = [];
    for (let r = 0; r < rows; r++) {
      chunk.push(Array.from({ length: 20 }, () => ((random() - 0.5) * 2000).toFixed(6)).join(','));
      if (chunk.length === 10_000) {
        await handle.write(`${chunk.join('\n')}\n`);
        chunk = [];
      }
    }
    if (chunk.length > 0) await handle.write(`${chunk.join('\n')}\n`);
  } finally {
    await handle.close();
  }
}

async function ingestComparison(args: {
  dir: string;
  rows: number;
  peers: Set<string>;
  progress: Progress;
  out: TrainingBenchRow[];
}): Promise<void> {
  const { dir, peers, progress, out } = args;
  await mkdir(dir, { recursive: true });
  const csv = join(dir, 'numeric.csv');
  await writeNumericCsv(csv, args.rows);
  progress.log(`training: ingest of a ${args.rows.toLocaleString('en-US')}-row numeric CSV`);
  (globalThis as { gc?: () => void }).gc?.();
  const started = performance.now();
  const matrix = await readNumericCsvMatrix(csv);
  const seconds = (performance.now() - started) / 1000;
  const ours = matrix.rows / seconds;
  const what = `${args.rows.toLocaleString('en-US')}×20 numeric CSV → float32 feature batches`;
  if (!peers.has('pandas')) {
    out.push(
      row({
        task: 'ingest',
        what,
        stratum: ours,
        unit: 'rows/s',
        peerName: 'pandas (missing: apt-get install python3-pandas)',
      }),
    );
    return;
  }
  const peer = await runPeer({ task: 'pandas-csv', csv, threads: 1 });
  const peerRate = (peer['rows'] as number) / (peer['seconds'] as number);
  out.push({
    task: 'ingest',
    what: `${what} (rows/s)`,
    stratum: ours,
    peer: peerRate,
    peerName: `pandas ${String(peer['version'])} read_csv + to_numpy`,
    unit: 'rows/s',
    comparison: `${(ours / peerRate).toFixed(2)}× pandas`,
    target: '≥ 1×',
    met: ours >= peerRate,
  });
}

/** Runs every comparison the machine can; peers that are missing are skipped with a message. */
export async function runTrainingBench(options: TrainingBenchOptions): Promise<TrainingBenchResult> {
  const { progress, workDir, quick } = options;
  const peers = await peerModules();
  const notes: string[] = [];
  for (const module of ['xgboost', 'sklearn', 'pandas']) {
    if (!peers.has(module)) notes.push(`peer ${module} missing under ${PYTHON}: its comparisons are skipped`);
  }
  const rows: TrainingBenchRow[] = [];
  await ingestComparison({
    dir: join(workDir, 'ingest'),
    rows: quick ? 200_000 : 1_000_000,
    peers,
    progress,
    out: rows,
  });
  await gbdtComparison({
    name: 'synthetic',
    task: syntheticTask(quick ? 200_000 : 1_000_000, 20),
    dir: workDir,
    peers,
    progress,
    rows,
    scaling: true,
    maxRatio: 1.5,
  });
  await gbdtComparison({
    name: 'flights',
    task: await flightsTask(quick ? 500_000 : undefined, progress),
    dir: workDir,
    peers,
    progress,
    rows,
    scaling: false,
    maxRatio: 1.2,
  });
  await logisticComparison({ task: await spamTask(), dir: workDir, peers, progress, rows, notes });
  return { rows, notes };
}

/** The result as a Markdown section. */
export function renderTrainingBench(result: TrainingBenchResult): string {
  const fmt = (value: number | undefined, unit: string): string => {
    if (value === undefined) return '—';
    if (unit === 'rows/s') return `${Math.round(value).toLocaleString('en-US')}`;
    if (unit === 's') return `${value.toFixed(2)} s`;
    return value.toFixed(4);
  };
  const lines = [
    '## Training (vs XGBoost, scikit-learn, pandas)',
    '',
    '| task | measure | Stratum | peer | peer value | comparison | target | met |',
    '|---|---|---|---|---|---|---|---|',
    ...result.rows.map(
      (r) =>
        `| ${r.task} | ${r.what} | ${fmt(r.stratum, r.unit)} | ${r.peerName} | ${fmt(r.peer, r.unit)} | ${r.comparison} | ${r.target} | ${r.met === undefined ? '' : r.met ? 'yes' : '**no**'} |`,
    ),
    '',
    ...result.notes.map((n) => `- ${n}`),
    '',
  ];
  return lines.join('\n');
}
