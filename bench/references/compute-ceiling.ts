/**
 * Compute ceiling (a child process of the bench): `--threads` worker threads, each holding its own
 * session with `--intra-op-threads` (the server's layout: one session per worker), run
 * `session.run` back to back at each batch size, all at once. Prints rows/s per batch size and the
 * mean and median time of one run, e.g. the batch-1 latency that "added latency" is measured from.
 *
 *   node --import tsx bench/references/compute-ceiling.ts --model repo/mlp/1/model.onnx \
 *     --input-shape 784 --batches 1,24 --threads 2 --intra-op-threads 1 --duration-ms 1500
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { startTsWorker } from '../../src/runtime/start-ts-worker.ts';
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
}

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    'input-shape': { type: 'string' },
    batches: { type: 'string', default: '1' },
    threads: { type: 'string', default: '1' },
    'intra-op-threads': { type: 'string', default: '1' },
    'warmup-ms': { type: 'string', default: '300' },
    'duration-ms': { type: 'string', default: '1500' },
  },
  strict: true,
});
if (values.model === undefined || values['input-shape'] === undefined) throw new Error('--model and --input-shape are required');
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
  startTsWorker(new URL('./ceiling-worker.ts', import.meta.url), { name: `ceiling-${i}` }),
);
try {
  await Promise.all(workers.map((w) => ask(w, { op: 'load', bytes, intraOpThreads: Number(values['intra-op-threads']) })));
  const points: CeilingPoint[] = [];
  for (const batch of values.batches.split(',').map(Number)) {
    const results = await Promise.all(
      workers.map((w) =>
        ask(w, { op: 'run', dims: [batch, ...rowShape], warmupMs: Number(values['warmup-ms']), durationMs: Number(values['duration-ms']) }),
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
    points.push({ batch, threads, rowsPerSecond, meanRunMs: mean, p50RunMs: all[Math.floor(all.length / 2)] ?? Number.NaN });
  }
  process.stdout.write(`${JSON.stringify({ points } satisfies CeilingResult)}\n`);
} finally {
  await Promise.allSettled(workers.map((w) => w.terminate()));
}
