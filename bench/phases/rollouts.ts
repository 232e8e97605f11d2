/**
 * Registry rollouts (issue 3): version swaps under constant load, and memory over load/unload
 * cycles through deployments.
 *
 * A real `stratum serve` runs with the registry on a temporary SQLite store and artifact folder.
 * Two versions of the MLP fixture are pushed (the same bytes, so a canary's output comparison
 * agrees and only the machinery is measured) and a deployment `mlp` routes to the first. The REST
 * binary load generator then keeps 64 requests in flight for the whole run, recording every
 * request's start, latency and status: first a steady-state window, then N swaps alternating
 * blue-green and a fast canary, each waited for until this replica has converged (and the canary
 * has ended), then 1 s more. Afterwards the run is split into the steady window and the swap
 * windows (swap start → converged + 1 s). A second, fresh server then switches the deployment
 * between the two versions M times by blue-green (each switch loads one version and unloads the
 * other) and reports its RSS before and after.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ApiClient, createApiClient, type DeploymentStatusReply } from '../../src/client/api-client.ts';
import { FIXTURES } from '../../src/onnx/fixtures.ts';
import type { DeploymentStatus } from '../../src/deploy/deployment-runtime.ts';
import type {
  CanaryWindowSeen,
  RolloutMemory,
  RolloutFailureKind,
  RolloutResult,
  RolloutWindow,
  SwapRecord,
  SwapStrategy,
} from '../bench-results.ts';
import { FOREIGN_CPU_LIMIT_PERCENT } from '../cell.ts';
import { createLatencyRecorder } from '../load/latency-recorder.ts';
import type { LoadResult } from '../load/load-result.ts';
import { readTimeline, type TimelineEntry } from '../load/request-timeline.ts';
import type { ProcessGroup } from '../process/process-group.ts';
import { cpuBetween, type CpuSnapshot, cpuSnapshot, readRss, waitForQuiet } from '../process/proc-stats.ts';
import type { Progress } from '../progress.ts';
import { scrapeHeap } from '../stratum/server-metrics.ts';
import { startStratum, type StratumProcess, type StratumSettings } from '../stratum/stratum-process.ts';
import { type RequestFile, restLoadTarget } from '../workload.ts';

/** Requests in flight during the whole run. */
export const ROLLOUT_CONCURRENCY = 64;
/** The deployment (and registered model) the phase serves. */
const DEPLOYMENT = 'mlp';
/** Load before the steady window, discarded. */
const WARMUP_MS = 2000;
/** A swap window lasts until the replica converged, plus this. */
const SWAP_TAIL_MS = 1000;
/** Slices of the steady window whose p99 are compared with the swaps' (as long as the tail). */
const SLICE_MS = 1000;
const POLL_MS = 50;
const SWAP_TIMEOUT_MS = 60_000;
/** Upper bound of the load run; the phase ends it (SIGUSR2) when the swaps are done. */
const MAX_RUN_MS = 20 * 60_000;
/**
 * The fast canary: half the traffic, then all of it, 0.5 s and 20 requests per step at least. A
 * quarter of the canary's requests are also run on the stable version and compared (they agree:
 * both versions are the same bytes).
 */
export const FAST_CANARY = Object.freeze({ steps: [50, 100], stepSeconds: 0.5, minRequests: 20, compareRate: 0.25 });
/** Requests sent before each RSS reading. */
export const MEMORY_WARMUP_REQUESTS = 200;
/** Requests sent after each memory cycle, so the version just loaded has served. */
export const REQUESTS_PER_CYCLE = 10;
/** Idle time before an RSS reading, so freed memory has been returned. */
export const SETTLE_MS = 1500;
/** A last reading after this much more idle time, in case V8 collects garbage when idle. */
export const LATE_READING_MS = 10_000;
/** RSS readings during the cycles. */
const TRACE_POINTS = 10;

