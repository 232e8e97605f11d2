/**
 * `npm run bench -- --only batch`: batch-inference rows/s of `runBatch` (plan, read, convert, run
 * on the runtime pool, write parts, assemble) against the raw `session.run` ceiling for the same
 * model and rows, measured in the same run: the rows already in tensors, batches run back to back
 * (one session with every core as intra-op threads, and one single-threaded session per core run
 * side by side; the faster is the ceiling). The models are trained GBDT pipelines (features in the
 * graph: standardised numbers, one-hot city, hashed review text) on synthetic rows, a light one
 * and a heavier one. The `evaluate` job's work (`evaluateVersion`: the registered version over a
 * labelled CSV, metrics included) is measured beside it on the same rows with their labels.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { sqlDataset } from '../../src/data/duckdb-source.ts';
import { fitFeatures } from '../../src/features/fit.ts';
import type { FeatureRow } from '../../src/features/fit.ts';
import { runBatch } from '../../src/jobs/batch/run-batch.ts';
import { evaluateVersion } from '../../src/jobs/evaluate/evaluate-version.ts';
import { openArtifactStore } from '../../src/artifacts/open-artifact-store.ts';
import { createRegistry, type Registry } from '../../src/registry/registry.ts';
import { openMetadataStore } from '../../src/store/open-metadata-store.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { seededRandom } from '../../src/onnx/fixtures/seeded-random.ts';
import { createRuntimePool } from '../../src/runtime/runtime-pool.ts';
import { transformBatch } from '../../src/features/transform.ts';
import { trainGbdt } from '../../src/train/gbdt/train-gbdt.ts';
import { exportPipelineModel } from '../../src/train/pipeline/export-pipeline.ts';
import type { Progress } from '../progress.ts';

const CITIES = ['paris', 'lyon', 'berlin', 'madrid', 'rome', 'oslo', 'zurich', 'krakow'];
const WORDS = ['great', 'good', 'fine', 'ok', 'food', 'service', 'slow', 'bad', 'awful'];
const BATCH_ROWS = 1_024;
/** Rounds of every measurement; each keeps its best. */
const ROUNDS = 3;

/** One measured way of running the batch. */
export interface BatchBenchRow {
  readonly what: string;
  readonly rows: number;
  readonly seconds: number;
  readonly rowsPerSecond: number;
  /** Against the ceiling; undefined for the ceiling rows themselves. */
  readonly ofCeiling?: number;
}

/** The figures. */
export interface BatchBenchResult {
  readonly rows: number;
  readonly cores: number;
  readonly table: readonly BatchBenchRow[];
}

interface Row {
  id: string;
  age: number;
  income: number;
  city: string;
  review: string;
}

function makeRows(count: number, seed: number): { rows: Row[]; labels: Float32Array } {
  const random = seededRandom(seed);
  const rows: Row[] = [];
  const labels = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    const age = Math.round((20 + random.next() * 50) * 10) / 10;
    const income = Math.round(Math.exp(9 + random.next() * 2));
    const city = CITIES[Math.floor(random.next() * CITIES.length)] as string;
    const review = Array.from(
      { length: 1 + Math.floor(random.next() * 4) },
      () => WORDS[Math.floor(random.next() * WORDS.length)],
    ).join(' ');
    rows.push({ id: `r${i}`, age, income, city, review });
    const logit =
      0.05 * (age - 45) - (Math.log(income) - 10) + (review.includes('bad') ? 1 : 0) + (city === 'oslo' ? 1 : 0);
    labels[i] = random.next() < 1 / (1 + Math.exp(-logit)) ? 1 : 0;
  }
  return { rows, labels };
}

async function trainModel(trees: { numTrees: number; maxDepth: number }): Promise<Uint8Array> {
  const { rows, labels } = makeRows(5_000, 3);
  const fitted = await fitFeatures(
    {
      transforms: [
        { column: 'age', transform: 'standardize' },
        { column: 'income', transform: 'standardize' },
        { column: 'city', transform: 'onehot', topK: 8 },
        { column: 'review', transform: 'text', buckets: 64, ngramRange: [1, 2] },
      ],
      output: 'features',
    },
    rows as unknown as FeatureRow[],
  );
  const { data, dims } = transformBatch(fitted, rows as unknown as FeatureRow[]);
  const model = trainGbdt({
    features: data,
    numFeatures: dims[1],
    labels,
    objective: 'binary',
    params: { ...trees, learningRate: 0.1, seed: 5 },
  });
  return exportPipelineModel({ fitted, model: { kind: 'gbdt', model }, classes: ['no', 'yes'] });
}

