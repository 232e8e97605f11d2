/**
 * Probe: what tracing and the inference log cost each request, in CPU time rather than req/s.
 * For each configuration (off, tracing 1% / 100%, inference log 1% / 100%; and "off" beside a
 * process that keeps half a core busy, for scale), alternating over
 * rounds so they share the machine's load, a fresh server (mlp, REST binary, c=64) is loaded and
 * its CPU time read from /proc over the generator's measured window: main-thread µs per request
 * (the event loop, where spans and log capture run) and the other threads' µs per request (session
 * worker, log thread and its SQLite writes). Medians over rounds, with the difference from "off",
 * and the median of each round's throughput over that round's "off".
 *
 *   node --import tsx bench/probes/trace-cost.ts [--root /path/to/before --root .] [--rounds 3] \
 *     [--duration-ms 3000] [--only 'off,tracing 1%'] [--cpu-prof /tmp/profiles]
 *
 * `--cpu-prof DIR` runs each server under `node --cpu-prof` and leaves a folder per configuration
 * and round in DIR, with one profile per thread (`CPU.<date>.<pid>.<thread id>.…`; thread 0 is the
 * event loop). Several roots (builds before and after a change) alternate within
 * each round and are compared with the first root's "off". Each root needs a built `dist/`.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import { writeRequests } from '../workload.ts';
import { startOtlpSink } from '../tracing/otlp-sink.ts';
import { BENCH_ROOT, measure, startServer, stopServer } from './probe-server.ts';

/**
 * A configuration: its environment, or (`busyElsewhere`) "off" while another process keeps that
 * share of one core busy — what any work beside the event loop costs this machine's throughput,
 * whoever does it.
 */
interface Configuration {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
  readonly busyElsewhere?: number;
}

const CONFIGURATIONS: readonly Configuration[] = [
  { name: 'off', env: {} },
  { name: 'off + ½ core busy elsewhere', env: {}, busyElsewhere: 0.5 },
  { name: 'tracing 1%', env: { STRATUM_TRACING: 'true', STRATUM_TRACING_SAMPLE_RATE: '0.01' } },
  { name: 'tracing 100%', env: { STRATUM_TRACING: 'true', STRATUM_TRACING_SAMPLE_RATE: '1' } },
  // STRATUM_OTLP_ENDPOINT is filled in with the sink's address.
  {
    name: 'tracing 100% otlp',
    env: { STRATUM_TRACING: 'true', STRATUM_TRACING_SAMPLE_RATE: '1', STRATUM_OTLP_ENDPOINT: '' },
  },
  { name: 'log 1%', env: { STRATUM_INFERENCE_LOG_SAMPLE_RATE: '0.01' } },
  { name: 'log 100%', env: { STRATUM_INFERENCE_LOG_SAMPLE_RATE: '1' } },
];

const { values } = parseArgs({
  options: {
    root: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
    'warmup-ms': { type: 'string', default: '1000' },
    'duration-ms': { type: 'string', default: '3000' },
    'cpu-prof': { type: 'string' },
  },
  strict: true,
});
const roots = (values.root ?? [BENCH_ROOT]).map((r) => resolve(r));
const only = values.only?.split(',').map((s) => s.trim());
const configurations = CONFIGURATIONS.filter((c) => only === undefined || only.includes(c.name));
const rounds = Number(values.rounds);

/** Another process that keeps `share` of one core busy (10 ms cycles) until killed. */
function busyElsewhere(share: number): { stop(): void } {
  const busy = share * 10;
  const child = spawn(process.execPath, [
    '-e',
    `const idle = new Int32Array(new SharedArrayBuffer(4));
     for (;;) { const t = performance.now(); while (performance.now() - t < ${busy}); Atomics.wait(idle, 0, 0, ${10 - busy}); }`,
  ]);
  return { stop: () => child.kill() };
}

