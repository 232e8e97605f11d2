/**
 * This replica's share of closing the loop: the pipeline service the routes and alert rules use,
 * the scheduler that starts pipelines at their cron slots (`pipelines.scheduler`), and the drift
 * schedule that keeps the drift gauges fresh for the deployments whose drift settings say `every`.
 */
import type { Config } from '../config/index.ts';
import { startDriftSchedule } from '../drift/drift-schedule.ts';
import type { DriftService } from '../drift/drift-service.ts';
import type { Logger } from '../logging/logger.ts';
import { createPipelineService, type PipelineService } from '../pipelines/pipeline-service.ts';
import { startPipelineScheduler } from '../pipelines/pipeline-scheduler.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import type { Registry } from '../registry/registry.ts';
import type { MetadataStore } from '../store/metadata-store.ts';

export function openPipelinesSide(options: {
  config: Readonly<Config>;
  logger: Logger;
  store: MetadataStore;
  registry: Registry;
  queue: JobQueue | undefined;
  drift: DriftService;
  cleanups: (() => Promise<void>)[];
}): PipelineService {
  const { config, cleanups } = options;
  const logger = options.logger.child({ component: 'pipelines' });
  const service = createPipelineService({ store: options.store, queue: options.queue, logger });
  if (config.pipelines.scheduler && options.queue !== undefined) {
    const scheduler = startPipelineScheduler({ service, logger, checkMs: config.pipelines.checkIntervalMs });
    cleanups.push(() => scheduler.close());
  }
  const driftSchedule = startDriftSchedule({
    drift: options.drift,
    logger: options.logger.child({ component: 'drift' }),
    checkMs: config.drift.checkIntervalMs,
    deployments: async () => {
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await options.registry.listDeployments({ limit: 500, ...(cursor !== undefined && { cursor }) });
        names.push(...page.items.map((d) => d.name));
        cursor = page.nextCursor;
      } while (cursor !== undefined);
      return names;
    },
  });
  cleanups.push(() => driftSchedule.close());
  return service;
}
