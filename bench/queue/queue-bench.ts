/**
 * `npm run bench -- --only queue`: no-op jobs per second through Stratum's BullMQ engine against
 * raw BullMQ on the same Redis (127.0.0.1:6379), same concurrency and job count, rounds
 * interleaved; and the embedded SQLite engine on a temporary file. Each run first queues N jobs
 * (timed as "submit"), then starts one worker and times the drain until every job is `completed`
 * (both sides poll their counts the same way, so the detection cost is shared).
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { dropBullmqQueue } from '../../src/queue/drop-bullmq-queue.ts';
import { openJobQueue } from '../../src/queue/open-job-queue.ts';
import type { JobQueue } from '../../src/queue/job-queue.ts';
import type { Progress } from '../progress.ts';

const REDIS_URL = 'redis://127.0.0.1:6379';
const POLL_MS = 20;
const SUBMIT_BATCH = 50;

/** One run of one engine. */
export interface QueueRun {
  readonly engine: 'raw-bullmq' | 'stratum-bullmq' | 'stratum-sqlite' | 'stratum-sqlite-normal';
  readonly round: number;
  readonly jobs: number;
  readonly submitPerSecond: number;
  readonly drainPerSecond: number;
  /**
   * CPU time of this process per job while draining (µs): Stratum's own cost beside BullMQ's, which
   * the machine's other load moves less than it moves the rates.
   */
  readonly drainCpuMicros: number;
}

/** What the queue bench measured. */
export interface QueueBenchResult {
  readonly concurrency: number;
  readonly runs: readonly QueueRun[];
}

const cpuMicros = (usage: NodeJS.CpuUsage): number => usage.user + usage.system;

async function until(done: () => Promise<boolean>): Promise<void> {
  while (!(await done())) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
}

async function rawBullmq(jobs: number, concurrency: number, round: number): Promise<QueueRun> {
  const name = `bench-raw-${randomUUID().slice(0, 8)}`;
  const queue = new Queue(name, { connection: { url: REDIS_URL }, prefix: 'stratum' });
  try {
    const submitStart = performance.now();
    for (let i = 0; i < jobs; i += SUBMIT_BATCH) {
      const batch = Array.from({ length: Math.min(SUBMIT_BATCH, jobs - i) }, (_, j) =>
        queue.add('noop', { payload: i + j }, { jobId: randomUUID(), attempts: 3, removeOnComplete: false }),
      );
      await Promise.all(batch);
    }
    const submitS = (performance.now() - submitStart) / 1000;
    const start = performance.now();
    const cpu = process.cpuUsage();
    const worker = new Worker(name, async () => null, {
      connection: { url: REDIS_URL, maxRetriesPerRequest: null },
      prefix: 'stratum',
      concurrency,
    });
    await until(async () => ((await queue.getJobCounts('completed')).completed ?? 0) >= jobs);
    const drainS = (performance.now() - start) / 1000;
    const drainCpuMicros = cpuMicros(process.cpuUsage(cpu)) / jobs;
    await worker.close();
    return {
      engine: 'raw-bullmq',
      round,
      jobs,
      submitPerSecond: jobs / submitS,
      drainPerSecond: jobs / drainS,
      drainCpuMicros,
    };
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  }
}

async function stratum(
  queue: JobQueue,
  options: { jobs: number; concurrency: number; round: number; engine: QueueRun['engine'] },
): Promise<QueueRun> {
  const { jobs, concurrency, round, engine } = options;
  const submitStart = performance.now();
  for (let i = 0; i < jobs; i += SUBMIT_BATCH) {
    const batch = Array.from({ length: Math.min(SUBMIT_BATCH, jobs - i) }, (_, j) =>
      queue.submit({ kind: 'noop', payload: i + j }),
    );
    await Promise.all(batch);
  }
  const submitS = (performance.now() - submitStart) / 1000;
  const start = performance.now();
  const cpu = process.cpuUsage();
  const worker = queue.work({ handler: async () => null, concurrency });
  await until(async () => (await queue.counts()).completed >= jobs);
  const drainS = (performance.now() - start) / 1000;
  const drainCpuMicros = cpuMicros(process.cpuUsage(cpu)) / jobs;
  await worker.close();
  return { engine, round, jobs, submitPerSecond: jobs / submitS, drainPerSecond: jobs / drainS, drainCpuMicros };
}

async function stratumBullmq(jobs: number, concurrency: number, round: number): Promise<QueueRun> {
  const name = `bench-stratum-${randomUUID().slice(0, 8)}`;
  const queue = await openJobQueue({ queueUrl: REDIS_URL, databaseUrl: 'sqlite::memory:', name });
  try {
    return await stratum(queue, { jobs, concurrency, round, engine: 'stratum-bullmq' });
  } finally {
    await queue.close();
    await dropBullmqQueue({ url: REDIS_URL, name });
  }
}

