/**
 * `npm run bench -- --only async`: does asynchronous inference soak up idle capacity without
 * raising online p99? One Stratum process (mlp, the embedded job queue in a temporary SQLite
 * file) is loaded with online REST binary requests at a moderate concurrency, alone and then with
 * a concurrent `infer_async` load (16-row requests submitted closed-loop), alternating so a
 * change in the machine's load hits both sides. Reports online p50/p99 in each, their ratio
 * (target ≤ 1.2×), and the async rows completed meanwhile (the capacity it soaked up).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import type { LoadResult } from '../load/load-result.ts';
import type { ProcessGroup } from '../process/process-group.ts';
import type { Progress } from '../progress.ts';
import { startStratum } from '../stratum/stratum-process.ts';
import { writeRequests } from '../workload.ts';

/** Rows of one asynchronous request. */
const ASYNC_ROWS = 16;
/** Online load: enough to keep the batcher busy, with gaps (saturation would leave none to fill). */
const ONLINE_CONCURRENCY = 8;

/** Rows of the CSV a concurrent batch job reads (each job runs over all of them). */
const BATCH_ROWS = 4000;

/** One window's figures. */
export interface AsyncWindow {
  readonly withAsync: boolean;
  /** The window ran batch-infer jobs back to back instead of async requests. */
  readonly withBatch?: boolean;
  /** Rows the batch jobs finished during the window. */
  readonly batchRows?: number;
  readonly online: LoadResult;
  /** infer_async submissions accepted (202) in the window. */
  readonly submitted?: number;
  /** infer-async jobs completed during the window (from the queue). */
  readonly jobsCompleted?: number;
}

/** What the phase measured. */
export interface AsyncBenchResult {
  readonly windows: readonly AsyncWindow[];
  readonly durationMs: number;
}

/** Options of {@link runAsyncBench}. */
export interface AsyncBenchOptions {
  readonly group: ProcessGroup;
  readonly progress: Progress;
  readonly workDir: string;
  readonly quick: boolean;
}

/** Runs the phase. */
export async function runAsyncBench(options: AsyncBenchOptions): Promise<AsyncBenchResult> {
  const { group, progress, workDir } = options;
  const repoDir = join(workDir, 'models');
  await mkdir(workDir, { recursive: true });
  await writeFixtureRepository({ dir: repoDir, only: ['mlp'] });
  const online = (await writeRequests(workDir, 'mlp')).binary;
  const asyncBody = join(workDir, 'async-16.json');
  const data = Array.from({ length: ASYNC_ROWS * 784 }, (_, i) => (i % 97) / 97);
  await writeFile(
    asyncBody,
    JSON.stringify({ inputs: [{ name: 'input', datatype: 'FP32', shape: [ASYNC_ROWS, 784], data }] }),
  );
  const databaseUrl = `sqlite:${join(workDir, 'jobs.db')}`;
  const server = await startStratum({
    group,
    repoDir,
    models: ['mlp'],
    settings: { label: 'w2/t1', workers: 2, intraOpThreads: 1 },
    // The registry side opens the embedded queue: infer_async, /api/v1/jobs and serve's worker.
    registry: { databaseUrl, artifactsUrl: `file:${join(workDir, 'artifacts')}` },
  });
  const queue = await openJobQueue({ queueUrl: 'embedded', databaseUrl, pollMs: 200 });
  const warmupMs = 1000;
  const durationMs = options.quick ? 3000 : 6000;
  const loadArgs = (path: string, body: { path: string; headerLength?: number }, concurrency: number) => [
    '--port',
    String(server.httpPort),
    '--path',
    path,
    '--body',
    body.path,
    '--concurrency',
    String(concurrency),
    '--warmup-ms',
    String(warmupMs),
    '--duration-ms',
    String(durationMs),
    ...(body.headerLength === undefined ? [] : ['--header-length', String(body.headerLength)]),
  ];
  const run = (args: string[]) =>
    group.runJson<LoadResult>('bench/load/rest-load.ts', args, { timeoutMs: warmupMs + durationMs + 60_000 });
  const windows: AsyncWindow[] = [];
  try {
    const modes = options.quick
      ? (['online', 'async', 'batch'] as const)
      : (['online', 'async', 'batch', 'online', 'async', 'batch'] as const);
    const batchInput = await writeBatchInput(workDir);
    for (const mode of modes) {
      const withAsync = mode === 'async';
      const onlineArgs = loadArgs('/v2/models/mlp/infer', online, ONLINE_CONCURRENCY);
      if (mode === 'online') {
        windows.push({ withAsync, online: await run(onlineArgs) });
      } else if (mode === 'batch') {
        const stop = new AbortController();
        const batches = batchJobsUntil(stop.signal, {
          url: server.httpUrl,
          model: join(repoDir, 'mlp', '1', 'model.onnx'),
          input: batchInput,
          workDir,
        });
        const onlineResult = await run(onlineArgs).finally(() => stop.abort());
        windows.push({ withAsync, withBatch: true, online: onlineResult, batchRows: await batches });
      } else {
        const before = (await queue.counts()).completed;
        const [onlineResult, asyncResult] = await Promise.all([
          run(onlineArgs),
          run([...loadArgs('/v2/models/mlp/infer_async', { path: asyncBody }, 1), '--expect-status', '202']),
        ]);
        const jobsCompleted = (await queue.counts()).completed - before;
        windows.push({ withAsync, online: onlineResult, submitted: asyncResult.completed, jobsCompleted });
      }
      const w = windows.at(-1) as AsyncWindow;
      progress.log(
        `async: ${withAsync ? 'with async ' : w.withBatch === true ? `with batch (${w.batchRows} rows)` : 'online only'}  p50 ${w.online.latency.p50.toFixed(2)} p99 ${w.online.latency.p99.toFixed(2)} ms  ${w.online.throughput.toFixed(0)} req/s` +
          (withAsync ? `  async submitted ${w.submitted}, jobs completed ${w.jobsCompleted}` : ''),
      );
    }
  } finally {
    await queue.close();
    await server.stop();
  }
  return { windows, durationMs };
}

