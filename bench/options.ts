/**
 * The bench's command-line flags, parsed and checked once into a frozen options object.
 *
 *   npm run bench -- [--quick] [--only mlp,cnn | --only <phase>] [--protocols json,binary,grpc]
 *     [--concurrency 1,8,64,256] [--warmup-ms 1000] [--duration-ms 3000]
 *     [--workers N --intra-op-threads N [--max-queue-delay-us N]]   (fixed settings, no sweep)
 *     [--no-sweep] [--skip transport,naive,ceiling,memory,rollouts] [--memory-cycles 100]
 *     [--rollout-swaps 20] [--rollout-cycles 50] [--steady-ms 10000]
 *     [--naive-intra-op-threads N] [--c1-repeats 3] [--sweep-rounds 2] [--out bench/results/latest.md] [--verbose]
 *
 * `--only` takes models (the serving matrix on those alone) or one phase that runs alone, without
 * the sweep: `rollouts` (the registry rollouts phase, on mlp), `training` (bench/training),
 * `startup` (bench/startup), `async` (online p99 beside asynchronous inference, bench/async),
 * `queue` (the job queue, bench/queue), `batch` (batch inference, bench/batch), `tuning`
 * (bench/tuning), `distributed` (GBDT across processes through Redis), `artifacts` (artifact load
 * time, encrypted vs plain), `json-reader` (JSON tensor decoding), `audit` (the audit log), `stats`
 * (the dashboard's serving statistics against a Prometheus scrape), `explain` or `treeshap`
 * (TreeSHAP against shap's TreeExplainer), `drift` (drift beside SciPy), `cards` (DP-SGD and
 * permutation importance), `tracing` (tracing and inference-log overhead), `auth`
 * (authentication cost), `peers` (Stratum beside FastAPI + onnxruntime and Ray Serve) and
 * `front-ends` (one event loop against N front-end processes).
 */
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { BENCH_MODELS, type BenchModel, PROTOCOLS, type Protocol } from './workload.ts';

/** Optional parts of the bench that `--skip` can leave out. */
export const SKIPPABLE = Object.freeze([
  'sweep',
  'transport',
  'naive',
  'ceiling',
  'memory',
  'rollouts',
  'training',
  'startup',
] as const);
/** A skippable part. */
export type Skippable = (typeof SKIPPABLE)[number];

