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
  /**
   * Spans the stand-in collector received from the OTLP configuration, against the spans its
   * servers made: three per successful request (server, `stratum.infer`, queue) and one per batch,
   * read from each server's own metrics before it stopped.
   */
  readonly otlpSpans: { readonly received: number; readonly made: number };
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
  let made = 0;
  try {
    // Round -1 is one discarded run of "off": in one run of three the first server measured 27%
    // below every later "off" (a cold machine), which skews that whole round's ratios.
    for (let round = options.quick ? 0 : -1; round < rounds; round++) {
      const order =
        round < 0 ? VARIANTS.slice(0, 1) : VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length] as Variant);
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
          progress.log(
            `tracing: ${variant.name.padEnd(20)} ${result.throughput.toFixed(0)} req/s  p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} ms  errors ${result.errors}${round < 0 ? '  (warm-up, discarded)' : ''}`,
          );
          if (round < 0) continue;
          runs.get(variant.name)?.push(result);
          if (variant.env['STRATUM_OTLP_ENDPOINT'] !== undefined) made += await spansMade(server.httpPort);
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
    otlpSpans: { received: sink.counts().spans, made },
    durationMs,
    rounds,
  };
}

/** Sum of a Prometheus counter's series in an exposition text. */
function counterSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith(`${name}{`) &&
      (name !== 'stratum_inference_requests_total' || line.includes('outcome="success"'))
    )
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** The spans a traced server made: three per successful inference request and one per batch. */
async function spansMade(httpPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  return 3 * counterSum(text, 'stratum_inference_requests_total') + counterSum(text, 'stratum_batch_size_count');
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
    `The stand-in collector received ${result.otlpSpans.received} spans from the OTLP configuration's servers, which made ${result.otlpSpans.made} (three per request, one per batch, from their own metrics).`,
  );
  return `${lines.join('\n')}\n`;
}
