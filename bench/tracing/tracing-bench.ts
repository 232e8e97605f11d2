/**
 * `npm run bench -- --only tracing`: what OpenTelemetry tracing and the inference log cost serving
 * throughput. One Stratum process per configuration (mlp, REST binary requests, closed loop at
 * concurrency 64): off; tracing at 1% and 100% of new traces with no exporter (spans are
 * sampled, propagated and recorded but not built for export, as nothing would read them); tracing
 * at 100% exported over OTLP/HTTP (protobuf) to a stand-in collector in this process
 * (`otlp-sink.ts`), which pays everything a real deployment pays on the server; and the inference
 * log at 1% and 100% (SQLite in a temporary folder). Configurations alternate over rounds so that a change
 * in the machine's load hits all of them; each is reported as throughput against "off" measured in
 * the same run (targets: ≤ 5% overhead at 1%, ≤ 15% at 100%).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import type { LoadResult } from '../load/load-result.ts';
import type { ProcessGroup } from '../process/process-group.ts';
import type { Progress } from '../progress.ts';
import { startStratum } from '../stratum/stratum-process.ts';
import { startOtlpSink } from './otlp-sink.ts';
import { restLoadTarget, writeRequests } from '../workload.ts';

const CONCURRENCY = 64;

/** One configuration: its name and the environment that sets it. */
interface Variant {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
}

const VARIANTS: readonly Variant[] = [
  { name: 'off', env: {} },
  { name: 'tracing 1%', env: { STRATUM_TRACING: 'true', STRATUM_TRACING_SAMPLE_RATE: '0.01' } },
  { name: 'tracing 100%', env: { STRATUM_TRACING: 'true', STRATUM_TRACING_SAMPLE_RATE: '1' } },
  // The endpoint is the stand-in collector's, filled in when the phase starts it.
  {
    name: 'tracing 100% → OTLP',
    env: { STRATUM_TRACING: 'true', STRATUM_TRACING_SAMPLE_RATE: '1', STRATUM_OTLP_ENDPOINT: '' },
  },
  { name: 'inference log 1%', env: { STRATUM_INFERENCE_LOG_SAMPLE_RATE: '0.01' } },
  { name: 'inference log 100%', env: { STRATUM_INFERENCE_LOG_SAMPLE_RATE: '1' } },
];

/** One configuration's runs. */
export interface TracingBenchRow {
  readonly name: string;
  readonly runs: readonly LoadResult[];
}

/** What the phase measured. */
export interface TracingBenchResult {
  readonly rows: readonly TracingBenchRow[];
  /** Spans the stand-in collector received per request answered by the OTLP configuration (warm-up included). */
  readonly otlpSpansPerRequest: number;
  readonly durationMs: number;
  readonly rounds: number;
}

/** Options of {@link runTracingBench}. */
export interface TracingBenchOptions {
  readonly group: ProcessGroup;
  readonly progress: Progress;
  readonly workDir: string;
  readonly quick: boolean;
}

