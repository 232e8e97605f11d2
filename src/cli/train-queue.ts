/**
 * `stratum train spec.yaml --queue`: the spec is read and checked here (a mistake is reported at
 * once, naming the file and path, as inline), then submitted as a `train` job to the server; its
 * id is printed. With `--wait` the job is followed over server-sent events, its progress on
 * stderr, and the outcome is printed as an inline run's would be (non-zero exit when it failed).
 */
import { resolve } from 'node:path';
import type { ApiClient } from '../client/api-client.ts';
import type { JobRecord } from '../queue/job-queue.ts';
import type { VersionRecord } from '../store/metadata-store.ts';
import { createProgressLine } from './commands/progress-line.ts';
import { gitCommit, readTrainSpec, summary } from './train.ts';

/** Options of {@link submitTrainJob}. */
export interface SubmitTrainJobOptions {
  readonly specPath: string;
  readonly api: ApiClient;
  readonly wait: boolean;
  readonly json: boolean;
  readonly force?: { readonly reason: string };
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** What a `train` job's result holds (see `src/jobs/train-job.ts`). */
interface TrainJobResult {
  readonly runId: string;
  readonly version?: { readonly model: string; readonly version: number };
  readonly reused: boolean;
}

/** Submits the spec as a job; resolves with the exit code. */
export async function submitTrainJob(options: SubmitTrainJobOptions): Promise<number> {
  const { api, stdout, stderr } = options;
  const spec = await readTrainSpec(resolve(options.specPath));
  const codeVersion = await gitCommit(process.cwd());
  const job = await api.submitJob({
    kind: 'train',
    payload: {
      spec,
      baseDir: process.cwd(),
      ...(options.force !== undefined && { force: options.force }),
      ...(codeVersion !== undefined && { codeVersion }),
    },
  });
  if (!options.wait) {
    stdout.write(options.json ? `${JSON.stringify(job, null, 2)}\n` : `${job.id}\n`);
    stderr.write(`submitted train job ${job.id} (stratum jobs show ${job.id}; --wait follows it)\n`);
    return 0;
  }
  stderr.write(`submitted train job ${job.id}\n`);
  const progress = createProgressLine(stderr);
  const finished = await api
    .followJob(job.id, (update) => {
      if (update.type === 'state') progress.update(stateLine(update.record));
      else if (update.event.type === 'progress' && update.event.progress.message !== undefined) {
        progress.update(update.event.progress.message);
      }
    })
    .finally(() => progress.done());
  return printOutcome({ job: finished, api, json: options.json, stdout, stderr });
}

function stateLine(job: JobRecord): string {
  if (job.state === 'active') return `job ${job.id} running (attempt ${job.attemptsMade} of ${job.maxAttempts})`;
  if (job.state === 'delayed' && job.error !== undefined) {
    return `job ${job.id} attempt ${job.error.attempt} failed (${job.error.message}); retrying`;
  }
  return `job ${job.id} ${job.state}`;
}

async function printOutcome(args: {
  job: JobRecord;
  api: ApiClient;
  json: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}): Promise<number> {
  const { job, api, stdout, stderr } = args;
  if (job.state !== 'completed') {
    if (args.json) stdout.write(`${JSON.stringify({ job }, null, 2)}\n`);
    const why = job.error === undefined ? '' : `: ${job.error.code}: ${job.error.message}`;
    stderr.write(`job ${job.id} ${job.state}${why}\n`);
    return 1;
  }
  const result = job.result as TrainJobResult;
  const run = await api.getRun(result.runId);
  let version: VersionRecord | undefined;
  if (result.version !== undefined) version = await api.getVersion(result.version.model, result.version.version);
  if (args.json) {
    stdout.write(`${JSON.stringify({ job, run, metrics: run.metrics, version }, null, 2)}\n`);
  } else {
    stdout.write(summary({ run, ...(version !== undefined && { version }) }));
  }
  return 0;
}