/** The parsed flags. */
export interface BenchOptions {
  readonly quick: boolean;
  /** `--only rollouts`: run the rollouts phase and nothing else. */
  readonly onlyRollouts: boolean;
  /** `--only training`: run the training comparison and nothing else. */
  readonly onlyTraining: boolean;
  /** `--only startup`: run the start-up comparison and nothing else. */
  readonly onlyStartup: boolean;
  /** `--only async`: online p99 with and without concurrent asynchronous inference (bench/async), alone. */
  readonly onlyAsync: boolean;
  /** `--only queue`: the job queue comparison (bench/queue) alone. */
  readonly onlyQueue: boolean;
  /** `--only batch`: run the batch-inference benchmark and nothing else. */
  readonly onlyBatch: boolean;
  /** `--only tuning`: run the tuning benchmark and nothing else. */
  readonly onlyTuning: boolean;
  /** `--only distributed`: GBDT on 1 vs 2 processes through Redis, and nothing else. */
  readonly onlyDistributed: boolean;
  /** `--only artifacts`: artifact load time from an encrypted store against a plain one, and nothing else. */
  readonly onlyArtifacts: boolean;
  /** `--only json-reader`: decoding FP32 JSON bodies, the tensor-aware reader against JSON.parse (bench/json-reader). */
  readonly onlyJsonReader: boolean;
  /** `--only audit`: audit-log appends against a metadata write, and the verifier (bench/audit), alone. */
  readonly onlyAudit: boolean;
  /** `--only stats`: the cost of the dashboard's serving statistics (bench/stats), and nothing else. */
  readonly onlyStats: boolean;
  /** `--only explain`: TreeSHAP time against shap's TreeExplainer on the same trees, and nothing else. */
  readonly onlyExplain: boolean;
  /** `--only drift`: drift computation against SciPy's implementations of the same tests, and nothing else. */
  readonly onlyDrift: boolean;
  /** `--only cards`: DP-SGD against ordinary training, and the card's permutation importance (bench/cards), alone. */
  readonly onlyCards: boolean;
  /** `--only tracing`: serving throughput with tracing and the inference log off, at 1% and at 100% (bench/tracing). */
  readonly onlyTracing: boolean;
  /** `--only auth`: serving throughput with authentication off, an API key and a JWT, and nothing else. */
  readonly onlyAuth: boolean;
  /** `--only peers`: Stratum beside FastAPI + onnxruntime and Ray Serve on the same ONNX files (bench/peers), alone. */
  readonly onlyPeers: boolean;
  /** `--only front-ends`: the HTTP front end on one loop against N front-end processes (bench/front-ends), alone. */
  readonly onlyFrontEnds: boolean;
  readonly models: readonly BenchModel[];
  readonly protocols: readonly Protocol[];
  readonly concurrencies: readonly number[];
  /** @default 1000 (quick: 500) */
  readonly warmupMs: number;
  /** @default 2500 (quick: 1500) */
  readonly durationMs: number;
  /** Runs of each concurrency-1 cell (median kept), each 40% of `durationMs` long. @default 3 (quick: 1) */
  readonly c1Repeats: number;
  /** Rounds of the settings sweep. @default 2 (quick: 1) */
  readonly sweepRounds: number;
  /** Fixed server settings from the flags; when set, the sweep is skipped. */
  readonly fixed?: {
    readonly workers: number;
    readonly intraOpThreads: number;
    readonly maxQueueDelayMicroseconds?: number;
  };
  readonly skip: ReadonlySet<Skippable>;
  /** @default 100 (quick: 20) */
  readonly memoryCycles: number;
  /** The rollouts phase (phases/rollouts.ts). */
  readonly rollouts: {
    /** Version swaps under load, alternating blue-green and canary. @default 20 (quick: 6) */
    readonly swaps: number;
    /** Blue-green load/unload cycles of the memory check. @default 50 (quick: 10) */
    readonly cycles: number;
    /** Steady-state window before the first swap (ms). @default 10000 (quick: 5000) */
    readonly steadyMs: number;
  };
  /** Intra-op threads of the naive server's sessions. @default the core count */
  readonly naiveIntraOpThreads: number;
  /** @default bench/results/latest.md */
  readonly out: string;
  readonly verbose: boolean;
}

function list<T extends string>(raw: string | undefined, allowed: readonly T[], flag: string): T[] | undefined {
  if (raw === undefined) return undefined;
  const items = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const item of items) {
    if (!allowed.includes(item as T))
      throw new Error(`${flag}: unknown value "${item}"; expected some of ${allowed.join(', ')}`);
  }
  return items as T[];
}