/** The phase's Markdown section. */
export function renderAsyncBench(result: AsyncBenchResult): string {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)] as number;
  const alone = result.windows.filter((w) => !w.withAsync && w.withBatch !== true);
  const mixed = result.windows.filter((w) => w.withAsync);
  const batched = result.windows.filter((w) => w.withBatch === true);
  const p99Alone = median(alone.map((w) => w.online.latency.p99));
  const p99Mixed = median(mixed.map((w) => w.online.latency.p99));
  const p99Batch = batched.length === 0 ? undefined : median(batched.map((w) => w.online.latency.p99));
  const rows = result.windows.map(
    (w) =>
      `| ${w.withAsync ? 'online + async' : w.withBatch === true ? `online + batch job (${w.batchRows} rows done)` : 'online only'} | ${w.online.throughput.toFixed(0)} | ${w.online.latency.p50.toFixed(2)} | ${w.online.latency.p99.toFixed(2)} | ${w.online.errors} | ${w.submitted ?? '—'} | ${w.jobsCompleted === undefined ? '—' : `${w.jobsCompleted} (${((w.jobsCompleted * ASYNC_ROWS) / (result.durationMs / 1000)).toFixed(0)} rows/s)`} |`,
  );
  return [
    `## Asynchronous inference beside online load (mlp, online REST binary c=${ONLINE_CONCURRENCY}; async ${ASYNC_ROWS}-row JSON requests, closed loop c=1)`,
    '',
    '| window | online req/s | p50 ms | p99 ms | errors | async submitted | async jobs completed |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Online p99 with async load / without: **${(p99Mixed / p99Alone).toFixed(2)}×** (median of windows; target ≤ 1.2×).`,
    ...(p99Batch === undefined
      ? []
      : [
          '',
          `Online p99 with a concurrent batch job / without: **${(p99Batch / p99Alone).toFixed(2)}×** (batch-infer jobs over ${BATCH_ROWS} rows back to back on the server's in-process worker; target ≤ 1.2×).`,
        ]),
    '',
  ].join('\n');
}

/** A CSV of mlp inputs (784 columns) for the batch window. */
async function writeBatchInput(workDir: string): Promise<string> {
  const header = Array.from({ length: 784 }, (_, i) => `x${i}`).join(',');
  const lines = [header];
  for (let r = 0; r < BATCH_ROWS; r++) {
    lines.push(Array.from({ length: 784 }, (_, i) => ((r * 31 + i) % 97) / 97).join(','));
  }
  const path = join(workDir, 'batch-input.csv');
  await writeFile(path, `${lines.join('\n')}\n`);
  return path;
}

/**
 * Submits batch-infer jobs to the server one after another (each waits for the previous to end)
 * until `signal` aborts; resolves with the rows the finished jobs wrote.
 */
async function batchJobsUntil(
  signal: AbortSignal,
  options: { url: string; model: string; input: string; workDir: string },
): Promise<number> {
  let rows = 0;
  for (let n = 0; !signal.aborted; n++) {
    const res = await fetch(`${options.url}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        kind: 'batch-infer',
        payload: {
          model: options.model,
          input: { path: options.input },
          output: join(options.workDir, `batch-output-${n}.csv`),
          chunkRows: 1000,
        },
      }),
    });
    if (res.status !== 201) throw new Error(`batch job refused: ${res.status} ${await res.text()}`);
    const { id } = (await res.json()) as { id: string };
    for (;;) {
      const job = (await (await fetch(`${options.url}/api/v1/jobs/${id}`)).json()) as {
        state: string;
        result?: { written?: number };
        error?: { message: string };
      };
      if (job.state === 'completed') {
        rows += job.result?.written ?? 0;
        break;
      }
      if (job.state === 'failed' || job.state === 'cancelled')
        throw new Error(`batch job ${job.state}: ${job.error?.message}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  return rows;
}
