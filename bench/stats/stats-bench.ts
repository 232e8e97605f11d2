/**
 * `npm run bench -- --only stats`: what the dashboard's serving statistics cost. For 1, 10 and 50
 * model versions with traffic on two protocols, the median time of one sample (read the request
 * counter and latency histogram, keep the deltas) against one Prometheus scrape of the same
 * registry (`render()`, the reference measured in the same run), and the time to answer the stats
 * route from a full ring (360 samples per version → points, per version and summed). The sampler
 * runs every 5 s off the inference path; these say what it takes from the event loop.
 */
import { createServingMetrics } from '../../src/monitor/serving-metrics.ts';
import { createServingStats } from '../../src/monitor/serving-stats.ts';
import { pointOf, sumSamples } from '../../src/monitor/stats-points.ts';
import type { Progress } from '../progress.ts';

/** One row: a number of versions. */
export interface StatsBenchRow {
  readonly versions: number;
  readonly rounds: number;
  readonly sampleMs: number;
  readonly scrapeMs: number;
  readonly replyMs: number;
}

const CAPACITY = 360;

/** Runs the measurement. */
export async function runStatsBench(options: { progress: Progress; quick: boolean }): Promise<StatsBenchRow[]> {
  const rounds = options.quick ? 20 : 60;
  const rows: StatsBenchRow[] = [];
  for (const versions of [1, 10, 50]) {
    options.progress.log(`stats: ${versions} versions`);
    const metrics = createServingMetrics();
    let clock = 0;
    const stats = createServingStats({
      registry: metrics.registry,
      intervalMs: 0,
      capacity: CAPACITY,
      now: () => (clock += 5000),
    });
    const bound = Array.from({ length: versions }, (_, i) => metrics.forVersion('bench', String(i + 1)));
    const traffic = (): void => {
      for (const v of bound) {
        for (let i = 0; i < 20; i++) v.success(i % 2 === 0 ? 'rest' : 'grpc', 0.0005 + (i % 7) * 0.002);
        v.failure('rest', 'BAD_REQUEST');
      }
    };
    const sample: number[] = [];
    const scrape: number[] = [];
    // Interleaved, so load from other work on the machine hits both alike.
    for (let round = 0; round < rounds; round++) {
      traffic();
      sample.push(await timed(() => stats.sample()));
      scrape.push(await timed(() => metrics.render()));
    }
    // Fill the ring, then time the route's work on it.
    while ((stats.forModel('bench')[0]?.samples.length ?? 0) < CAPACITY) {
      traffic();
      await stats.sample();
    }
    const reply: number[] = [];
    for (let round = 0; round < Math.min(rounds, 20); round++) {
      reply.push(
        await timed(async () => {
          const bounds = stats.bounds();
          const all = stats.forModel('bench');
          const total = sumSamples(all.map((v) => v.samples)).map((s) => pointOf(s, bounds));
          const byVersion = all.map((v) => v.samples.map((s) => pointOf(s, bounds)));
          return JSON.stringify({ total, byVersion }).length;
        }),
      );
    }
    stats.close();
    rows.push({ versions, rounds, sampleMs: median(sample), scrapeMs: median(scrape), replyMs: median(reply) });
  }
  return rows;
}

/** The report's table. */
export function renderStatsBench(rows: readonly StatsBenchRow[]): string {
  const lines = [
    '## Serving statistics for the dashboard: sampling against a Prometheus scrape',
    '',
    'Medians. `sample` = one tick of the sampler (every 5 s); `scrape` = one `/metrics` render of the same registry (reference); `reply` = the stats route on a full ring (360 samples per version, JSON included).',
    '',
    '| versions | rounds | sample | scrape | sample / scrape | reply (full ring) |',
    '|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.versions} | ${r.rounds} | ${r.sampleMs.toFixed(3)} ms | ${r.scrapeMs.toFixed(3)} ms | ${(r.sampleMs / r.scrapeMs).toFixed(2)} | ${r.replyMs.toFixed(2)} ms |`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
