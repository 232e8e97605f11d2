/**
 * Probe: where RSS goes over unload/load cycles of one model. Starts a real server (as the memory
 * phase does), warms it, then unloads and loads the model N times and prints, every `--every`
 * cycles, the process's RSS with its anonymous and file-backed parts (/proc smaps_rollup), its
 * thread count, and the main thread's V8 heap and external memory (from /metrics). With
 * `--snapshots`, the server writes a heap snapshot (SIGUSR2) after the warm-up and after the
 * cycles, into the working directory of the server (the repository root).
 *
 * `--mode rollouts` cycles the rollouts phase's way instead: blue-green switches of a registry
 * deployment between two versions, 10 requests after each.
 *
 *   node --import tsx bench/probes/memory-cycles.ts [--mode folder|rollouts] [--cycles 100] [--every 10] [--workers 2] [--snapshots]
 *   GLIBC_TUNABLES= node --import tsx bench/probes/memory-cycles.ts   # without the image's allocator setting
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import { startWithDeployment, swap } from '../phases/rollouts.ts';
import { createProcessGroup } from '../process/process-group.ts';
import { createProgress } from '../progress.ts';
import { scrapeHeap } from '../stratum/server-metrics.ts';
import { startStratum, type StratumProcess } from '../stratum/stratum-process.ts';
import { type BenchModel, writeRequests } from '../workload.ts';

const { values } = parseArgs({
  options: {
    cycles: { type: 'string', default: '100' },
    every: { type: 'string', default: '10' },
    workers: { type: 'string', default: '2' },
    delay: { type: 'string', default: '200' },
    snapshots: { type: 'boolean', default: false },
    mode: { type: 'string', default: 'folder' },
  },
});
const cycles = Number(values.cycles);
const every = Number(values.every);
const models: BenchModel[] = ['mlp', 'cnn', 'transformer'];
const dir = await mkdtemp(join(tmpdir(), 'stratum-memory-probe-'));
const repoDir = join(dir, 'models');
await writeFixtureRepository({ dir: repoDir, only: models });
const requests = new Map<BenchModel, Awaited<ReturnType<typeof writeRequests>>>();
for (const model of models) requests.set(model, await writeRequests(dir, model));
const group = createProcessGroup({ verbose: false });

async function post(url: string, init: { headers?: Record<string, string>; body?: Buffer } = {}): Promise<void> {
  const response = await fetch(url, { method: 'POST', ...init });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}`);
}

async function warm(server: StratumProcess): Promise<void> {
  for (const model of models) {
    const file = requests.get(model)!.binary;
    const body = await readFile(file.path);
    const headers = {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(file.headerLength),
    };
    for (let i = 0; i < 200; i++) await post(`${server.httpUrl}/v2/models/${model}/infer`, { headers, body });
  }
  await new Promise((resolve) => setTimeout(resolve, 1500));
}

function rollup(pid: number): Record<string, number> {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const field = (name: string): number =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN) / 1024;
  return { rss: field('Rss'), anon: field('Anonymous'), file: field('Rss') - field('Anonymous') };
}

async function sample(server: StratumProcess, cycle: number): Promise<void> {
  const r = rollup(server.pid);
  const threads = readdirSync(`/proc/${server.pid}/task`).length;
  const heap = await scrapeHeap(server.httpUrl);
  const mib = (n: number): string => n.toFixed(1).padStart(7);
  console.log(
    `${String(cycle).padStart(5)} rss ${mib(r['rss']!)} anon ${mib(r['anon']!)} file ${mib(r['file']!)} threads ${String(threads).padStart(3)} heapTotal ${mib(heap.heapTotal / 2 ** 20)} external ${mib(heap.external / 2 ** 20)}`,
  );
}

const settings = {
  label: 'probe',
  workers: Number(values.workers),
  intraOpThreads: 1,
  maxQueueDelayMicroseconds: Number(values.delay),
};
const withSnapshots = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
  values.snapshots ? { ...env, NODE_OPTIONS: '--heapsnapshot-signal=SIGUSR2' } : env;
const rollouts = values.mode === 'rollouts';
let cycleOnce: () => Promise<void>;
let server: StratumProcess;
if (rollouts) {
  // The rollouts phase's memory check: blue-green switches of deployment mlp between two versions.
  const started = await startWithDeployment(
    {
      group: { ...group, spawnNode: (args, env) => group.spawnNode(args, withSnapshots(env ?? process.env)) },
      progress: createProgress(),
      workDir: dir,
      request: requests.get('mlp')!.binary,
      settings,
      swaps: 0,
      cycles,
      steadyMs: 0,
    },
    'memory',
  );
  server = started.server;
  const { client, versions } = started;
  const file = requests.get('mlp')!.binary;
  const body = await readFile(file.path);
  const headers = {
    'content-type': 'application/octet-stream',
    'inference-header-content-length': String(file.headerLength),
  };
  let current = versions[0];
  cycleOnce = async () => {
    const to = current === versions[0] ? versions[1] : versions[0];
    const timing = await swap(client, { strategy: 'blue-green', to });
    if (timing.outcome !== 'switched') throw new Error(`swap: ${timing.outcome} ${timing.reason}`);
    current = to;
    for (let i = 0; i < 10; i++) await post(`${server.httpUrl}/v2/models/mlp/infer`, { headers, body });
  };
  models.splice(0, models.length, 'mlp');
} else {
  server = await startStratum({
    group,
    repoDir,
    models,
    settings,
    ...(values.snapshots && { env: withSnapshots(process.env) }),
  });
  cycleOnce = async () => {
    await post(`${server.httpUrl}/v2/repository/models/mlp/unload`);
    await post(`${server.httpUrl}/v2/repository/models/mlp/load`);
  };
}
try {
  await warm(server);
  await sample(server, 0);
  if (values.snapshots) process.kill(server.pid, 'SIGUSR2');
  for (let cycle = 1; cycle <= cycles; cycle++) {
    await cycleOnce();
    if (cycle % every === 0) await sample(server, cycle);
  }
  await warm(server);
  await sample(server, cycles);
  if (values.snapshots) process.kill(server.pid, 'SIGUSR2');
  await new Promise((resolve) => setTimeout(resolve, 3000));
} finally {
  await server.stop();
  await group.close();
  await rm(dir, { recursive: true, force: true });
}
