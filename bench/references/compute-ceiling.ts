/**
 * Compute ceiling (a child process of the bench): `--threads` worker threads, each holding its own
 * session with `--intra-op-threads` (the server's layout: one session per worker), run
 * `session.run` back to back at each batch size, all at once. Prints rows/s per batch size and the
 * mean and median time of one run. Each point is the better of `--repeat` measurements (other load
 * on the machine can only lower a ceiling), and a measurement during which other processes used
 * more than 20% of a core is taken again (at most twice). `--single-batch1` also times batch 1 on one thread alone: the
 * raw latency that Stratum's "added latency" is measured from.
 *
 *   node --import tsx bench/references/compute-ceiling.ts --model repo/mlp/1/model.onnx \
 *     --input-shape 784 --batches 1,24 --threads 2 --intra-op-threads 1 --duration-ms 1500
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../src/runtime/start-worker.ts';
import { cpuBetween, cpuSnapshot } from '../process/proc-stats.ts';
import type { CeilingRequest, CeilingResponse } from './ceiling-worker.ts';

/** One batch size's result. */
export interface CeilingPoint {
  readonly batch: number;
  readonly threads: number;
  /** Rows per second over all threads. */
  readonly rowsPerSecond: number;
  /** Mean duration of one `session.run` (ms). */
  readonly meanRunMs: number;
  readonly p50RunMs: number;
}

/** What the child prints. */
export interface CeilingResult {
  readonly points: readonly CeilingPoint[];
  /** Batch 1 on one thread while the others idle (with `--single-batch1`). */
  readonly single?: CeilingPoint;
}

/** Other processes' CPU (% of one core) above which a measurement is taken again. */
const FOREIGN_CPU_LIMIT_PERCENT = 20;

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    'input-shape': { type: 'string' },
    batches: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
    'intra-op-threads': { type: 'string', default: '1' },
    'warmup-ms': { type: 'string', default: '200' },
    'duration-ms': { type: 'string', default: '1500' },
    'single-batch1': { type: 'boolean', default: false },
    repeat: { type: 'string', default: '2' },
  },
  strict: true,
});
if (values.model === undefined || values['input-shape'] === undefined)
  throw new Error('--model and --input-shape are required');
const rowShape = values['input-shape'].split(',').map(Number);
const bytes = readFileSync(values.model);
const threads = Number(values.threads);

function ask(worker: Worker, request: CeilingRequest): Promise<CeilingResponse> {
  return new Promise((resolve, reject) => {
    worker.once('message', (response: CeilingResponse) =>
      response.op === 'error' ? reject(new Error(response.message)) : resolve(response),
    );
    worker.postMessage(request);
  });
}

const workers = Array.from({ length: threads }, (_, i) =>
  startWorker(new URL('./ceiling-worker.ts', import.meta.url), { name: `ceiling-${i}` }),
);
try {
  await Promise.all(
    workers.map((w) => ask(w, { op: 'load', bytes, intraOpThreads: Number(values['intra-op-threads']) })),
  );
  const measure = async (batch: number, on: readonly Worker[]): Promise<CeilingPoint> => {
    const results = await Promise.all(
      on.map((w) =>
        ask(w, {
          op: 'run',
          dims: [batch, ...rowShape],
          warmupMs: Number(values['warmup-ms']),
          durationMs: Number(values['duration-ms']),
        }),
      ),
    );
    let rowsPerSecond = 0;
    const all: number[] = [];
    for (const r of results) {
      if (r.op !== 'ran') continue;
      rowsPerSecond += (r.runs * batch) / r.seconds;
      all.push(...r.runMs);
    }
    all.sort((a, b) => a - b);
    const mean = all.reduce((a, b) => a + b, 0) / Math.max(1, all.length);
    return {
      batch,
      threads: on.length,
      rowsPerSecond,
      meanRunMs: mean,
      p50RunMs: all[Math.floor(all.length / 2)] ?? Number.NaN,
    };
  };
  const undisturbed = async (batch: number, on: readonly Worker[]): Promise<CeilingPoint> => {
    let point: CeilingPoint | undefined;
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = cpuSnapshot(process.pid);
      point = await measure(batch, on);
      const use = cpuBetween(before, cpuSnapshot(process.pid));
      if (use.machinePercent - use.mainPercent - use.othersPercent <= FOREIGN_CPU_LIMIT_PERCENT) break;
    }
    return point as CeilingPoint;
  };
  const bestOf = async (batch: number, on: readonly Worker[]): Promise<CeilingPoint> => {
    let best = await undisturbed(batch, on);
    for (let i = 1; i < Number(values.repeat); i++) {
      const next = await undisturbed(batch, on);
      if (next.rowsPerSecond > best.rowsPerSecond) best = next;
    }
    return best;
  };
  const points: CeilingPoint[] = [];
  for (const batch of values.batches
    .split(',')
    .filter((b) => b !== '')
    .map(Number))
    points.push(await bestOf(batch, workers));
  const single = values['single-batch1'] ? await bestOf(1, workers.slice(0, 1)) : undefined;
  process.stdout.write(
    `${JSON.stringify({ points, ...(single !== undefined && { single }) } satisfies CeilingResult)}\n`,
  );
} finally {
  await Promise.allSettled(workers.map((w) => w.terminate()));
}
