/**
 * Memory: a fresh Stratum with the three fixtures loaded and warmed by real requests, its RSS,
 * then N sequential unload/load cycles of one model through the repository extension, the same
 * warm-up again, and the RSS after. Growth beyond noise means something a load leaves behind.
 */
import { readFile } from 'node:fs/promises';
import type { MemoryResult } from '../bench-results.ts';
import type { ProcessGroup } from '../process/process-group.ts';
import { readRss } from '../process/proc-stats.ts';
import type { Progress } from '../progress.ts';
import { scrapeHeap } from '../stratum/server-metrics.ts';
import { startStratum, type StratumProcess, type StratumSettings } from '../stratum/stratum-process.ts';
import type { BenchModel, ModelRequests } from '../workload.ts';

/** Requests sent to each model before each RSS reading. */
const WARMUP_REQUESTS = 200;
/** Idle time before an RSS reading, so freed memory has been returned. */
const SETTLE_MS = 1500;

/** Options of {@link runMemoryCheck}. */
export interface RunMemoryCheckOptions {
  readonly group: ProcessGroup;
  readonly progress: Progress;
  readonly repoDir: string;
  readonly models: readonly BenchModel[];
  readonly requests: ReadonlyMap<BenchModel, ModelRequests>;
  readonly settings: StratumSettings;
  readonly cycles: number;
}

async function post(url: string, init: { headers?: Record<string, string>; body?: Buffer } = {}): Promise<void> {
  const response = await fetch(url, { method: 'POST', ...init });
  await response.arrayBuffer();
  if (!response.ok) throw new Error(`POST ${url} answered ${response.status}`);
}

async function warm(server: StratumProcess, options: RunMemoryCheckOptions): Promise<void> {
  for (const model of options.models) {
    const file = (options.requests.get(model) as ModelRequests).binary;
    const body = await readFile(file.path);
    const headers = {
      'content-type': 'application/octet-stream',
      'inference-header-content-length': String(file.headerLength),
    };
    for (let i = 0; i < WARMUP_REQUESTS; i++)
      await post(`${server.httpUrl}/v2/models/${model}/infer`, { headers, body });
  }
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
}

/** Runs the check. */
export async function runMemoryCheck(options: RunMemoryCheckOptions): Promise<MemoryResult> {
  const model = options.models.includes('mlp') ? 'mlp' : (options.models[0] as BenchModel);
  const server = await startStratum({
    group: options.group,
    repoDir: options.repoDir,
    models: options.models,
    settings: options.settings,
  });
  try {
    await warm(server, options);
    const rssBefore = readRss(server.pid);
    const heapBefore = await scrapeHeap(server.httpUrl);
    options.progress.log(
      `memory: RSS ${(rssBefore / 2 ** 20).toFixed(1)} MiB after warm-up; ${options.cycles} unload/load cycles of ${model}`,
    );
    const trace: { cycle: number; rss: number }[] = [{ cycle: 0, rss: rssBefore }];
    const started = performance.now();
    const quarter = Math.max(1, Math.floor(options.cycles / 4));
    for (let cycle = 1; cycle <= options.cycles; cycle++) {
      await post(`${server.httpUrl}/v2/repository/models/${model}/unload`);
      await post(`${server.httpUrl}/v2/repository/models/${model}/load`);
      if (cycle % quarter === 0 || cycle === options.cycles) trace.push({ cycle, rss: readRss(server.pid) });
    }
    const seconds = (performance.now() - started) / 1000;
    await warm(server, options);
    const rssAfter = readRss(server.pid);
    const heapAfter = await scrapeHeap(server.httpUrl);
    options.progress.log(
      `memory: RSS ${(rssAfter / 2 ** 20).toFixed(1)} MiB after ${options.cycles} cycles (${seconds.toFixed(1)} s)`,
    );
    return { model, cycles: options.cycles, rssBefore, rssAfter, heapBefore, heapAfter, trace, seconds };
  } finally {
    await server.stop();
  }
}
