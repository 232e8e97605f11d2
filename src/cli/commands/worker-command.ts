/**
 * `stratum worker`: runs queued jobs (training, evaluation, batch inference, searches) from the
 * configured queue until stopped. The work is in `../worker.ts`, loaded only when the command runs.
 */
import type { LogLevel } from '../../logging/logger.ts';
import { defineCommand, GLOBAL_OPTIONS, type OptionsSpec } from './command-spec.ts';
import { QUEUE_OPTIONS, STORE_OPTIONS } from './server-commands.ts';
import { settingOverrides } from './setting-overrides.ts';

const WORKER_OPTIONS = {
  concurrency: {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    setting: 'jobs.workerConcurrency',
    description: 'jobs run at once (CPU-heavy ones each in a thread of their own)',
  },
  'grace-ms': {
    type: 'string',
    value: 'ms',
    number: { integer: true, min: 0 },
    setting: 'shutdownGraceMs',
    description: 'on SIGTERM or Ctrl-C, how long running jobs may finish before they go back to the queue',
  },
  'metrics-port': {
    type: 'string',
    value: 'port',
    number: { integer: true, min: 0 },
    setting: 'jobs.metricsPort',
    default: 'none',
    description:
      'serve GET /metrics (Prometheus: job times, queue depth, process) and GET /healthz on this port at --host; 0 for any free one',
  },
  host: { type: 'string', value: 'address', setting: 'host', description: 'the interface --metrics-port listens on' },
  ...QUEUE_OPTIONS,
  ...STORE_OPTIONS,
  ...GLOBAL_OPTIONS,
} as const satisfies OptionsSpec;

/** `stratum worker`. */
export const workerCommand = defineCommand({
  name: 'worker',
  summary: 'Run queued jobs: training, evaluation, batch inference, searches and their trials',
  description:
    'Take jobs from the configured queue (the embedded one in the metadata database, or Redis with --queue-url redis://…) and run them, --concurrency at a time; CPU-heavy kinds (train, evaluate, trial) run in worker threads. With --metrics-port it serves GET /metrics for a Prometheus scrape (stratum_job_wait_seconds, stratum_job_duration_seconds, stratum_jobs and the process metrics) and GET /healthz (200 while it consumes). A job whose worker dies is picked up by another after its lock expires, and its effects happen once. Logs each job on stderr (JSON lines off a terminal). On SIGTERM or Ctrl-C it stops taking jobs, lets running ones finish for --grace-ms, then aborts them and they go back to the queue; a second signal exits at once.',
  args: [],
  options: WORKER_OPTIONS,
  examples: [
    'stratum worker',
    'stratum worker --concurrency 4 --queue-url redis://127.0.0.1:6379 --database-url postgres://stratum@db/stratum',
    'stratum worker --metrics-port 9464 --host 0.0.0.0',
  ],
  async run(cmd) {
    const [{ loadConfig }, { createLogger }, { runWorkerUntilSignalled }] = await Promise.all([
      import('../../config/index.ts'),
      import('../../logging/logger.ts'),
      import('../worker.ts'),
    ]);
    const config = loadConfig({ overrides: settingOverrides(WORKER_OPTIONS, cmd.values) });
    return runWorkerUntilSignalled({ config, logger: createLogger({ level: config.logLevel as LogLevel }) });
  },
});