/** Runs the phase. */
export async function runTracingBench(options: TracingBenchOptions): Promise<TracingBenchResult> {
  const { group, progress, workDir } = options;
  const repoDir = join(workDir, 'models');
  await mkdir(workDir, { recursive: true });
  await writeFixtureRepository({ dir: repoDir, only: ['mlp'] });
  const body = (await writeRequests(workDir, 'mlp')).binary;
  const warmupMs = 1000;
  // Short runs, many rounds: adjacent 5 s runs of one configuration on these VMs differed by up
  // to 30%, so each round's figures are compared with that round's "off" and the report takes the
  // median of those ratios. The order rotates each round, so no configuration always follows
  // another.
  const durationMs = options.quick ? 2500 : 3000;
  const rounds = options.quick ? 1 : 5;
  const runs = new Map<string, LoadResult[]>(VARIANTS.map((v) => [v.name, []]));
  const sink = await startOtlpSink();
  let otlpRequests = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length] as Variant);
      for (const variant of order) {
        const server = await startStratum({
          group,
          repoDir,
          models: ['mlp'],
          settings: { label: 'w2/t1', workers: 2, intraOpThreads: 1 },
          env: {
            ...process.env,
            STRATUM_DATABASE_URL: `sqlite:${join(workDir, `log-${round}-${variant.name.replace(/\W+/g, '-')}.db`)}`,
            ...variant.env,
            ...(variant.env['STRATUM_OTLP_ENDPOINT'] !== undefined && { STRATUM_OTLP_ENDPOINT: sink.url }),
          },
        });
        try {
          const args = [
            ...restLoadTarget(server.httpPort, 'mlp', body),
            '--concurrency',
            String(CONCURRENCY),
            '--warmup-ms',
            String(warmupMs),
            '--duration-ms',
            String(durationMs),
          ];
          const result = await group.runJson<LoadResult>('bench/load/rest-load.ts', args, {
            timeoutMs: warmupMs + durationMs + 60_000,
          });
          runs.get(variant.name)?.push(result);
          if (variant.env['STRATUM_OTLP_ENDPOINT'] !== undefined)
            otlpRequests += (result.throughput * (warmupMs + durationMs)) / 1000;
          progress.log(
            `tracing: ${variant.name.padEnd(20)} ${result.throughput.toFixed(0)} req/s  p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} ms  errors ${result.errors}`,
          );
        } finally {
          await server.stop();
        }
      }
    }
  } finally {
    await sink.close();
  }
  return {
    rows: VARIANTS.map((v) => ({ name: v.name, runs: runs.get(v.name) ?? [] })),
    otlpSpansPerRequest: sink.counts().spans / otlpRequests,
    durationMs,
    rounds,
  };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Each round's throughput of `row` over the same round's "off". */
export function pairedRatios(row: TracingBenchRow, off: TracingBenchRow): number[] {
  return row.runs.flatMap((run, round) => {
    const base = off.runs[round]?.throughput;
    return base === undefined || base <= 0 ? [] : [run.throughput / base];
  });
}

/** The phase's Markdown section. */
export function renderTracingBench(result: TracingBenchResult): string {
  const off = result.rows.find((r) => r.name === 'off');
  const lines = [
    `mlp, REST binary, concurrency ${CONCURRENCY}, ${result.rounds} round(s) of ${result.durationMs / 1000} s per configuration, the order rotating each round; workers 2, intra-op threads 1. "vs off" is the median over rounds of the configuration's req/s over that round's "off" (range in brackets).`,
    '',
    '| configuration | req/s (mean) | vs off (median) | range | overhead | p50 ms | p99 ms | target |',
    '| --- | ---: | ---: | --- | ---: | ---: | ---: | --- |',
  ];
  for (const row of result.rows) {
    const ratios = off === undefined ? [] : pairedRatios(row, off);
    const ratio = median(ratios);
    const range = ratios.length === 0 ? '' : `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
    const target = row.name === 'off' ? '' : row.name.includes('100%') ? '≤ 15%' : '≤ 5%';
    lines.push(
      `| ${row.name} | ${mean(row.runs.map((r) => r.throughput)).toFixed(0)} | ${ratio.toFixed(3)} | ${range} | ${((1 - ratio) * 100).toFixed(1)}% | ${mean(row.runs.map((r) => r.latency.p50)).toFixed(2)} | ${mean(row.runs.map((r) => r.latency.p99)).toFixed(2)} | ${target} |`,
    );
  }
  lines.push(
    '',
    `The stand-in collector received ≈ ${result.otlpSpansPerRequest.toFixed(2)} spans per request of the OTLP configuration (server, \`stratum.infer\` and queue spans per request, one run span per batch; warm-up included, counted at the measured rate).`,
  );
  return `${lines.join('\n')}\n`;
}
