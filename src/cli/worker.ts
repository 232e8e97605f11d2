/**
 * `stratum worker`: consumes the configured queue's jobs (every kind this process can run) until
 * SIGTERM/SIGINT, then stops taking jobs; running ones get the grace period to finish, then are
 * aborted and go back to the queue for another worker. A second signal exits at once. With
 * `jobs.metricsPort` it serves its queue metrics (the job times it observes, the queue's depth)
 * and the process metrics on `/metrics`, and `/healthz` while it consumes.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { Config } from '../config/index.ts';
import { startJobWorker } from '../jobs/job-runner.ts';
import type { Logger } from '../logging/logger.ts';
import { openJobQueue } from '../queue/open-job-queue.ts';
import { openMetadataStore } from '../store/open-metadata-store.ts';
import type { JobHandler, JobQueue } from '../queue/job-queue.ts';
import { createWorkerHandlers } from '../jobs/worker-handlers.ts';
import { createRuntimePool } from '../runtime/runtime-pool.ts';
import { startMetricsServer, type MetricsServer } from '../monitor/metrics-server.ts';
import { registerQueueMetrics } from '../queue/queue-metrics.ts';
import { openTrainingStores } from './training-stores.ts';

/** Options of {@link runWorkerUntilSignalled}. */
export interface RunWorkerOptions {
  readonly config: Readonly<Config>;
  readonly logger: Logger;
}

/** Runs the worker; resolves with the exit code once a signal has stopped it. */
export async function runWorkerUntilSignalled(options: RunWorkerOptions): Promise<number> {
  const { config, logger } = options;
  const store = await openMetadataStore({ url: config.databaseUrl, pollMs: config.registryPollMs, logger });
  const queue = await openJobQueue({
    queueUrl: config.queueUrl,
    databaseUrl: config.databaseUrl,
    name: config.jobs.queueName,
    logger,
  }).catch(async (error: unknown) => {
    await store.close();
    throw error;
  });
  const concurrency = config.jobs.workerConcurrency;
  // Batch jobs run their model in a runtime pool of this process and read registry models.
  const batch = await openBatchHandlers({ config, logger, queue }).catch(async (error: unknown) => {
    await Promise.allSettled([queue.close(), store.close()]);
    throw error;
  });
  // The same metric names as a server's /metrics, so one dashboard reads both.
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: 'stratum_' });
  const observer = registerQueueMetrics({ registry: metrics, queue, logger });
  let consuming = false;
  let metricsServer: MetricsServer | undefined;
  if (config.jobs.metricsPort !== undefined) {
    metricsServer = await startMetricsServer({
      host: config.host,
      port: config.jobs.metricsPort,
      registry: metrics,
      ready: () => consuming,
      logger,
    }).catch(async (error: unknown) => {
      await Promise.allSettled([batch.close(), queue.close(), store.close()]);
      throw error;
    });
    logger.info({ metrics: `${metricsServer.url}/metrics` }, 'serving worker metrics');
  }
  const worker = startJobWorker({
    queue,
    config,
    store,
    logger,
    concurrency,
    lockMs: config.jobs.lockMs,
    extraHandlers: batch.handlers,
    observer,
  });
  consuming = true;
  logger.info({ engine: queue.engine, kinds: worker.kinds, concurrency }, 'stratum worker is running');
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (received: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      // A second signal: no more waiting for running jobs (their locks expire and others take them).
      const force = (): void => {
        logger.warn({}, 'second signal: exiting now');
        process.exit(1);
      };
      process.once('SIGTERM', force);
      process.once('SIGINT', force);
      resolve(received);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  logger.info({ signal, graceMs: config.shutdownGraceMs }, 'stopping: running jobs get the grace period');
  consuming = false;
  const results = await Promise.allSettled([worker.close(config.shutdownGraceMs)]);
  results.push(...(await Promise.allSettled([batch.close()])));
  results.push(...(await Promise.allSettled([queue.close()])), ...(await Promise.allSettled([store.close()])));
  // Last: the attempts that ended during the grace period are still there to scrape until now.
  if (metricsServer !== undefined) results.push(...(await Promise.allSettled([metricsServer.close()])));
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  for (const r of failed) logger.error({ err: r.reason }, 'error while stopping');
  logger.info({}, 'stopped');
  return failed.length === 0 ? 0 : 1;
}

/** The batch and tune handlers, their runtime pool and stores, and one `close()` for all of them. */
async function openBatchHandlers(options: {
  config: Readonly<Config>;
  logger: Logger;
  queue: JobQueue;
}): Promise<{ handlers: Readonly<Record<string, JobHandler>>; close(): Promise<void> }> {
  const { config, logger } = options;
  const stores = await openTrainingStores({ config, logger });
  const runtime = createRuntimePool({ workers: config.runtime.workers, logger });
  const extra = createWorkerHandlers({
    ...stores,
    queue: options.queue,
    runtime,
    logger: options.logger,
    databaseUrl: config.databaseUrl,
  });
  return {
    handlers: extra.handlers,
    async close() {
      await extra.close();
      await Promise.allSettled([runtime.close(), stores.close()]);
    },
  };
}
