/**
 * `stratum feedback <file>`: the file's path made absolute (a worker runs in another folder), a
 * `feedback` job submitted, and its id printed; with `--wait` the job is followed over server-sent
 * events with a progress line, and its counts and first problems printed (exit 1 when it failed).
 */
import { printJobOutcome } from './job-outcome.ts';
import { resolve } from 'node:path';
import type { ApiClient } from '../client/api-client.ts';
import type { FeedbackJobResult } from '../jobs/feedback/feedback-job.ts';
import { createProgressLine } from './commands/progress-line.ts';

/** Options of {@link submitFeedbackJob}. */
export interface SubmitFeedbackJobOptions {
  readonly file: string;
  readonly deployment?: string;
  readonly problems?: string;
  readonly chunkRows?: number;
  readonly api: ApiClient;
  readonly wait: boolean;
  readonly json: boolean;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** Problems printed after the counts; the rest are in the result (`--json`) or the problems file. */
const SHOWN_PROBLEMS = 10;

/** Submits the file as a job; resolves with the exit code. */
export async function submitFeedbackJob(options: SubmitFeedbackJobOptions): Promise<number> {
  const { api, stdout, stderr } = options;
  const payload = {
    input: { path: resolve(options.file) },
    ...(options.deployment !== undefined && { deployment: options.deployment }),
    ...(options.problems !== undefined && { problems: resolve(options.problems) }),
    ...(options.chunkRows !== undefined && { chunkRows: options.chunkRows }),
  };
  const job = await api.submitJob({ kind: 'feedback', payload });
  if (!options.wait) {
    stdout.write(options.json ? `${JSON.stringify(job, null, 2)}\n` : `${job.id}\n`);
    stderr.write(`submitted feedback job ${job.id} (stratum jobs show ${job.id}; --wait follows it)\n`);
    return 0;
  }
  stderr.write(`submitted feedback job ${job.id}\n`);
  const progress = createProgressLine(stderr);
  const finished = await api
    .followJob(job.id, (update) => {
      if (update.type === 'state') {
        if (update.record.state !== 'active') progress.update(`job ${job.id} ${update.record.state}`);
      } else if (update.event.type === 'progress' && update.event.progress.message !== undefined) {
        progress.update(`feedback: ${update.event.progress.message}`, 'feedback');
      }
    })
    .finally(() => progress.done());
  return printJobOutcome<FeedbackJobResult>({
    job: finished,
    json: options.json,
    stdout,
    stderr,
    summary: feedbackSummary,
  });
}

/** The result for people: counts, rejections by code, the first problems. */
export function feedbackSummary(result: FeedbackJobResult): string {
  const lines = [
    `rows        ${result.rows}`,
    `accepted    ${result.accepted}${result.relabelled > 0 ? ` (${result.relabelled} replaced an earlier label)` : ''}`,
    `rejected    ${result.rejected}`,
    ...Object.entries(result.byCode).map(([code, count]) => `  ${code.padEnd(18)}${count}`),
  ];
  for (const p of result.problems.slice(0, SHOWN_PROBLEMS)) {
    lines.push(`line ${p.line}: ${p.requestId ?? '(no id)'}: ${p.code}: ${p.reason}`);
  }
  const more = result.rejected - Math.min(SHOWN_PROBLEMS, result.problems.length);
  if (more > 0) {
    lines.push(
      result.problemsFile !== undefined
        ? `… ${more} more; every problem is in ${result.problemsFile}`
        : `… ${more} more (--json lists ${result.problems.length}; --problems <file> writes every one)`,
    );
  }
  return `${lines.join('\n')}\n`;
}