async function stratumSqlite(
  jobs: number,
  options: { concurrency: number; round: number; synchronous: 'full' | 'normal' },
): Promise<QueueRun> {
  const { concurrency, round, synchronous } = options;
  const dir = await mkdtemp(join(tmpdir(), 'stratum-queue-bench-'));
  const databaseUrl = `sqlite:${join(dir, 'bench.db')}`;
  const queue = await openJobQueue({ queueUrl: 'embedded', databaseUrl, synchronous });
  const engine = synchronous === 'full' ? 'stratum-sqlite' : 'stratum-sqlite-normal';
  try {
    return await stratum(queue, { jobs, concurrency, round, engine });
  } finally {
    await queue.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs the rounds: raw and Stratum BullMQ interleaved, then the embedded engine. */
export async function runQueueBench(options: {
  progress: Progress;
  quick: boolean;
  concurrency?: number;
}): Promise<QueueBenchResult> {
  const { progress, quick } = options;
  const concurrency = options.concurrency ?? 50;
  const jobs = quick ? 2000 : 10_000;
  const rounds = quick ? 2 : 3;
  const runs: QueueRun[] = [];
  const log = (run: QueueRun): void => {
    runs.push(run);
    progress.log(
      `queue: ${run.engine} round ${run.round}: submit ${run.submitPerSecond.toFixed(0)}/s, drain ${run.drainPerSecond.toFixed(0)} jobs/s, ${run.drainCpuMicros.toFixed(0)} µs CPU/job`,
    );
  };
  // An untimed warm-up of both sides first: the first run in a process pays for JIT and scripts.
  progress.log('queue: warming up');
  await rawBullmq(Math.min(jobs, 2000), concurrency, 0);
  await stratumBullmq(Math.min(jobs, 2000), concurrency, 0);
  for (let round = 1; round <= rounds; round++) {
    // Alternate which side goes first, so a drift in machine load does not favour one.
    if (round % 2 === 1) {
      log(await rawBullmq(jobs, concurrency, round));
      log(await stratumBullmq(jobs, concurrency, round));
    } else {
      log(await stratumBullmq(jobs, concurrency, round));
      log(await rawBullmq(jobs, concurrency, round));
    }
  }
  for (let round = 1; round <= rounds; round++) {
    log(await stratumSqlite(Math.round(jobs / 4), { concurrency, round, synchronous: 'full' }));
    log(await stratumSqlite(Math.round(jobs / 2), { concurrency, round, synchronous: 'normal' }));
  }
  return { concurrency, runs };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** The Markdown section. */
export function renderQueueBench(result: QueueBenchResult): string {
  const engines = ['raw-bullmq', 'stratum-bullmq', 'stratum-sqlite', 'stratum-sqlite-normal'] as const;
  const stats = engines.map((engine) => {
    const runs = result.runs.filter((run) => run.engine === engine);
    return {
      engine,
      runs,
      drain: median(runs.map((run) => run.drainPerSecond)),
      submit: median(runs.map((run) => run.submitPerSecond)),
      cpu: median(runs.map((run) => run.drainCpuMicros)),
    };
  });
  const raw = stats[0]?.drain ?? 1;
  const rawSubmit = stats[0]?.submit ?? 1;
  return [
    `## Queue: no-op jobs/s (concurrency ${result.concurrency})`,
    '',
    '| engine | runs × jobs | submit jobs/s (median) | drain jobs/s (median) | drain per run | drain vs raw BullMQ | submit vs raw | drain CPU µs/job (median) |',
    '|---|---|---|---|---|---|---|---|',
    ...stats.map(
      (s) =>
        `| ${s.engine} | ${s.runs.length} × ${s.runs[0]?.jobs ?? 0} | ${s.submit.toFixed(0)} | ${s.drain.toFixed(0)} | ${s.runs
          .map((run) => run.drainPerSecond.toFixed(0))
          .join(
            ', ',
          )} | ${(s.drain / raw).toFixed(2)}× | ${(s.submit / rawSubmit).toFixed(2)}× | ${s.cpu.toFixed(0)} |`,
    ),
    '',
    'Target: Stratum on BullMQ ≥ 0.8× raw BullMQ (drain). Submit rates are single-process, 50 in flight.',
    'CPU µs/job: this process (worker and poller) while draining; Redis runs beside it on the same cores.',
    '`stratum-sqlite` syncs every commit (`synchronous: full`); `stratum-sqlite-normal` is the default (`synchronous: normal`).',
    '',
  ].join('\n');
}
