/**
 * `npm run bench -- --only peers`: Stratum beside what a user would pick instead, on the same ONNX
 * files, the same load generator and the same machine, in one run:
 *
 * - Stratum as the bench starts it (bin/stratum.js serve, 2 workers × 1 intra-op thread);
 * - FastAPI + uvicorn + onnxruntime (bench/peers/fastapi_server.py): one uvicorn worker per core,
 *   each with its own InferenceSession, `session.run` per request;
 * - Ray Serve with `@serve.batch` (bench/peers/ray_server.py), one replica.
 *
 * The models are the bench's MLP (784→512→512→10) and a wide MLP (784→1024→1024→10, same
 * signature). All systems are started first; each cell then loads them back to back in a rotating
 * order, so on a shared machine a change in load lands on every system alike (read ratios, not
 * absolutes). A peer that cannot be installed or started is reported with the reason; the others
 * are still measured.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import { buildMlp } from '../../src/onnx/fixtures/mlp.ts';
import type { LoadResult } from '../load/load-result.ts';
import type { ProcessGroup } from '../process/process-group.ts';
import type { Progress } from '../progress.ts';
import { startStratum } from '../stratum/stratum-process.ts';
import { writeRequests } from '../workload.ts';
import { preparePeerPython } from './peer-python.ts';
import { type PeerServer, startPeerServer } from './peer-server.ts';
import {
  type PeerCell,
  type PeerSystem,
  type PeerSystemInfo,
  type PeersBenchResult,
  renderPeersBench,
} from './peers-report.ts';

export { renderPeersBench };

/** The wide MLP's hidden width (the bench's `mlp` has 512). */
const WIDE_HIDDEN = 1024;
const WIDE_MODEL = 'mlp_wide';
const CONCURRENCIES = [1, 8, 64, 256] as const;
/** Ray Serve's batching, stated in the report: a batch of up to 32 rows, waiting at most 2 ms to fill it. */
const RAY_MAX_BATCH = 32;
const RAY_BATCH_WAIT_MS = 2;

/** Options of {@link runPeersBench}. */
export interface PeersBenchOptions {
  readonly group: ProcessGroup;
  readonly progress: Progress;
  readonly workDir: string;
  readonly quick: boolean;
}