function positiveInt(raw: string | undefined, flag: string): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer, got "${raw}"`);
  return n;
}

/** Parses `argv` (without node and the script). */
export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      protocols: { type: 'string' },
      concurrency: { type: 'string' },
      'warmup-ms': { type: 'string' },
      'duration-ms': { type: 'string' },
      workers: { type: 'string' },
      'intra-op-threads': { type: 'string' },
      'max-queue-delay-us': { type: 'string' },
      'no-sweep': { type: 'boolean', default: false },
      skip: { type: 'string' },
      'memory-cycles': { type: 'string' },
      'rollout-swaps': { type: 'string' },
      'rollout-cycles': { type: 'string' },
      'steady-ms': { type: 'string' },
      'naive-intra-op-threads': { type: 'string' },
      'c1-repeats': { type: 'string' },
      'sweep-rounds': { type: 'string' },
      out: { type: 'string', default: 'bench/results/latest.md' },
      verbose: { type: 'boolean', default: false },
    },
    strict: true,
  });
  const quick = values.quick === true;
  const concurrencies =
    values.concurrency?.split(',').map((s) => positiveInt(s, '--concurrency') as number) ??
    (quick ? [1, 64] : [1, 8, 64, 256]);
  if (concurrencies.some((c) => c < 1)) throw new Error('--concurrency values must be ≥ 1');
  const workers = positiveInt(values.workers, '--workers');
  const intra = positiveInt(values['intra-op-threads'], '--intra-op-threads');
  const delay = positiveInt(values['max-queue-delay-us'], '--max-queue-delay-us');
  if ((workers === undefined) !== (intra === undefined))
    throw new Error('--workers and --intra-op-threads go together');
  const skip = new Set(list(values.skip, SKIPPABLE, '--skip') ?? []);
  if (values['no-sweep'] === true || workers !== undefined) skip.add('sweep');
  const only = list(
    values.only,
    [
      ...BENCH_MODELS,
      'rollouts',
      'training',
      'startup',
      'async',
      'queue',
      'batch',
      'tuning',
      'distributed',
      'artifacts',
      'json-reader',
      'audit',
      'stats',
      'explain',
      'treeshap',
      'drift',
      'cards',
      'tracing',
      'auth',
      'peers',
      'front-ends',
    ] as const,
    '--only',
  );
  /** A phase that runs alone: refused beside anything else. */
  const alone = (phase: string): boolean => {
    const on = only?.includes(phase as never) ?? false;
    if (on && only?.length !== 1) throw new Error(`--only ${phase} cannot be combined with anything else`);
    return on;
  };
  const onlyRollouts = only?.includes('rollouts') ?? false;
  if (onlyRollouts && only?.length !== 1) throw new Error('--only rollouts cannot be combined with models');
  if (onlyRollouts && skip.has('rollouts')) throw new Error('--only rollouts and --skip rollouts contradict');
  const onlyTraining = alone('training');
  if (onlyTraining && skip.has('training')) throw new Error('--only training and --skip training contradict');
  const onlyStartup = alone('startup');
  if (onlyStartup && skip.has('startup')) throw new Error('--only startup and --skip startup contradict');
  const onlyAsync = alone('async');
  const onlyQueue = alone('queue');
  const onlyBatch = alone('batch');
  const onlyTuning = alone('tuning');
  const onlyDistributed = alone('distributed');
  const onlyArtifacts = alone('artifacts');
  const onlyJsonReader = alone('json-reader');
  const onlyAudit = alone('audit');
  const onlyStats = alone('stats');
  // `treeshap` names the same phase (what the issue calls the figure).
  const onlyExplain = alone('explain') || alone('treeshap');
  const onlyDrift = alone('drift');
  const onlyCards = alone('cards');
  const onlyTracing = alone('tracing');
  const onlyAuth = alone('auth');
  const onlyPeers = alone('peers');
  const onlyFrontEnds = alone('front-ends');
  return Object.freeze({
    quick,
    onlyRollouts,
    onlyTraining,
    onlyStartup,
    onlyAsync,
    onlyQueue,
    onlyBatch,
    onlyTuning,
    onlyDistributed,
    onlyArtifacts,
    onlyJsonReader,
    onlyAudit,
    onlyStats,
    onlyExplain,
    onlyDrift,
    onlyCards,
    onlyTracing,
    onlyAuth,
    onlyPeers,
    onlyFrontEnds,
    models: onlyRollouts ? (['mlp'] as const) : ((only as BenchModel[] | undefined) ?? [...BENCH_MODELS]),
    protocols: list(values.protocols, PROTOCOLS, '--protocols') ?? [...PROTOCOLS],
    concurrencies,
    warmupMs: positiveInt(values['warmup-ms'], '--warmup-ms') ?? (quick ? 500 : 1000),
    durationMs: positiveInt(values['duration-ms'], '--duration-ms') ?? (quick ? 1500 : 2500),
    c1Repeats: Math.max(1, positiveInt(values['c1-repeats'], '--c1-repeats') ?? (quick ? 1 : 3)),
    sweepRounds: Math.max(1, positiveInt(values['sweep-rounds'], '--sweep-rounds') ?? (quick ? 1 : 2)),
    ...(workers !== undefined &&
      intra !== undefined && {
        fixed: { workers, intraOpThreads: intra, ...(delay !== undefined && { maxQueueDelayMicroseconds: delay }) },
      }),
    skip,
    memoryCycles: positiveInt(values['memory-cycles'], '--memory-cycles') ?? (quick ? 20 : 100),
    rollouts: {
      swaps: positiveInt(values['rollout-swaps'], '--rollout-swaps') ?? (quick ? 6 : 20),
      cycles: positiveInt(values['rollout-cycles'], '--rollout-cycles') ?? (quick ? 10 : 50),
      steadyMs: Math.max(1000, positiveInt(values['steady-ms'], '--steady-ms') ?? (quick ? 5000 : 10_000)),
    },
    naiveIntraOpThreads:
      positiveInt(values['naive-intra-op-threads'], '--naive-intra-op-threads') ?? availableParallelism(),
    out: values.out,
    verbose: values.verbose === true,
  });
}
