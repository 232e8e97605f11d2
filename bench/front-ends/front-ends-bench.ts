/**
 * `npm run bench -- --only front-ends`: the HTTP front end on one event loop against N front-end
 * processes (`--front-ends 0, 1, 2`), same models, same load generator, same run. For each cell it
 * reports throughput, latency, the mean batch the batcher formed (does batching stay effective
 * when requests arrive through several processes?), and where the CPU went: the server's event
 * loop, its session workers, the front-end processes, per request; from those, the throughput a
 * machine with more cores could expect.
 *
 * Models: the bench's MLP (784→512→512→10) and the wide MLP of the peers phase
 * (784→1024→1024→10, the "larger MLP"); batch-1 requests of 784 FP32 numbers, JSON and
 * the binary extension, at concurrency 64 (and 1: what the extra hop costs). Variants alternate
 * within each round so a change in the machine's load lands on all of them.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { buildMlp } from '../../src/onnx/fixtures/mlp.ts';
import { writeFixtureRepository } from '../../src/onnx/fixture-repository.ts';
import type { LoadEvent, LoadResult } from '../load/load-result.ts';
import type { ProcessGroup } from '../process/process-group.ts';
import { type TreeCpuSnapshot, treeCpuSnapshot } from '../process/proc-stats.ts';
import type { Progress } from '../progress.ts';
import { batchDelta, type BatchSnapshot, scrapeBatches } from '../stratum/server-metrics.ts';
import { startStratum } from '../stratum/stratum-process.ts';
import { restLoadTarget, writeRequests } from '../workload.ts';

const WIDE_MODEL = 'mlp_wide';
const MODELS = ['mlp', WIDE_MODEL] as const;
const VARIANTS = [0, 1, 2] as const;

/** One measured window. */
export interface FrontEndCell {
  readonly model: string;
  readonly protocol: 'json' | 'binary';
  readonly concurrency: number;
  readonly frontEnds: number;
  readonly round: number;
  readonly result: LoadResult;
  readonly meanBatch: number;
  /** CPU over the window, % of one core. */
  readonly cpu: { readonly main: number; readonly workers: number; readonly frontEnds: number };
  /** Resident memory at the end of the window, MiB: the server, and its front ends together. */
  readonly rssMiB: { readonly server: number; readonly frontEnds: number };
}

/** What the phase measured. */
export interface FrontEndsBenchResult {
  readonly cells: readonly FrontEndCell[];
  readonly rounds: number;
  readonly durationMs: number;
  readonly cores: number;
}

/** Options of {@link runFrontEndsBench}. */
export interface FrontEndsBenchOptions {
  readonly group: ProcessGroup;
  readonly progress: Progress;
  readonly workDir: string;
  readonly quick: boolean;
  readonly cores: number;
}