/** Runs the phase. Never throws for a peer: its failure is a row of the report. */
export async function runPeersBench(options: PeersBenchOptions): Promise<PeersBenchResult> {
  const { group, progress, workDir } = options;
  const cores = availableParallelism();
  const repoDir = join(workDir, 'models');
  await writeFixtureRepository({ dir: repoDir, only: ['mlp'] });
  const models = [
    { name: 'mlp', description: "the bench's MLP, 784→512→512→10 (Gemm + Relu), FP32" },
    ...(options.quick
      ? []
      : [{ name: WIDE_MODEL, description: `wide MLP, 784→${WIDE_HIDDEN}→${WIDE_HIDDEN}→10 (Gemm + Relu), FP32` }]),
  ];
  if (models.some((m) => m.name === WIDE_MODEL)) {
    await mkdir(join(repoDir, WIDE_MODEL, '1'), { recursive: true });
    await writeFile(join(repoDir, WIDE_MODEL, '1', 'model.onnx'), buildMlp({ hidden: WIDE_HIDDEN }));
  }
  // Both MLPs have the same signature: one request body (784 FP32 numbers in JSON) serves both.
  const body = (await writeRequests(workDir, 'mlp')).json.path;
  const modelArgs = models.flatMap((m) => ['--model', `${m.name}=${join(repoDir, m.name, '1', 'model.onnx')}`]);
  const probes = models.map((m) => ({ model: m.name, bodyPath: body }));
  const warmupMs = options.quick ? 500 : 1000;
  const durationMs = options.quick ? 2000 : 5000;
  const concurrencies = options.quick ? [1, 64] : [...CONCURRENCIES];
  const cells: PeerCell[] = [];
  const notes: string[] = [];

  /** One load window against a running system. */
  const measure = async (system: PeerSystem, at: { httpPort: number; model: string; concurrency: number }) => {
    const args = [
      '--port',
      String(at.httpPort),
      '--path',
      `/v2/models/${at.model}/infer`,
      '--body',
      body,
      '--concurrency',
      String(at.concurrency),
      '--warmup-ms',
      String(warmupMs),
      '--duration-ms',
      String(durationMs),
    ];
    let result: PeerCell['result'];
    try {
      result = await group.runJson<LoadResult>('bench/load/rest-load.ts', args, {
        timeoutMs: warmupMs + durationMs + 60_000,
      });
      progress.log(
        `peers: ${system.padEnd(7)} ${at.model.padEnd(8)} c=${String(at.concurrency).padEnd(3)} ${result.throughput.toFixed(0)} req/s  p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} ms  errors ${result.errors}`,
      );
    } catch (error) {
      result = { error: error instanceof Error ? error.message : String(error) };
      progress.log(`peers: ${system} ${at.model} c=${at.concurrency} failed: ${result.error}`);
    }
    cells.push({ system, model: at.model, concurrency: at.concurrency, result });
  };
  const running = new Map<PeerSystem, PeerServer>();
  /** Starts a system; a failure to start becomes its reason. */
  const attempt = async (system: PeerSystem, start: () => Promise<PeerServer>): Promise<true | string> => {
    try {
      running.set(system, await start());
      return true;
    } catch (error) {
      const why = `did not start: ${error instanceof Error ? error.message : String(error)}`;
      progress.log(`peers: ${system} ${why}`);
      return why.slice(0, 600);
    }
  };

  const systems: PeerSystemInfo[] = [];
  progress.log('peers: starting stratum');
  const stratumSettings = { label: `w${cores}/t1`, workers: cores, intraOpThreads: 1 };
  systems.push({
    system: 'stratum',
    label: `bin/stratum.js serve, ${stratumSettings.workers} session workers × 1 intra-op thread, dynamic batching on (server defaults), registry off`,
    available: await attempt('stratum', async () => {
      const stratum = await startStratum({ group, repoDir, models: ['mlp'], settings: stratumSettings });
      return { pid: stratum.pid, httpPort: stratum.httpPort, stop: stratum.stop };
    }),
  });

  const python = await preparePeerPython(progress);
  const v = python.versions;
  const fastapiLabel = `FastAPI ${v['fastapi'] ?? '?'} on uvicorn ${v['uvicorn'] ?? '?'} (uvloop + httptools), ${cores} worker processes (one per core), each with an onnxruntime ${v['onnxruntime'] ?? '?'} InferenceSession of 1 intra-op thread; \`session.run\` per request; json + numpy`;
  let fastapi = python.fastapi;
  if (fastapi === true && python.python !== undefined) {
    const interpreter = python.python;
    progress.log('peers: starting fastapi');
    fastapi = await attempt('fastapi', () =>
      startPeerServer({
        group,
        python: interpreter,
        script: 'fastapi_server.py',
        args: [...modelArgs, '--workers', String(cores), '--intra-op-threads', '1'],
        probes,
      }),
    );
  }
  systems.push({ system: 'fastapi', label: fastapiLabel, available: fastapi });

  const rayLabel = `Ray Serve ${v['ray'] ?? '?'} (local Ray, no dashboard), 1 replica per model, \`@serve.batch(max_batch_size=${RAY_MAX_BATCH}, batch_wait_timeout_s=${RAY_BATCH_WAIT_MS / 1000})\`, max_ongoing_requests 256, onnxruntime ${v['onnxruntime'] ?? '?'} with its default intra-op threads; json + numpy`;
  let ray = python.ray;
  if (ray === true && python.python !== undefined) {
    const interpreter = python.python;
    progress.log('peers: starting ray serve (Ray takes a while)');
    ray = await attempt('ray', () =>
      startPeerServer({
        group,
        python: interpreter,
        script: 'ray_server.py',
        args: [
          ...modelArgs,
          '--replicas',
          '1',
          '--max-batch-size',
          String(RAY_MAX_BATCH),
          '--batch-wait-ms',
          String(RAY_BATCH_WAIT_MS),
        ],
        probes,
      }),
    );
  }
  systems.push({ system: 'ray', label: rayLabel, available: ray });

  try {
    let round = 0;
    for (const model of models) {
      for (const concurrency of concurrencies) {
        // Back to back on the same cell, in an order that rotates, so a change in the machine's
        // load lands on every system rather than on whichever always ran at that moment.
        const order = [...running.keys()];
        const shift = round++ % Math.max(1, order.length);
        for (const system of [...order.slice(shift), ...order.slice(0, shift)]) {
          const server = running.get(system) as PeerServer;
          await measure(system, { httpPort: server.httpPort, model: model.name, concurrency });
        }
      }
    }
  } finally {
    await Promise.allSettled([...running.values()].map((server) => server.stop()));
  }

  notes.push(
    `All systems are started first and stay up; each cell (model, c=${concurrencies.join(', ')}) then loads them back to back, in an order that rotates from cell to cell. Idle servers stay running meanwhile (Ray's daemons use a little CPU when idle). The load generator shares the ${cores} cores with the server under test.`,
    'Errors are non-200 answers and lost connections over the whole run; a request still unanswered 5 s after its window ended is counted as unanswered (the generator has no per-request timeout, so a stalled server shows there rather than in p99, which covers answered requests only).',
    'Each peer parses the request with `json.loads` and `numpy.asarray(…, dtype=float32)` and writes the response with `json.dumps(… .tolist())` (bench/peers/oip_json.py) — what a Python user would write; Stratum runs its own JSON path.',
    `The Python peers run in a virtualenv the bench makes on first use outside the repository (${python.python ?? 'not created'}), installed offline from the machine's wheel indexes.`,
  );
  return { models, concurrencies, systems, cells, warmupMs, durationMs, notes };
}
