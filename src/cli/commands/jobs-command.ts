/**
 * `stratum jobs list|show|cancel|retry`: the queue's jobs over `/api/v1/jobs` — their kind, state,
 * attempts, progress, and result or error — with `--json` for scripts.
 */
import type { JobRecord } from '../../queue/job-queue.ts';
import { API_OPTIONS, PAGE_OPTIONS, type CommandGroup, defineCommand } from './command-spec.ts';
import { formatDuration, formatTime } from './format-values.ts';
import { formatTable } from './table.ts';

const STATES = ['waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled'] as const;

/** `active 40% training 8/20` or `failed: INTERNAL …`: what a job is doing or how it ended, in a few words. */
export function jobStatus(job: JobRecord): string {
  if (job.state === 'failed' && job.error !== undefined) return `failed: ${job.error.code}`;
  if (job.state !== 'active' || job.progress === undefined)
    return job.cancelRequested ? `${job.state} (cancelling)` : job.state;
  const { fraction, message } = job.progress;
  const percent = fraction === undefined ? '' : ` ${Math.round(fraction * 100)}%`;
  return `active${percent}${message === undefined ? '' : ` ${message}`}`;
}

function took(job: JobRecord): string {
  if (job.startedAt === undefined) return '';
  return formatDuration((job.finishedAt ?? Date.now()) - job.startedAt);
}

const list = defineCommand({
  name: 'list',
  summary: 'List jobs, newest first',
  args: [],
  options: {
    state: { type: 'string', choices: STATES, description: 'only jobs in this state' },
    kind: { type: 'string', value: 'kind', description: 'only jobs of this kind (train, batch-infer, tune, …)' },
    parent: { type: 'string', value: 'id', description: 'only the jobs of this parent (a tuning run’s trials)' },
    ...PAGE_OPTIONS,
    ...API_OPTIONS,
  },
  examples: ['stratum jobs list', 'stratum jobs list --state failed --kind train', 'stratum jobs list --json'],
  async run(cmd) {
    const { state, kind, parent, cursor } = cmd.values;
    const page = await cmd.api.listJobs({
      limit: String(cmd.number('limit') ?? 50),
      ...(state !== undefined && { state }),
      ...(kind !== undefined && { kind }),
      ...(parent !== undefined && { parent }),
      ...(cursor !== undefined && { cursor }),
    });
    cmd.print(page, () => {
      const table = formatTable({
        columns: ['job', 'kind', 'state', 'attempts', 'submitted', 'took', 'by'],
        rows: page.items.map((j) => [
          j.id,
          j.kind,
          jobStatus(j),
          `${j.attemptsMade}/${j.maxAttempts}`,
          formatTime(j.createdAt),
          took(j),
          j.by,
        ]),
        maxCellWidth: 48,
        empty: '(no jobs)',
      });
      return page.nextCursor === undefined ? table : `${table}(more: --cursor ${page.nextCursor})\n`;
    });
    return 0;
  },
});

/** The fields of `jobs show`, for people. */
export function jobText(job: JobRecord): string {
  const fields: [string, string][] = [
    ['kind', job.kind],
    ['state', jobStatus(job)],
    ['attempts', `${job.attemptsMade} of ${job.maxAttempts}`],
    ['submitted', `${formatTime(job.createdAt)} by ${job.by}`],
  ];
  if (job.priority !== undefined) fields.push(['priority', String(job.priority)]);
  if (job.parentId !== undefined) fields.push(['parent', job.parentId]);
  if (job.startedAt !== undefined) fields.push(['started', formatTime(job.startedAt)]);
  if (job.finishedAt !== undefined) fields.push(['finished', `${formatTime(job.finishedAt)} (took ${took(job)})`]);
  if (job.workerId !== undefined && job.state === 'active') fields.push(['worker', job.workerId]);
  if (job.progress?.message !== undefined) fields.push(['progress', job.progress.message]);
  if (job.error !== undefined) {
    fields.push(['error', `${job.error.code} (attempt ${job.error.attempt}): ${job.error.message}`]);
  }
  if (job.result !== undefined) fields.push(['result', JSON.stringify(job.result)]);
  const width = Math.max(...fields.map(([label]) => label.length));
  return `job ${job.id}\n${fields.map(([l, v]) => `  ${l.padEnd(width)}  ${v}\n`).join('')}`;
}

const show = defineCommand({
  name: 'show',
  summary: 'A job: state, attempts, progress, result or error',
  args: [{ name: 'job', description: 'the job id' }],
  options: API_OPTIONS,
  examples: ['stratum jobs show 42', 'stratum jobs show 42 --json | jq .result'],
  async run(cmd) {
    const job = await cmd.api.getJob(cmd.args.job);
    cmd.print(job, () => jobText(job));
    return 0;
  },
});

const cancel = defineCommand({
  name: 'cancel',
  summary: 'Cancel a job: a running one stops within seconds, leaving no partial output',
  args: [{ name: 'job', description: 'the job id' }],
  options: API_OPTIONS,
  examples: ['stratum jobs cancel 42'],
  async run(cmd) {
    const job = await cmd.api.cancelJob(cmd.args.job);
    cmd.print(job, () =>
      job.state === 'cancelled' ? `cancelled job ${job.id}\n` : `cancelling job ${job.id} (it is running)\n`,
    );
    return 0;
  },
});

const retry = defineCommand({
  name: 'retry',
  summary: 'Run a failed or cancelled job again, its attempts reset',
  args: [{ name: 'job', description: 'the job id' }],
  options: API_OPTIONS,
  examples: ['stratum jobs retry 42'],
  async run(cmd) {
    const job = await cmd.api.retryJob(cmd.args.job);
    cmd.print(job, () => `job ${job.id} is ${job.state} again\n`);
    return 0;
  },
});

/** `stratum jobs`. */
export const JOBS_GROUP: CommandGroup = {
  name: 'jobs',
  summary: 'Queued jobs: list, inspect, cancel, retry',
  commands: [list, show, cancel, retry],
};
