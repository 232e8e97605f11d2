/**
 * How a CLI command that waited on a job ends: the job's result (as JSON with --json, else the
 * command's summary of it) and exit 0 when it completed; the job's state and error on stderr and
 * exit 1 otherwise.
 */
import type { JobRecord } from '../queue/job-queue.ts';

export function printJobOutcome<R>(args: {
  job: JobRecord;
  json: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  summary: (result: R) => string;
}): number {
  const { job, stdout, stderr } = args;
  if (job.state !== 'completed') {
    if (args.json) stdout.write(`${JSON.stringify({ job }, null, 2)}\n`);
    const why = job.error === undefined ? '' : `: ${job.error.code}: ${job.error.message}`;
    stderr.write(`job ${job.id} ${job.state}${why}\n`);
    return 1;
  }
  const result = job.result as R;
  stdout.write(args.json ? `${JSON.stringify({ job, result }, null, 2)}\n` : args.summary(result));
  return 0;
}
