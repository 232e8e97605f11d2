/**
 * `stratum batch … --queue`: the spec is checked here (its paths made absolute: a worker runs in
 * another folder), submitted as a `batch-infer` job to the server, and its id printed. With
 * `--wait` the job is followed over server-sent events with the same progress bar as inline, and
 * the outcome printed as an inline run's would be (exit 1 when the job failed or was cancelled).
 */
import { printJobOutcome } from './job-outcome.ts';
import { resolve } from 'node:path';
import type { ApiClient } from '../client/api-client.ts';
import { parseModelRef } from '../jobs/batch/batch-model.ts';
import type { BatchProgress, BatchResult } from '../jobs/batch/run-batch.ts';
import { batchProgressReporter, batchSummary } from './batch.ts';
import { createProgressLine } from './commands/progress-line.ts';
import { progressInterval } from './train.ts';

/** Options of {@link submitBatchJob}. */
export interface SubmitBatchJobOptions {
  readonly spec: Record<string, unknown> & { readonly model: string; readonly output: string };
  readonly api: ApiClient;
  readonly wait: boolean;
  readonly json: boolean;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** The spec with every file path absolute, against this process's working directory. */
export function withAbsolutePaths(spec: SubmitBatchJobOptions['spec']): SubmitBatchJobOptions['spec'] {
  const input = spec.input as { path?: string; sql?: string };
  return {
    ...spec,
    output: resolve(spec.output),
    ...(typeof spec.errors === 'string' && { errors: resolve(spec.errors) }),
    ...(input.path !== undefined && { input: { ...input, path: resolve(input.path) } }),
    ...(parseModelRef(spec.model).kind === 'file' && { model: resolve(spec.model) }),
  };
}

/** Submits the batch as a job; resolves with the exit code. */
export async function submitBatchJob(options: SubmitBatchJobOptions): Promise<number> {
  const { api, stdout, stderr } = options;
  const job = await api.submitJob({ kind: 'batch-infer', payload: withAbsolutePaths(options.spec) });
  if (!options.wait) {
    stdout.write(options.json ? `${JSON.stringify(job, null, 2)}\n` : `${job.id}\n`);
    stderr.write(`submitted batch-infer job ${job.id} (stratum jobs show ${job.id}; --wait follows it)\n`);
    return 0;
  }
  stderr.write(`submitted batch-infer job ${job.id}\n`);
  const progress = createProgressLine(stderr);
  const report = batchProgressReporter((line, key) => progress.update(line, key), progressInterval(stderr));
  const finished = await api
    .followJob(job.id, (update) => {
      if (update.type === 'state') {
        if (update.record.state !== 'active') progress.update(`job ${job.id} ${update.record.state}`);
      } else if (update.event.type === 'progress' && isBatchProgress(update.event.progress.data)) {
        report(update.event.progress.data);
      }
    })
    .finally(() => progress.done());
  return printJobOutcome<BatchResult>({ job: finished, json: options.json, stdout, stderr, summary: batchSummary });
}

function isBatchProgress(data: unknown): data is BatchProgress {
  return typeof data === 'object' && data !== null && 'chunksDone' in data && 'rowsDone' in data;
}
