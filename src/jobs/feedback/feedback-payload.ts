/**
 * The payload of a `feedback` job: a large file of labels for logged requests (one `{requestId,
 * label}` row each, JSON Lines or CSV) that the server's worker joins with the inference log in
 * chunks, through the same feedback service as `POST /api/v1/feedback`.
 */
import { extname, isAbsolute } from 'node:path';
import { z } from 'zod';
import { MAX_FEEDBACK_ITEMS } from '../../deploy/feedback.ts';
import { StratumError } from '../../errors/index.ts';
import { ResourceNameSchema } from '../../registry/names.ts';

/** The formats a feedback file is read in. */
export type FeedbackFileFormat = 'csv' | 'jsonl';

const FORMAT_BY_EXTENSION: Readonly<Record<string, FeedbackFileFormat>> = Object.freeze({
  '.csv': 'csv',
  '.jsonl': 'jsonl',
  '.ndjson': 'jsonl',
});

/** Rows joined per call of the feedback service. @default 1,000 */
export const DEFAULT_FEEDBACK_CHUNK_ROWS = 1000;

/** Problems kept in the job's result; all of them go to `problems` when it names a file. */
export const MAX_RESULT_PROBLEMS = 1000;

const AbsolutePath = z.string().min(1).max(4096);

export const FeedbackPayloadSchema = z.strictObject({
  /** The labels: a `.jsonl`/`.ndjson` or `.csv` file (format by extension unless given), on the worker's disk. */
  input: z.strictObject({ path: AbsolutePath, format: z.enum(['csv', 'jsonl']).optional() }),
  /** Join only with requests this deployment logged. @default any deployment */
  deployment: ResourceNameSchema.optional(),
  /** Rows per join (one store round trip). */
  chunkRows: z.int().min(1).max(MAX_FEEDBACK_ITEMS).default(DEFAULT_FEEDBACK_CHUNK_ROWS),
  /** Every problem as JSON Lines (`{line, requestId, code, reason}`). @default only the first 1,000, in the result */
  problems: AbsolutePath.optional(),
});

export type FeedbackPayload = z.output<typeof FeedbackPayloadSchema>;

/** The format of the input file: given, or by its extension. */
export function feedbackFileFormat(input: FeedbackPayload['input']): FeedbackFileFormat {
  const format = input.format ?? FORMAT_BY_EXTENSION[extname(input.path).toLowerCase()];
  if (format === undefined) {
    throw new StratumError(
      'BAD_REQUEST',
      `input.path "${input.path}": expected a .jsonl, .ndjson or .csv file, or give input.format`,
      { details: { path: ['input', 'path'] } },
    );
  }
  return format;
}

/** Absolute paths (a worker runs in another folder) and a known format; BAD_REQUEST `invalid <where>.<field>: …`. */
export function checkFeedbackPayload(payload: FeedbackPayload, where: string): void {
  for (const [field, path] of [
    ['input.path', payload.input.path],
    ['problems', payload.problems],
  ] as const) {
    if (path !== undefined && !isAbsolute(path)) {
      throw new StratumError(
        'BAD_REQUEST',
        `invalid ${where}.${field}: "${path}" must be an absolute path (a worker runs elsewhere)`,
        { details: { path: [...where.split('.'), ...field.split('.')] } },
      );
    }
  }
  try {
    feedbackFileFormat(payload.input);
  } catch (error) {
    throw new StratumError('BAD_REQUEST', `invalid ${where}.${(error as Error).message}`, {
      details: { path: [...where.split('.'), 'input', 'path'] },
    });
  }
}
