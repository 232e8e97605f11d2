/**
 * The `feedback` job: a large file of labels joined with the inference log in chunks of
 * `chunkRows`, each through the feedback service `POST /api/v1/feedback` uses, so a row is judged
 * exactly as the route judges an item. Every rejected row is reported with its line, request id,
 * code and reason: counted by code in the result, the first 1,000 listed there, all of them in the
 * `problems` file when the payload names one. Progress (bytes read, rows, accepted, rejected)
 * after every chunk.
 */
import { once } from 'node:events';
import type { WriteStream } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { createFeedback, type Feedback } from '../../deploy/feedback.ts';
import { StratumError } from '../../errors/index.ts';
import type { Logger } from '../../logging/logger.ts';
import type { ActiveJob, JobHandler } from '../../queue/job-queue.ts';
import { openInferenceLogStore } from '../../store/open-inference-log-store.ts';
import { type FeedbackRow, openFeedbackFile } from './feedback-file.ts';
import { type FeedbackPayload, feedbackFileFormat, MAX_RESULT_PROBLEMS } from './feedback-payload.ts';

/** A row the service (or the reader) rejected. */
export interface FeedbackProblem {
  /** The line of the file (1-based; a CSV's header is line 1). */
  readonly line: number;
  readonly requestId: string | null;
  readonly code: string;
  readonly reason: string;
}

/** What a `feedback` job did. */
export interface FeedbackJobResult {
  readonly input: string;
  readonly deployment?: string;
  /** Rows read (blank lines are not rows). */
  readonly rows: number;
  readonly accepted: number;
  /** Of the accepted, rows that replaced an earlier label. */
  readonly relabelled: number;
  readonly rejected: number;
  /** Rejected rows by code: unknown_request, wrong_label, invalid_item, ambiguous_request, no_prediction. */
  readonly byCode: Readonly<Record<string, number>>;
  /** The first rejected rows, in file order. */
  readonly problems: readonly FeedbackProblem[];
  /** Rejected rows not listed in `problems` (every one is in `problemsFile` when set). */
  readonly problemsOmitted: number;
  readonly problemsFile?: string;
}

/** Options of {@link feedbackJobHandler}. */
export interface FeedbackJobOptions {
  /**
   * The serving process's feedback service: it flushes the log's buffer before joining and counts
   * in the server's metrics. @default a service on the inference log at `databaseUrl`, opened per job
   */
  readonly feedback?: Feedback | undefined;
  /** The metadata database, where the inference log is. */
  readonly databaseUrl: string;
  readonly logger?: Logger;
}

/** The `feedback` handler. */
export function feedbackJobHandler(options: FeedbackJobOptions): JobHandler {
  return async (job) => {
    const payload = job.record.payload as FeedbackPayload;
    if (options.feedback !== undefined) return joinFile({ job, payload, feedback: options.feedback });
    const store = await openInferenceLogStore({
      url: options.databaseUrl,
      ...(options.logger !== undefined && { logger: options.logger }),
    });
    try {
      return await joinFile({ job, payload, feedback: createFeedback({ store }) });
    } finally {
      await store.close();
    }
  };
}

/** Collects the problems: counts, the first ones, and every one into the file (opened here: a bad path fails the job before any row is joined). */
async function problemSink(path: string | undefined) {
  const byCode: Record<string, number> = {};
  const kept: FeedbackProblem[] = [];
  let count = 0;
  let failure: Error | undefined;
  const file: WriteStream | undefined =
    path === undefined
      ? undefined
      : (
          await open(path, 'w').catch((error: unknown) => {
            throw new StratumError(
              'BAD_REQUEST',
              `problems: cannot write ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
            );
          })
        ).createWriteStream();
  file?.on('error', (error) => (failure = error));
  return {
    async add(problem: FeedbackProblem): Promise<void> {
      count++;
      byCode[problem.code] = (byCode[problem.code] ?? 0) + 1;
      if (kept.length < MAX_RESULT_PROBLEMS) kept.push(problem);
      if (failure !== undefined) throw failure;
      if (file !== undefined && !file.write(`${JSON.stringify(problem)}\n`)) await once(file, 'drain');
    },
    get count() {
      return count;
    },
    summary() {
      return { byCode, problems: kept, problemsOmitted: path === undefined ? count - kept.length : 0 };
    },
    async close(): Promise<void> {
      if (file === undefined) return;
      if (!file.closed) {
        file.end();
        await once(file, 'close');
      }
      if (failure !== undefined) throw failure;
    },
  };
}

async function joinFile(args: {
  job: ActiveJob;
  payload: FeedbackPayload;
  feedback: Feedback;
}): Promise<FeedbackJobResult> {
  const { job, payload, feedback } = args;
  const path = payload.input.path;
  const { size } = await stat(path).catch(() => ({ size: 0 }));
  const format = feedbackFileFormat(payload.input);
  const problems = await problemSink(payload.problems);
  const file = await openFeedbackFile({ path, format }).catch(async (error: unknown) => {
    await problems.close();
    throw error;
  });
  const submit = payload.deployment === undefined ? {} : { deployment: payload.deployment };
  let rows = 0;
  let accepted = 0;
  let relabelled = 0;
  let chunk: FeedbackRow[] = [];

  const join = async (): Promise<void> => {
    if (job.signal.aborted) throw job.signal.reason as Error;
    const items = chunk.filter((row): row is Extract<FeedbackRow, { item: unknown }> => 'item' in row);
    const found: FeedbackProblem[] = chunk.flatMap((row) =>
      'invalid' in row ? [{ line: row.line, requestId: null, code: 'invalid_item', reason: row.invalid }] : [],
    );
    if (items.length > 0) {
      const result = await feedback.submit(
        items.map((row) => row.item),
        submit,
      );
      accepted += result.accepted;
      relabelled += result.relabelled;
      for (const r of result.rejected) {
        found.push({ line: items[r.index]?.line ?? 0, requestId: r.request_id, code: r.code, reason: r.reason });
      }
    }
    // In file order: the reader's problems and the service's, interleaved by line.
    for (const problem of found.sort((a, b) => a.line - b.line)) await problems.add(problem);
    chunk = [];
    await job.progress({
      fraction: size === 0 ? 1 : Math.min(1, file.bytesRead() / size),
      message: `${rows} rows: ${accepted} accepted, ${problems.count} rejected`,
      data: { rows, accepted, rejected: problems.count },
    });
  };

  try {
    for await (const row of file.rows) {
      rows++;
      chunk.push(row);
      if (chunk.length >= payload.chunkRows) await join();
    }
    await join();
  } finally {
    await problems.close();
  }
  return {
    input: path,
    ...(payload.deployment !== undefined && { deployment: payload.deployment }),
    rows,
    accepted,
    relabelled,
    rejected: problems.count,
    ...problems.summary(),
    ...(payload.problems !== undefined && { problemsFile: payload.problems }),
  };
}