/** Options of {@link runRollouts}. */
export interface RunRolloutsOptions {
  readonly group: ProcessGroup;
  readonly progress: Progress;
  /** A scratch folder of the run; the phase makes its stores and files under it. */
  readonly workDir: string;
  /** The mlp REST binary request. */
  readonly request: RequestFile;
  readonly settings: StratumSettings;
  /** Swaps under load, alternating blue-green and canary. */
  readonly swaps: number;
  /** Blue-green cycles of the memory check (0: no memory check). */
  readonly cycles: number;
  /** Steady-state window before the first swap (ms). */
  readonly steadyMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Epoch ms with sub-millisecond resolution, the clock of the load generator's timeline. */
const nowMs = (): number => performance.timeOrigin + performance.now();

/** The deployment's serving settings: the batching fields of the bench configuration. */
function servingOf(settings: StratumSettings): Record<string, unknown> {
  const batching: Record<string, unknown> = {};
  if (settings.maxQueueDelayMicroseconds !== undefined)
    batching['maxQueueDelayMicroseconds'] = settings.maxQueueDelayMicroseconds;
  if (settings.preferredBatchSizes !== undefined) batching['preferredBatchSizes'] = settings.preferredBatchSizes;
  return {
    ...(settings.maxBatchSize !== undefined && { maxBatchSize: settings.maxBatchSize }),
    ...(Object.keys(batching).length > 0 && { dynamicBatching: batching }),
  };
}

/** A fresh server on its own stores, with the deployment created and converged. */
export async function startWithDeployment(
  options: RunRolloutsOptions,
  name: string,
): Promise<{ server: StratumProcess; client: ApiClient; versions: readonly [number, number] }> {
  const dir = join(options.workDir, name);
  await mkdir(join(dir, 'artifacts'), { recursive: true });
  const server = await startStratum({
    group: options.group,
    models: [],
    settings: options.settings,
    registry: { databaseUrl: `sqlite:${join(dir, 'stratum.db')}`, artifactsUrl: `file:${join(dir, 'artifacts')}` },
  });
  try {
    const client = createApiClient({ baseUrl: server.httpUrl, actor: 'bench' });
    const bytes = FIXTURES.mlp.build();
    const first = await client.pushVersion({ model: DEPLOYMENT, bytes, description: 'bench: mlp fixture' });
    const second = await client.pushVersion({ model: DEPLOYMENT, bytes, description: 'bench: the same bytes again' });
    await client.createDeployment({
      name: DEPLOYMENT,
      routes: [{ version: first.version, weight: 100 }],
      serving: servingOf(options.settings),
    });
    await client.waitConverged(DEPLOYMENT, { timeoutMs: SWAP_TIMEOUT_MS });
    return { server, client, versions: [first.version, second.version] };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** How one swap went, on the orchestrator's clock. */
interface SwapTiming {
  readonly startMs: number;
  readonly convergedMs: number;
  readonly outcome: SwapRecord['outcome'];
  readonly reason?: string;
  readonly endedAtPercent?: number;
  readonly lastWindow?: CanaryWindowSeen;
}

/** The replica's window of the running canary's step, from a status reply. */
function windowSeen(status: DeploymentStatusReply): CanaryWindowSeen | undefined {
  const replica = status.replica as Partial<DeploymentStatus> | null;
  const window = replica?.canary;
  const canary = status.canary ?? undefined;
  if (window === undefined || canary === undefined || canary.status !== 'running') return undefined;
  const step = Number(window.key.split(':').pop());
  return {
    percent: canary.policy.steps[step] ?? Number.NaN,
    canary: { requests: window.canary.requests, p99Ms: window.canary.p99Ms },
    stable: { requests: window.stable.requests, p99Ms: window.stable.p99Ms },
  };
}

/** Starts a rollout and polls the replica's status until it serves the result. */
export async function swap(client: ApiClient, rollout: { strategy: SwapStrategy; to: number }): Promise<SwapTiming> {
  const startMs = nowMs();
  const request =
    rollout.strategy === 'blue-green'
      ? { strategy: 'blue-green', version: rollout.to }
      : { strategy: 'canary', version: rollout.to, canary: FAST_CANARY };
  const started = await client.rollout({ name: DEPLOYMENT, request });
  const canaryId = rollout.strategy === 'canary' ? started.state.canary?.id : undefined;
  let lastWindow: CanaryWindowSeen | undefined;
  for (;;) {
    const status: DeploymentStatusReply = await client.deploymentStatus(DEPLOYMENT);
    const convergedMs = nowMs();
    const canary = status.canary ?? undefined;
    if (canary?.id === canaryId) lastWindow = windowSeen(status) ?? lastWindow;
    const canaryEnded = canaryId === undefined || (canary?.id === canaryId && canary.status !== 'running');
    if (status.converged && canaryEnded) {
      if (canaryId === undefined || canary === undefined) return { startMs, convergedMs, outcome: 'switched' };
      return {
        startMs,
        convergedMs,
        outcome: canary.status === 'promoted' ? 'promoted' : canary.status === 'aborted' ? 'aborted' : 'rolled_back',
        ...(canary.reason !== undefined && { reason: canary.reason }),
        endedAtPercent: canary.policy.steps[canary.step] ?? Number.NaN,
        ...(lastWindow !== undefined && { lastWindow }),
      };
    }
    if (convergedMs - startMs > SWAP_TIMEOUT_MS) {
      return { startMs, convergedMs, outcome: 'timeout', reason: `not converged: ${JSON.stringify(status)}` };
    }
    await sleep(POLL_MS);
  }
}

/** Requests whose [start, end] overlaps one of `windows` (or lies inside them, with `inside`). */
function select(
  entries: readonly TimelineEntry[],
  windows: readonly { from: number; to: number }[],
  inside = false,
): TimelineEntry[] {
  return entries.filter((e) => {
    const end = e.startMs + e.latencyMs;
    return windows.some((w) => (inside ? e.startMs >= w.from && end <= w.to : e.startMs <= w.to && end >= w.from));
  });
}

/** p99 of the 200s of each `sliceMs` slice of the windows (by request start), median and max over slices. */
function sliceP99(
  entries: readonly TimelineEntry[],
  windows: readonly { from: number; to: number }[],
): RolloutWindow['sliceP99'] {
  const p99s: number[] = [];
  for (const w of windows) {
    for (let from = w.from; from + SLICE_MS <= w.to; from += SLICE_MS) {
      const slice = entries.filter((e) => e.status === 200 && e.startMs >= from && e.startMs < from + SLICE_MS);
      if (slice.length > 0) p99s.push(figuresOf(slice, 1).latency.p99);
    }
  }
  p99s.sort((a, b) => a - b);
  return { median: p99s[Math.floor(p99s.length / 2)] ?? Number.NaN, max: p99s[p99s.length - 1] ?? Number.NaN };
}

function figuresOf(
  entries: readonly TimelineEntry[],
  seconds: number,
): Omit<RolloutWindow, 'cpu' | 'foreignCpuPercent' | 'sliceP99'> {
  const latencies = createLatencyRecorder();
  let failed = 0;
  for (const e of entries) {
    if (e.status === 200) latencies.record(e.latencyMs);
    else failed++;
  }
  const latency = latencies.summary();
  return { requests: entries.length, failed, seconds, throughput: latency.count / seconds, latency };
}

function failureKinds(entries: readonly TimelineEntry[]): RolloutFailureKind[] {
  const byStatus = new Map<number, number>();
  for (const e of entries) if (e.status !== 200) byStatus.set(e.status, (byStatus.get(e.status) ?? 0) + 1);
  return [...byStatus].map(([status, count]) => ({ status, count })).sort((a, b) => b.count - a.count);
}

/** Machine CPU not used by the server, the load generator or this process (% of one core). */
function foreign(options: { cpu: ReturnType<typeof cpuBetween>; loadCpuPercent: number; selfPercent: number }): number {
  const { cpu } = options;
  return Math.max(
    0,
    cpu.machinePercent - cpu.mainPercent - cpu.othersPercent - options.loadCpuPercent - options.selfPercent,
  );
}

/** This process's CPU between two readings (% of one core). */
function selfCpu(before: { usage: NodeJS.CpuUsage; at: number }): number {
  const used = process.cpuUsage(before.usage);
  const ms = performance.now() - before.at;
  return ms > 0 ? ((used.user + used.system) / 1000 / ms) * 100 : 0;
}

async function runSwapsUnderLoad(options: RunRolloutsOptions): Promise<Omit<RolloutResult, 'memory'>> {
  const { group, progress } = options;
  const quietWaitMs = await waitForQuiet({ limitPercent: FOREIGN_CPU_LIMIT_PERCENT, maxWaitMs: 15_000 });
  const { server, client, versions } = await startWithDeployment(options, 'swaps');
  const end = new AbortController();
  try {
    const timelinePath = join(options.workDir, 'swaps', 'requests.f64');
    let measuring: (() => void) | undefined;
    const measureStarted = new Promise<void>((resolve) => (measuring = resolve));
    const load = group.runJson<LoadResult>(
      'bench/load/rest-load.ts',
      [
        ...restLoadTarget(server.httpPort, DEPLOYMENT, options.request),
        '--concurrency',
        String(ROLLOUT_CONCURRENCY),
        '--warmup-ms',
        String(WARMUP_MS),
        '--duration-ms',
        String(MAX_RUN_MS),
        '--timeline',
        timelinePath,
      ],
      {
        timeoutMs: WARMUP_MS + MAX_RUN_MS + 60_000,
        end: end.signal,
        onLine: (line) => {
          if (line.includes('"measure-start"')) measuring?.();
        },
      },
    );
    await Promise.race([measureStarted, load]);

    progress.log(`rollouts: steady state for ${(options.steadyMs / 1000).toFixed(0)} s at c=${ROLLOUT_CONCURRENCY}`);
    const steady = { from: nowMs(), to: 0 };
    const cpu0 = cpuSnapshot(server.pid);
    const self0 = { usage: process.cpuUsage(), at: performance.now() };
    await sleep(options.steadyMs);
    steady.to = nowMs();
    const cpu1 = cpuSnapshot(server.pid);
    const steadySelf = selfCpu(self0);
    const self1 = { usage: process.cpuUsage(), at: performance.now() };

    const timings: (SwapTiming & { strategy: SwapStrategy; from: number; to: number })[] = [];
    let current = versions[0];
    for (let i = 0; i < options.swaps; i++) {
      const strategy: SwapStrategy = i % 2 === 0 ? 'blue-green' : 'canary';
      const to = current === versions[0] ? versions[1] : versions[0];
      const timing = await swap(client, { strategy, to });
      timings.push({ ...timing, strategy, from: current, to });
      progress.log(
        `rollouts: swap ${i + 1}/${options.swaps} ${strategy} v${current} → v${to}: ${timing.outcome} in ${(timing.convergedMs - timing.startMs).toFixed(0)} ms${timing.reason === undefined ? '' : ` (${timing.reason})`}`,
      );
      if (timing.outcome === 'switched' || timing.outcome === 'promoted') current = to;
      await sleep(SWAP_TAIL_MS);
      if (timing.outcome === 'timeout') break;
    }
    const cpu2: CpuSnapshot = cpuSnapshot(server.pid);
    const swapSelf = selfCpu(self1);
    end.abort();
    const result = await load;
    const entries = await readTimeline(timelinePath);

    const windows = timings.map((t) => ({ from: t.startMs, to: t.convergedMs + SWAP_TAIL_MS }));
    const swapSeconds = windows.reduce((sum, w) => sum + (w.to - w.from) / 1000, 0);
    const steadyCpu = cpuBetween(cpu0, cpu1);
    const swapCpu = cpuBetween(cpu1, cpu2);
    const swapEntries = select(entries, windows);
    const swaps: SwapRecord[] = timings.map((t, i) => {
      const window = windows[i] as { from: number; to: number };
      const own = figuresOf(select(entries, [window]), 1);
      const loading = figuresOf(select(entries, [{ from: window.from, to: t.convergedMs }]), 1);
      const after = figuresOf(select(entries, [{ from: t.convergedMs, to: window.to }]), 1);
      return {
        index: i + 1,
        strategy: t.strategy,
        from: t.from,
        to: t.to,
        outcome: t.outcome,
        ...(t.reason !== undefined && { reason: t.reason }),
        ...(t.endedAtPercent !== undefined && { endedAtPercent: t.endedAtPercent }),
        ...(t.lastWindow !== undefined && { lastWindow: t.lastWindow }),
        convergeMs: t.convergedMs - t.startMs,
        requests: own.requests,
        failed: own.failed,
        p99: own.latency.p99,
        max: own.latency.max,
        p99UntilConverged: loading.latency.p99,
        p99After: after.latency.p99,
      };
    });
    return {
      concurrency: ROLLOUT_CONCURRENCY,
      canary: FAST_CANARY,
      swapTailMs: SWAP_TAIL_MS,
      quietWaitMs,
      steady: {
        ...figuresOf(select(entries, [steady], true), (steady.to - steady.from) / 1000),
        cpu: steadyCpu,
        foreignCpuPercent: foreign({ cpu: steadyCpu, loadCpuPercent: result.cpuPercent, selfPercent: steadySelf }),
        sliceP99: sliceP99(entries, [steady]),
      },
      during: {
        ...figuresOf(swapEntries, swapSeconds),
        cpu: swapCpu,
        foreignCpuPercent: foreign({ cpu: swapCpu, loadCpuPercent: result.cpuPercent, selfPercent: swapSelf }),
        sliceP99: sliceP99(entries, windows),
      },
      swaps,
      total: { requests: entries.length, failed: entries.filter((e) => e.status !== 200).length },
      failures: failureKinds(entries),
      load: result,
    };
  } finally {
    end.abort();
    await server.stop();
  }
}

async function infer(server: StratumProcess, request: { body: Buffer; headers: Record<string, string> }) {
  const response = await fetch(`${server.httpUrl}/v2/models/${DEPLOYMENT}/infer`, { method: 'POST', ...request });
  const text = await response.text();
  if (!response.ok) throw new Error(`inference answered ${response.status}: ${text.slice(0, 300)}`);
}

/** The memory check: M blue-green switches on a fresh server, RSS before and after. */
async function runMemoryCycles(options: RunRolloutsOptions): Promise<RolloutMemory> {
  const { server, client, versions } = await startWithDeployment(options, 'memory');
  try {
    const request = {
      body: await readFile(options.request.path),
      headers: {
        'content-type': 'application/octet-stream',
        'inference-header-content-length': String(options.request.headerLength),
      },
    };
    const warm = async (): Promise<void> => {
      for (let i = 0; i < MEMORY_WARMUP_REQUESTS; i++) await infer(server, request);
      await sleep(SETTLE_MS);
    };
    await warm();
    const rssBefore = readRss(server.pid);
    const heapBefore = await scrapeHeap(server.httpUrl);
    options.progress.log(
      `rollouts: RSS ${(rssBefore / 2 ** 20).toFixed(1)} MiB after warm-up; ${options.cycles} blue-green load/unload cycles`,
    );
    const trace: { cycle: number; rss: number }[] = [{ cycle: 0, rss: rssBefore }];
    const externalTrace = [heapBefore.external];
    const every = Math.max(1, Math.floor(options.cycles / TRACE_POINTS));
    const started = performance.now();
    let current = versions[0];
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      const to = current === versions[0] ? versions[1] : versions[0];
      const timing = await swap(client, { strategy: 'blue-green', to });
      if (timing.outcome !== 'switched') throw new Error(`memory cycle ${cycle}: ${timing.outcome} ${timing.reason}`);
      current = to;
      for (let i = 0; i < REQUESTS_PER_CYCLE; i++) await infer(server, request);
      if (cycle % every === 0 || cycle === options.cycles) {
        trace.push({ cycle, rss: readRss(server.pid) });
        externalTrace.push((await scrapeHeap(server.httpUrl)).external);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    await warm();
    const rssAfter = readRss(server.pid);
    const heapAfter = await scrapeHeap(server.httpUrl);
    await sleep(LATE_READING_MS);
    const late = {
      afterMs: LATE_READING_MS,
      rss: readRss(server.pid),
      external: (await scrapeHeap(server.httpUrl)).external,
    };
    options.progress.log(
      `rollouts: RSS ${(rssAfter / 2 ** 20).toFixed(1)} MiB after ${options.cycles} cycles (${seconds.toFixed(1)} s), ${(late.rss / 2 ** 20).toFixed(1)} MiB ${LATE_READING_MS / 1000} s later`,
    );
    return {
      model: 'mlp',
      cycles: options.cycles,
      rssBefore,
      rssAfter,
      heapBefore,
      heapAfter,
      trace,
      externalTrace,
      late,
      seconds,
    };
  } finally {
    await server.stop();
  }
}

/** Runs the phase: swaps under load on one server, then the memory cycles on a fresh one. */
export async function runRollouts(options: RunRolloutsOptions): Promise<RolloutResult> {
  const swaps = await runSwapsUnderLoad(options);
  const memory = options.cycles > 0 ? await runMemoryCycles(options) : undefined;
  return { ...swaps, ...(memory !== undefined && { memory }) };
}