function feedsOf(rows: readonly Row[]): Record<string, ort.Tensor> {
  const n = rows.length;
  return {
    age: new ort.Tensor(
      'float32',
      Float32Array.from(rows, (r) => r.age),
      [n, 1],
    ),
    income: new ort.Tensor(
      'float32',
      Float32Array.from(rows, (r) => r.income),
      [n, 1],
    ),
    city: new ort.Tensor(
      'string',
      rows.map((r) => r.city),
      [n, 1],
    ),
    review: new ort.Tensor(
      'string',
      rows.map((r) => r.review),
      [n, 1],
    ),
  };
}

/** Raw session.run over pre-built batches: `sessions` sessions with `threads` intra-op threads each. */
async function ceiling(options: {
  model: Uint8Array;
  rows: readonly Row[];
  sessions: number;
  threads: number;
}): Promise<number> {
  const sessions = await Promise.all(
    Array.from({ length: options.sessions }, () =>
      ort.InferenceSession.create(options.model, { intraOpNumThreads: options.threads, interOpNumThreads: 1 }),
    ),
  );
  const batches: Record<string, ort.Tensor>[] = [];
  for (let i = 0; i < options.rows.length; i += BATCH_ROWS)
    batches.push(feedsOf(options.rows.slice(i, i + BATCH_ROWS)));
  await sessions[0]?.run(batches[0] as Record<string, ort.Tensor>);
  let next = 0;
  const start = performance.now();
  await Promise.all(
    sessions.map(async (session) => {
      while (next < batches.length)
        await session.run(batches[next++] as Record<string, ort.Tensor>, ['label', 'probabilities']);
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  await Promise.all(sessions.map((s) => s.release()));
  return options.rows.length / seconds;
}

function csvOf(rows: readonly Row[], labels?: Float32Array): string {
  const label = (i: number): string => (labels === undefined ? '' : `,${labels[i] === 1 ? 'yes' : 'no'}`);
  return `id,age,income,city,review${labels === undefined ? '' : ',label'}\n${rows.map((r, i) => `${r.id},${r.age},${r.income},${r.city},${r.review}${label(i)}`).join('\n')}\n`;
}

/** A registry over a SQLite file and an artifact folder in `dir`. */
async function openBenchRegistry(dir: string): Promise<Registry> {
  const logger = createLogger({ level: 'silent' });
  const store = await openMetadataStore({ url: `sqlite:${join(dir, 'stratum.db')}`, pollMs: 1000, logger });
  const artifacts = await openArtifactStore({ url: `file:${join(dir, 'artifacts')}` });
  return createRegistry({ store, artifacts, logger, maxArtifactBytes: 256 * 1024 * 1024 });
}

/** The models measured: the light one is the everyday tabular case; the heavier one shows where compute dominates I/O. */
const MODELS = [
  { numTrees: 100, maxDepth: 6 },
  { numTrees: 400, maxDepth: 8 },
] as const;

/** The runtime pool an evaluate job opens in its thread: one worker. */
function openEvaluationPool() {
  return Promise.resolve(createRuntimePool({ workers: 1, logger: createLogger({ level: 'silent' }) }));
}

/** Runs the benchmark in `workDir`. */
export async function runBatchBench(options: {
  progress: Progress;
  workDir: string;
  quick: boolean;
}): Promise<BatchBenchResult> {
  const { progress, workDir } = options;
  const count = options.quick ? 30_000 : 100_000;
  const cores = availableParallelism();
  await mkdir(workDir, { recursive: true });
  progress.log(`batch: writing ${count.toLocaleString('en-US')} rows as CSV and Parquet`);
  const { rows, labels } = makeRows(count, 17);
  const csv = join(workDir, 'rows.csv');
  await writeFile(csv, csvOf(rows));
  const labelled = join(workDir, 'labelled.csv');
  await writeFile(labelled, csvOf(rows, labels));
  const registry = await openBenchRegistry(join(workDir, 'registry'));
  const parquet = join(workDir, 'rows.parquet');
  await sqlDataset(`copy (select * from read_csv($1)) to '${parquet}' (format parquet)`, { params: [csv] }).toArray();
  const table: BatchBenchRow[] = [];
  const runtime = createRuntimePool({ workers: cores, logger: createLogger({ level: 'silent' }) });
  try {
    for (const trees of MODELS) {
      const label = `GBDT ${trees.numTrees} trees depth ${trees.maxDepth}`;
      progress.log(`batch: training the ${label} pipeline`);
      const model = await trainModel(trees);
      const modelPath = join(workDir, `model-${trees.numTrees}.onnx`);
      await writeFile(modelPath, model);
      const registered = await registry.pushVersion({ model: `bench-${trees.numTrees}`, bytes: model, by: 'bench' });
      // Rounds interleave the ceiling and Stratum so a burst of load on a shared machine hits both;
      // each row keeps its best round.
      const best = new Map<string, number>();
      const keep = (what: string, seconds: number): void => {
        best.set(what, Math.min(best.get(what) ?? Number.POSITIVE_INFINITY, seconds));
      };
      const ceilingRows: string[] = [];
      const stratumRows: string[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        for (const [sessions, threads] of [
          [1, cores],
          [cores, 1],
        ] as const) {
          const what = `${label}: raw session.run, ${sessions} session(s) × ${threads} thread(s), tensors prebuilt`;
          progress.log(`batch: ${what} (round ${round} of ${ROUNDS})`);
          keep(what, count / (await ceiling({ model, rows, sessions, threads })));
          if (round === 1) ceilingRows.push(what);
        }
        for (const [input, output] of [
          [parquet, 'out.parquet'],
          [csv, 'out.csv'],
          [csv, 'out.jsonl'],
        ] as const) {
          const what = `${label}: runBatch ${input.endsWith('.csv') ? 'CSV' : 'Parquet'} → ${output.split('.')[1]}`;
          progress.log(`batch: ${what} (round ${round} of ${ROUNDS})`);
          const start = performance.now();
          await runBatch({
            spec: {
              model: modelPath,
              input: { path: input },
              output: join(workDir, output),
              passThrough: ['id'],
              batchRows: BATCH_ROWS,
            },
            runtime,
          });
          keep(what, (performance.now() - start) / 1000);
          if (round === 1) stratumRows.push(what);
        }
        // An evaluate job's work: one single-threaded session (a job's), reading, scoring, metrics.
        const evaluation = await openEvaluationPool();
        const what = `${label}: evaluateVersion CSV with labels, 1 session × 1 thread, metrics included`;
        progress.log(`batch: ${what} (round ${round} of ${ROUNDS})`);
        const start = performance.now();
        await evaluateVersion({
          registry,
          runtime: evaluation,
          payload: {
            model: registered.model,
            version: registered.version,
            data: { source: { format: 'csv', path: labelled }, label: 'label' },
            baseDir: workDir,
          },
        }).finally(() => evaluation.close());
        keep(what, (performance.now() - start) / 1000);
        if (round === 1) stratumRows.push(what);
      }
      const ceilingRate = Math.max(...ceilingRows.map((what) => count / (best.get(what) as number)));
      for (const what of ceilingRows) {
        const seconds = best.get(what) as number;
        table.push({ what, rows: count, seconds, rowsPerSecond: count / seconds });
      }
      for (const what of stratumRows) {
        const seconds = best.get(what) as number;
        table.push({
          what,
          rows: count,
          seconds,
          rowsPerSecond: count / seconds,
          ofCeiling: count / seconds / ceilingRate,
        });
      }
    }
  } finally {
    await runtime.close();
    await registry.close();
  }
  return { rows: count, cores, table };
}

/** The Markdown section. */
export function renderBatchBench(result: BatchBenchResult): string {
  const lines = [
    '## Batch inference',
    '',
    `${result.rows.toLocaleString('en-US')} rows (id, age, income, city, review), GBDT pipelines with the features in the graph, ${result.cores} cores, batches of ${BATCH_ROWS} rows. runBatch: chunks of 10,000 rows on a runtime pool of one single-threaded session per core; best of ${ROUNDS} rounds that interleave the ceiling and runBatch, planning and assembling the output included. "of ceiling": against the faster raw session.run row of the same model.`,
    '',
    '| what | rows/s | seconds | of ceiling |',
    '| --- | ---: | ---: | ---: |',
    ...result.table.map(
      (r) =>
        `| ${r.what} | ${Math.round(r.rowsPerSecond).toLocaleString('en-US')} | ${r.seconds.toFixed(2)} | ${r.ofCeiling === undefined ? '—' : `${(r.ofCeiling * 100).toFixed(0)}%`} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