function median(xs: readonly number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

const dir = await mkdtemp(join(tmpdir(), 'stratum-trace-cost-'));
const sink = await startOtlpSink();
try {
  const repoDir = join(dir, 'models');
  await writeFixtureRepository({ dir: repoDir, only: ['mlp'] });
  const request = (await writeRequests(dir, 'mlp')).binary;
  const profDir = values['cpu-prof'] === undefined ? undefined : resolve(values['cpu-prof']);
  if (profDir !== undefined) await mkdir(profDir, { recursive: true });
  console.log(
    `roots ${roots.join(', ')}; load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const label = (root: string, name: string): string => (roots.length === 1 ? name : `${root} ${name}`);
  const results = new Map<string, { main: number[]; other: number[]; rps: number[] }>(
    configurations.flatMap((c) =>
      roots.map((root) => [label(root, c.name), { main: [], other: [], rps: [] }] as const),
    ),
  );
  for (let round = 0; round < rounds; round++) {
    for (const { name, env, busyElsewhere: share } of configurations)
      for (const [r, root] of roots.entries()) {
        const slug = `${name.replace(/\W+/g, '-')}${roots.length === 1 ? '' : `-root${r}`}`;
        const { child, port } = await startServer({
          root,
          repoDir,
          env: {
            ...env,
            ...(env['STRATUM_OTLP_ENDPOINT'] !== undefined && { STRATUM_OTLP_ENDPOINT: sink.url }),
            STRATUM_DATABASE_URL: `sqlite:${join(dir, `log-${round}-${slug}.db`)}`,
          },
          ...(profDir !== undefined && {
            // A folder per server: each of its threads (session worker, log thread) leaves a profile.
            nodeArgs: ['--cpu-prof', '--cpu-prof-dir', join(profDir, `${slug}-${round}`)],
          }),
        });
        const before = sink.counts();
        const elsewhere = share === undefined ? undefined : busyElsewhere(share);
        try {
          const m = await measure({ pid: child.pid as number, port }, request, {
            model: 'mlp',
            concurrency: 64,
            durationMs: Number(values['duration-ms']),
            warmupMs: Number(values['warmup-ms']),
          });
          const row = results.get(label(root, name));
          const main = (m.mainCpuSeconds * 1e6) / m.load.completed;
          const other = (m.otherCpuSeconds * 1e6) / m.load.completed;
          row?.main.push(main);
          row?.other.push(other);
          row?.rps.push(m.load.throughput);
          // Spans per request over the server's life so far (warm-up included, at the measured rate).
          const served = (m.load.throughput * (Number(values['warmup-ms']) + Number(values['duration-ms']))) / 1000;
          const spans = (sink.counts().spans - before.spans) / served;
          console.log(
            `round ${round + 1} ${label(root, name).padEnd(13)} ${Math.round(m.load.throughput)} req/s  main ${main.toFixed(1)} µs/req  other threads ${other.toFixed(1)} µs/req  errors ${m.load.errors}${spans > 0 ? `  spans exported ≈ ${spans.toFixed(2)}/req` : ''}  load ${loadavg()[0]?.toFixed(2)}`,
          );
        } finally {
          elsewhere?.stop();
          await stopServer(child);
        }
      }
  }
  const off = results.get(label(roots[0] ?? BENCH_ROOT, 'off'));
  const offMain = off === undefined ? NaN : median(off.main);
  const offOther = off === undefined ? NaN : median(off.other);
  console.log(
    '\n| configuration | req/s (median) | ÷ off (median of rounds) | main µs/req | vs off | other threads µs/req | vs off |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const [name, r] of results) {
    const main = median(r.main);
    const other = median(r.other);
    const d = (x: number): string => (Number.isNaN(x) ? '' : `${x >= 0 ? '+' : ''}${x.toFixed(1)}`);
    const ratio = median(r.rps.map((rps, round) => rps / (off?.rps[round] ?? NaN)));
    console.log(
      `| ${name} | ${Math.round(median(r.rps))} | ${ratio.toFixed(3)} | ${main.toFixed(1)} | ${d(main - offMain)} | ${other.toFixed(1)} | ${d(other - offOther)} |`,
    );
  }
  console.log(
    `load average at end: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await sink.close();
  await rm(dir, { recursive: true, force: true });
}