/** Runs the phase. */
export async function runFrontEndsBench(options: FrontEndsBenchOptions): Promise<FrontEndsBenchResult> {
  const { group, progress, workDir } = options;
  const repoDir = join(workDir, 'models');
  await writeFixtureRepository({ dir: repoDir, only: ['mlp'] });
  await mkdir(join(repoDir, WIDE_MODEL, '1'), { recursive: true });
  await writeFile(join(repoDir, WIDE_MODEL, '1', 'model.onnx'), buildMlp({ hidden: 1024 }));
  const requests = await writeRequests(workDir, 'mlp');
  const warmupMs = options.quick ? 500 : 1000;
  const durationMs = options.quick ? 2000 : 4000;
  const rounds = options.quick ? 1 : 2;
  const shapes = [
    { protocol: 'json', concurrency: 64 },
    { protocol: 'binary', concurrency: 64 },
    { protocol: 'json', concurrency: 1 },
  ] as const;
  const cells: FrontEndCell[] = [];
  for (let round = 0; round < rounds; round++) {
    for (const frontEnds of round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
      const server = await startStratum({
        group,
        repoDir,
        models: MODELS as unknown as never[],
        settings: { label: `fe${frontEnds}`, workers: options.cores, intraOpThreads: 1, frontEnds },
      });
      try {
        for (const model of MODELS) {
          for (const shape of shapes) {
            const file = requests[shape.protocol];
            let cpuStart: TreeCpuSnapshot | undefined;
            let cpuEnd: TreeCpuSnapshot | undefined;
            let batchesStart: Promise<BatchSnapshot> | undefined;
            let batchesEnd: Promise<BatchSnapshot> | undefined;
            const result = await group.runJson<LoadResult>(
              'bench/load/rest-load.ts',
              [
                ...restLoadTarget(server.httpPort, model, file),
                '--concurrency',
                String(shape.concurrency),
                '--warmup-ms',
                String(warmupMs),
                '--duration-ms',
                String(durationMs),
              ],
              {
                timeoutMs: warmupMs + durationMs + 60_000,
                onLine: (line) => {
                  if (!line.startsWith('{"event"')) return;
                  const { event } = JSON.parse(line) as LoadEvent;
                  if (event === 'measure-start') {
                    cpuStart = treeCpuSnapshot(server.pid);
                    batchesStart = scrapeBatches(server.httpUrl);
                  } else {
                    cpuEnd = treeCpuSnapshot(server.pid);
                    batchesEnd = scrapeBatches(server.httpUrl);
                  }
                },
              },
            );
            const before =
              cpuStart === undefined || batchesStart === undefined
                ? undefined
                : { cpu: cpuStart, batches: await batchesStart };
            const after =
              cpuEnd === undefined || batchesEnd === undefined ? undefined : { cpu: cpuEnd, batches: await batchesEnd };
            const seconds = before !== undefined && after !== undefined ? (after.cpu.at - before.cpu.at) / 1000 : NaN;
            const pct = (pick: (s: TreeCpuSnapshot) => number) =>
              before === undefined || after === undefined
                ? NaN
                : ((pick(after.cpu) - pick(before.cpu)) / seconds) * 100;
            const meanBatch =
              before === undefined || after === undefined
                ? NaN
                : batchDelta(before.batches, after.batches, model).meanBatch;
            const cell: FrontEndCell = {
              model,
              protocol: shape.protocol,
              concurrency: shape.concurrency,
              frontEnds,
              round,
              result,
              meanBatch,
              cpu: { main: pct((s) => s.main), workers: pct((s) => s.others), frontEnds: pct((s) => s.children) },
              rssMiB: { server: (cpuEnd?.rss ?? NaN) / 2 ** 20, frontEnds: (cpuEnd?.childrenRss ?? NaN) / 2 ** 20 },
            };
            cells.push(cell);
            progress.log(
              `front-ends: fe=${frontEnds} ${model.padEnd(8)} ${shape.protocol.padEnd(6)} c=${String(shape.concurrency).padEnd(2)} ${result.throughput.toFixed(0)} req/s  p50 ${result.latency.p50.toFixed(2)} p99 ${result.latency.p99.toFixed(2)} ms  batch ${meanBatch.toFixed(1)}  cpu main ${cell.cpu.main.toFixed(0)}% workers ${cell.cpu.workers.toFixed(0)}% front ends ${cell.cpu.frontEnds.toFixed(0)}%  errors ${result.errors}`,
            );
          }
        }
      } finally {
        await server.stop();
      }
    }
  }
  return { cells, rounds, durationMs, cores: options.cores };
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** The phase's Markdown section. */
export function renderFrontEndsBench(result: FrontEndsBenchResult): string {
  const lines = [
    `Server: \`stratum serve --workers ${result.cores} --intra-op-threads 1 --front-ends N\`, registry off; ${result.rounds} round(s) of ${result.durationMs / 1000} s per cell, variants alternating. CPU is % of one core over the window: the server's event loop, its other threads (session workers, onnxruntime, GC), and the front-end processes together. µs/req: CPU time per answered request.`,
    '',
    '| model | protocol | c | front ends | req/s | vs 0 | p50 ms | p99 ms | mean batch | CPU loop / workers / front ends % | µs/req loop / workers / front ends | RSS MiB server / front ends |',
    '| --- | --- | --: | --: | --: | --: | --: | --: | --: | --- | --- | --- |',
  ];
  const groups = new Map<string, FrontEndCell[]>();
  for (const cell of result.cells) {
    const key = `${cell.model}|${cell.protocol}|${cell.concurrency}|${cell.frontEnds}`;
    groups.set(key, [...(groups.get(key) ?? []), cell]);
  }
  const throughputOf = (cells: readonly FrontEndCell[]) => mean(cells.map((c) => c.result.throughput));
  for (const [key, cells] of groups) {
    const [model, protocol, concurrency, frontEnds] = key.split('|');
    const base = groups.get(`${model}|${protocol}|${concurrency}|0`) ?? [];
    const t = throughputOf(cells);
    const cpu = {
      main: mean(cells.map((c) => c.cpu.main)),
      workers: mean(cells.map((c) => c.cpu.workers)),
      frontEnds: mean(cells.map((c) => c.cpu.frontEnds)),
    };
    const perRequest = (percent: number) => ((percent / 100) * 1e6) / t;
    lines.push(
      `| ${model} | ${protocol} | ${concurrency} | ${frontEnds} | ${t.toFixed(0)} | ${(t / throughputOf(base)).toFixed(2)}× | ${mean(cells.map((c) => c.result.latency.p50)).toFixed(2)} | ${mean(cells.map((c) => c.result.latency.p99)).toFixed(2)} | ${mean(cells.map((c) => c.meanBatch)).toFixed(1)} | ${cpu.main.toFixed(0)} / ${cpu.workers.toFixed(0)} / ${cpu.frontEnds.toFixed(0)} | ${perRequest(cpu.main).toFixed(0)} / ${perRequest(cpu.workers).toFixed(0)} / ${perRequest(cpu.frontEnds).toFixed(0)} | ${mean(cells.map((c) => c.rssMiB.server)).toFixed(0)} / ${mean(cells.map((c) => c.rssMiB.frontEnds)).toFixed(0)} |`,
    );
  }
  lines.push('', ...scaling(groups));
  return `${lines.join('\n')}\n`;
}

/**
 * The expected scaling to N cores, from the µs per request each part spent with 2 front ends at
 * c=64: the server's loop is one thread (its µs/req caps throughput at 1e6 / loop µs whatever the
 * cores), and the rest (front ends, workers) spreads over the cores left.
 */
function scaling(groups: ReadonlyMap<string, readonly FrontEndCell[]>): string[] {
  const out = [
    "Expected throughput on N cores, from this run's CPU per request with 2 front ends at c=64 (the load generator excluded): the server's loop caps it at 1e6 / loop µs; the front ends and session workers share the other cores: min(1e6 / loop, (N − loop share) × 1e6 / (front ends + workers)).",
    '',
    '| model | protocol | loop µs/req | front ends µs/req | workers µs/req | cap from the loop | 4 cores | 16 cores | 64 cores |',
    '| --- | --- | --: | --: | --: | --: | --: | --: | --: |',
  ];
  for (const [key, cells] of groups) {
    const [model, protocol, concurrency, frontEnds] = key.split('|');
    if (concurrency !== '64' || frontEnds !== '2') continue;
    const t = mean(cells.map((c) => c.result.throughput));
    const us = (pick: (c: FrontEndCell) => number) => ((mean(cells.map(pick)) / 100) * 1e6) / t;
    const loop = us((c) => c.cpu.main);
    const rest = us((c) => c.cpu.frontEnds) + us((c) => c.cpu.workers);
    const cap = 1e6 / loop;
    const at = (n: number) => Math.min(cap, ((n - 1) * 1e6) / rest);
    out.push(
      `| ${model} | ${protocol} | ${loop.toFixed(0)} | ${us((c) => c.cpu.frontEnds).toFixed(0)} | ${us((c) => c.cpu.workers).toFixed(0)} | ${cap.toFixed(0)} | ${at(4).toFixed(0)} | ${at(16).toFixed(0)} | ${at(64).toFixed(0)} |`,
    );
  }
  return out;
}
