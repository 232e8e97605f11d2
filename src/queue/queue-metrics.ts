/**
 * The queue's Prometheus metrics, the signal an autoscaler reads: queue depth by state (read from
 * `counts()` at scrape time, so every replica reports the shared queue's depth), how long jobs
 * wait before their first attempt and how long attempts take. The histograms are fed by the
 * workers of this process through the {@link JobObserver} this returns.
 */
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { Logger } from '../logging/logger.ts';
import type { JobObserver, JobQueue } from './job-queue.ts';

/** Options of {@link registerQueueMetrics}. */
export interface QueueMetricsOptions {
  readonly registry: Registry;
  readonly queue: JobQueue;
  readonly logger?: Logger;
}

/** Seconds buckets from 10 ms to 6 h: jobs run from a no-op to a long training. */
const SECONDS_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 1800, 3600, 7200, 21600];

/**
 * Registers `stratum_jobs{state}`, `stratum_job_wait_seconds{kind}` and
 * `stratum_job_duration_seconds{kind,outcome}` on `registry`; pass the observer to `queue.work`.
 *
 * @example
 * const observer = registerQueueMetrics({ registry: metrics.registry, queue });
 * queue.work({ handler, observer });
 */
export function registerQueueMetrics(options: QueueMetricsOptions): JobObserver {
  const { registry, queue, logger } = options;
  new Gauge({
    name: 'stratum_jobs',
    help: 'Jobs in the queue by state (waiting counts jobs without a priority; prioritized the others).',
    labelNames: ['state'] as const,
    registers: [registry],
    async collect() {
      try {
        const counts = await queue.counts();
        for (const [state, value] of Object.entries(counts)) this.set({ state }, value);
      } catch (error) {
        // A scrape while the queue is unreachable keeps the last values rather than failing.
        logger?.debug({ err: error }, 'reading job counts for metrics failed');
      }
    },
  });
  const wait = new Histogram({
    name: 'stratum_job_wait_seconds',
    help: 'Time from submission to the start of the first attempt.',
    labelNames: ['kind'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'stratum_job_duration_seconds',
    help: 'Time an attempt ran, by outcome (completed, failed, retry, cancelled).',
    labelNames: ['kind', 'outcome'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [registry],
  });
  return {
    started({ kind, waitMs }) {
      wait.observe({ kind }, Math.max(0, waitMs) / 1000);
    },
    finished({ kind, durationMs, outcome }) {
      duration.observe({ kind, outcome }, Math.max(0, durationMs) / 1000);
    },
  };
}
