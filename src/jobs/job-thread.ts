/**
 * The entry of a job's worker thread (`thread-job.ts` starts it): opens the stores the job needs,
 * runs the kind's thread handler, reports its progress, and ends with one `done` or `error`
 * message. The thread is ended from outside (`terminate`) when the job is cancelled or times out.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { StratumError } from '../errors/index.ts';
import { createLogger, type LogLevel } from '../logging/logger.ts';
import { THREAD_HANDLERS } from './thread-handlers.ts';
import type { ThreadJobInput, ThreadMessage } from './thread-job.ts';

if (parentPort === null) throw new Error('job-thread must run in a worker thread');
const port = parentPort;
const input = workerData as ThreadJobInput;
const post = (message: ThreadMessage): void => port.postMessage(message);

async function main(): Promise<void> {
  const handler = THREAD_HANDLERS[input.kind];
  if (handler === undefined) throw new Error(`no thread handler for jobs of kind "${input.kind}"`);
  const logger = createLogger({ level: input.logLevel as LogLevel }).child({ job: input.jobId, kind: input.kind });
  const result = await handler(input, { post, logger });
  post({ type: 'done', result });
}

main().then(
  () => port.close(),
  (error: unknown) => {
    // The job's owner reads this error: an unexpected one keeps its message (the log has the stack).
    const stratum =
      error instanceof StratumError
        ? error
        : new StratumError('INTERNAL', error instanceof Error ? error.message : String(error));
    post({
      type: 'error',
      code: stratum.code,
      message: stratum.message,
      ...(stratum.details !== undefined && { details: stratum.details }),
    });
    port.close();
  },
);
