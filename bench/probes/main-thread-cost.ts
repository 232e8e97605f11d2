/**
 * Probe: the server main thread's CPU time per request (REST binary or JSON, c=64) and the c=1 p50, for
 * one or more builds of Stratum in the same run, alternating, so a before/after comparison shares
 * the machine's load. Each round starts a fresh server per build (`node <root>/bin/stratum.js
 * serve`, one session worker, one intra-op thread, the fixture models), loads it with
 * `load/rest-load.ts`, and reads the main thread's CPU time from /proc over exactly the window
 * the generator announces. Main-thread µs per request = that CPU time ÷ completed requests: unlike
 * req/s it barely moves with what else runs on the machine. Each row also gives the c=64 p99, the
 * mean batch the server formed at c=64 (its statistics: inferences ÷ executions) and the server's
 * RSS after the row. Also prints the raw batch-1 `session.run` time (compute-ceiling.ts), the base
 * of the "added latency" figure.
 *
 *   node --import tsx bench/probes/main-thread-cost.ts [--root /path/to/before --root .] \
 *     [--root '.::{"inlineRunMaxMicroseconds":500}'] [--models mlp] [--rounds 3] [--duration-ms 3000] [--c1-duration-ms 3000] \
 *     [--protocol binary|json] [--workers 1]
 *
 * A root may name, after `::`, the model `config.json` it is measured with (default `{}`).
 * Each `--root` needs a built `dist/` (`npm run build` there).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import type { CeilingResult } from '../references/compute-ceiling.ts';
import { readRss } from '../process/proc-stats.ts';
import { type BenchModel, inputOf, writeRequests } from '../workload.ts';
import { BENCH_ROOT, measure, runNode, startServer, stopServer } from './probe-server.ts';

const { values } = parseArgs({
  options: {
    root: { type: 'string', multiple: true },
    models: { type: 'string', default: 'mlp' },
    rounds: { type: 'string', default: '3' },
    'warmup-ms': { type: 'string', default: '1000' },
    'duration-ms': { type: 'string', default: '3000' },
    'c1-duration-ms': { type: 'string', default: '3000' },
    /** REST body format: `binary` (the tensor extension) or `json` (FP32 `data` arrays both ways). */
    protocol: { type: 'string', default: 'binary' },
    workers: { type: 'string', default: '1' },
  },
  strict: true,
});
const roots = (values.root ?? [BENCH_ROOT]).map((spec) => {
  const [root = '.', config = '{}'] = spec.split('::');
  return { root: resolve(root), config };
});
const models = values.models.split(',') as BenchModel[];
const rounds = Number(values.rounds);
const protocol = values.protocol;
if (protocol !== 'binary' && protocol !== 'json') throw new Error(`--protocol must be binary or json, got ${protocol}`);

interface Counts {
  readonly inferences: number;
  readonly executions: number;
  readonly queueNs: number;
  readonly queued: number;
}

/** The model's cumulative statistics (the protocol's stats extension). */
async function counts(port: number, model: string): Promise<Counts> {
  const res = await fetch(`http://127.0.0.1:${port}/v2/models/${model}/stats`);
  const body = (await res.json()) as {
    model_stats: {
      inference_count: number;
      execution_count: number;
      inference_stats: { queue: { count: number; ns: number } };
    }[];
  };
  const stats = body.model_stats[0];
  return {
    inferences: stats?.inference_count ?? 0,
    executions: stats?.execution_count ?? 0,
    queueNs: stats?.inference_stats.queue.ns ?? 0,
    queued: stats?.inference_stats.queue.count ?? 0,
  };
}

const dir = await mkdtemp(join(tmpdir(), 'stratum-probe-'));
try {
  const repoDir = join(dir, 'models');
  await writeFixtureRepository({ dir: repoDir, only: models });
  const requests = Object.fromEntries(
    await Promise.all(models.map(async (m) => [m, (await writeRequests(dir, m))[protocol]] as const)),
  );
  console.log(
    `load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const rows: string[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const { root, config } of roots) {
      for (const model of models) await writeFile(join(repoDir, model, 'config.json'), config);
      const { child, port } = await startServer({ root, repoDir, workers: Number(values.workers) });
      const readyRss = readRss(child.pid as number) / 2 ** 20;
      console.log(`round ${round + 1} ${root} ${config}: RSS when ready ${readyRss.toFixed(1)} MiB`);
      try {
        for (const model of models) {
          const request = requests[model] as { path: string; headerLength?: number };
          const server = { pid: child.pid as number, port };
          const before = await counts(port, model);
          const busy = await measure(server, request, {
            model,
            concurrency: 64,
            durationMs: Number(values['duration-ms']),
            warmupMs: Number(values['warmup-ms']),
          });
          const after = await counts(port, model);
          const meanBatch = (after.inferences - before.inferences) / (after.executions - before.executions);
          const idle = await measure(server, request, {
            model,
            concurrency: 1,
            durationMs: Number(values['c1-duration-ms']),
            warmupMs: Number(values['warmup-ms']),
          });
          const end = await counts(port, model);
          // Includes the c=1 warm-up's requests: the first of them may still follow c=64's batches.
          const queueUs = (end.queueNs - after.queueNs) / (end.queued - after.queued) / 1000;
          const usPerRequest = (busy.mainCpuSeconds * 1e6) / busy.load.completed;
          const row =
            `round ${round + 1} ${root} ${config} ${model} ${protocol}: c=64 ${Math.round(busy.load.throughput)} req/s, ` +
            `p99 ${busy.load.latency.p99.toFixed(2)} ms, batch ${meanBatch.toFixed(1)}, ` +
            `main ${usPerRequest.toFixed(1)} µs/req; c=1 p50 ${idle.load.latency.p50.toFixed(3)} ms, queue ${queueUs.toFixed(1)} µs ` +
            `(${Math.round(idle.load.throughput)} req/s, main ${((idle.mainCpuSeconds * 1e6) / idle.load.completed).toFixed(1)} µs/req); ` +
            `errors ${busy.load.errors + idle.load.errors}; RSS ${(readRss(server.pid) / 2 ** 20).toFixed(1)} MiB; ` +
            `load ${loadavg()[0]?.toFixed(2)}`;
          console.log(row);
          rows.push(row);
        }
      } finally {
        await stopServer(child);
      }
    }
  }
  for (const model of models) {
    let single: CeilingResult['single'];
    await runNode(
      [
        '--import',
        'tsx',
        'bench/references/compute-ceiling.ts',
        '--model',
        join(repoDir, model, '1', 'model.onnx'),
        '--input-shape',
        inputOf(model).shape.slice(1).join(','),
        '--batches',
        '1',
        '--threads',
        '1',
        '--single-batch1',
      ],
      (line) => {
        if (line.startsWith('{')) single = (JSON.parse(line) as CeilingResult).single;
      },
    );
    console.log(`${model}: raw batch-1 session.run ${single?.meanRunMs.toFixed(3) ?? '?'} ms (mean, back to back)`);
  }
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
