/**
 * Probe: the server main thread's CPU time per request (REST binary, c=64) and the c=1 p50, for
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
 *     [--root '.::{"inlineRunMaxMicroseconds":500}'] [--models mlp] [--rounds 3] [--duration-ms 3000] [--c1-duration-ms 3000] [--workers 1]
 *
 * A root may name, after `::`, the model `config.json` it is measured with (default `{}`).
 * Each `--root` needs a built `dist/` (`npm run build` there).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import type { CeilingResult } from '../references/compute-ceiling.ts';
import type { LoadEvent, LoadResult } from '../load/load-result.ts';
import { freePort } from '../process/free-port.ts';
import { type CpuSnapshot, cpuSnapshot, readRss } from '../process/proc-stats.ts';
import { type BenchModel, inputOf, writeRequests } from '../workload.ts';

const BENCH_ROOT = resolve(import.meta.dirname, '..', '..');

const { values } = parseArgs({
  options: {
    root: { type: 'string', multiple: true },
    models: { type: 'string', default: 'mlp' },
    rounds: { type: 'string', default: '3' },
    'warmup-ms': { type: 'string', default: '1000' },
    'duration-ms': { type: 'string', default: '3000' },
    'c1-duration-ms': { type: 'string', default: '3000' },
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

interface Measured {
  readonly load: LoadResult;
  readonly mainCpuSeconds: number;
}

function runNode(args: readonly string[], onLine: (line: string) => void): Promise<void> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, args, { cwd: BENCH_ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let buffered = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let end;
      while ((end = buffered.indexOf('\n')) >= 0) {
        onLine(buffered.slice(0, end));
        buffered = buffered.slice(end + 1);
      }
    });
    child.once('exit', (code) => (code === 0 ? done() : fail(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}

async function measure(
  server: { pid: number; port: number },
  request: { path: string; headerLength?: number },
  run: { model: string; concurrency: number; durationMs: number },
): Promise<Measured> {
  let start: CpuSnapshot | undefined;
  let end: CpuSnapshot | undefined;
  let load: LoadResult | undefined;
  await runNode(
    [
      '--import',
      'tsx',
      'bench/load/rest-load.ts',
      '--port',
      String(server.port),
      '--path',
      `/v2/models/${run.model}/infer`,
      '--body',
      request.path,
      '--header-length',
      String(request.headerLength),
      '--concurrency',
      String(run.concurrency),
      '--warmup-ms',
      values['warmup-ms'],
      '--duration-ms',
      String(run.durationMs),
    ],
    (line) => {
      if (line.startsWith('{"event"')) {
        const { event } = JSON.parse(line) as LoadEvent;
        if (event === 'measure-start') start = cpuSnapshot(server.pid);
        else end = cpuSnapshot(server.pid);
      } else if (line.startsWith('{')) load = JSON.parse(line) as LoadResult;
    },
  );
  if (start === undefined || end === undefined || load === undefined)
    throw new Error('the load generator said nothing');
  return { load, mainCpuSeconds: end.main - start.main };
}

async function startServer(root: string, repoDir: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const grpcPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      join(root, 'bin', 'stratum.js'),
      'serve',
      '--models',
      repoDir,
      '--no-registry',
      '--http-port',
      String(port),
      '--grpc-port',
      String(grpcPort),
      '--workers',
      values.workers,
      '--intra-op-threads',
      '1',
      '--no-watch',
      '--log-level',
      'warn',
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`stratum (${root}) exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/health/ready`)).ok) return { child, port };
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`stratum (${root}) never became ready`);
}

interface Counts {
  readonly inferences: number;
  readonly executions: number;
  /** Time requests spent in the batcher's queue, and how many did. */
  readonly queueNs: number;
  readonly queued: number;
}

/** The model's counts so far (the server's statistics extension). */
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

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const dir = await mkdtemp(join(tmpdir(), 'stratum-probe-'));
try {
  const repoDir = join(dir, 'models');
  await writeFixtureRepository({ dir: repoDir, only: models });
  const requests = Object.fromEntries(
    await Promise.all(models.map(async (m) => [m, (await writeRequests(dir, m)).binary] as const)),
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
      const { child, port } = await startServer(root, repoDir);
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
          });
          const after = await counts(port, model);
          const meanBatch = (after.inferences - before.inferences) / (after.executions - before.executions);
          const idle = await measure(server, request, {
            model,
            concurrency: 1,
            durationMs: Number(values['c1-duration-ms']),
          });
          const end = await counts(port, model);
          // Includes the c=1 warm-up's requests: the first of them may still follow c=64's batches.
          const queueUs = (end.queueNs - after.queueNs) / (end.queued - after.queued) / 1000;
          const usPerRequest = (busy.mainCpuSeconds * 1e6) / busy.load.completed;
          const row =
            `round ${round + 1} ${root} ${config} ${model}: c=64 ${Math.round(busy.load.throughput)} req/s, ` +
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
