/**
 * Submitting a job: the kind, its payload and the queue options are all checked here, before
 * anything is queued — an unknown kind, an unknown key or an out-of-range value is a BAD_REQUEST
 * naming its path (`payload.spec.model.params.maxDepth: …`), an oversized payload a BODY_TOO_LARGE
 * — so a mistake is never found later inside a worker. The API, the CLI and the other parts of
 * Stratum that queue work (a tuning run's trials) all submit through {@link submitJob}.
 */
import { z } from 'zod';
import { StratumError } from '../errors/index.ts';
import { formatIssues, specErrorMap } from '../errors/format-issues.ts';
import type { JobQueue, JobRecord, SubmitJob } from '../queue/job-queue.ts';
import { nearestName } from '../util/nearest-name.ts';
import { withoutUndefined } from '../util/without-undefined.ts';
import { isJobKind, JOB_KIND_NAMES, JOB_KINDS, type JobKind } from './job-kinds.ts';

/** A payload larger than this (as JSON) is refused unless the caller sets its own limit. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;

/** The queue options a submitter may set, strict and bounded. */
export const JobOptionsSchema = z.strictObject({
  /** Omitted: before every prioritized job. 1 … 2,097,152: lower first. */
  priority: z.number().int().min(1).max(2_097_152).optional(),
  attempts: z.number().int().min(1).max(100).optional(),
  backoff: z
    .strictObject({
      type: z.enum(['exponential', 'fixed']),
      delayMs: z.number().int().min(0).max(86_400_000),
      jitter: z.number().min(0).max(1).optional(),
    })
    .optional(),
  timeoutMs: z
    .number()
    .int()
    .min(1)
    .max(7 * 86_400_000)
    .optional(),
  delayMs: z
    .number()
    .int()
    .min(0)
    .max(30 * 86_400_000)
    .optional(),
  idempotencyKey: z.string().min(1).max(256).optional(),
  parentId: z.string().min(1).max(128).optional(),
});

/** What a caller submits: a kind, its payload and the queue options (the API's body). */
export const JobSubmissionSchema = JobOptionsSchema.extend({
  kind: z.string().min(1).max(64),
  payload: z.unknown(),
});

/** A submission as a caller gives it. */
export type JobSubmission = z.input<typeof JobSubmissionSchema>;

/** Options of {@link submitJob}. */
export interface SubmitJobOptions {
  /** Who submits (recorded on the job). @default 'system' */
  readonly by?: string;
  /** @default DEFAULT_MAX_PAYLOAD_BYTES */
  readonly maxPayloadBytes?: number;
}

/**
 * Checks a submission without queueing it: the same errors {@link submitJob} throws.
 * @returns the job to queue, payload parsed (defaults filled in).
 */
export function checkSubmission(input: unknown, options: SubmitJobOptions = {}): SubmitJob {
  const parsed = JobSubmissionSchema.safeParse(input, { error: specErrorMap });
  if (!parsed.success) throw badJob(formatIssues(parsed.error), parsed.error.issues);
  const { kind, payload, ...queueOptions } = parsed.data;
  if (!isJobKind(kind)) {
    const near = nearestName(kind, JOB_KIND_NAMES);
    throw badJob(
      `kind: unknown job kind ${JSON.stringify(kind)}${near === undefined ? '' : `; did you mean ${JSON.stringify(near)}?`} (kinds: ${JOB_KIND_NAMES.join(', ')})`,
    );
  }
  const limit = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  const size = Buffer.byteLength(JSON.stringify(payload ?? null));
  if (size > limit) {
    throw new StratumError(
      'BODY_TOO_LARGE',
      `the ${kind} job's payload is ${size} bytes as JSON, over the ${limit}-byte limit; put large inputs in a file or a dataset and name it in the payload`,
      { details: { kind, bytes: size, limit } },
    );
  }
  const definition: JobKind = JOB_KINDS[kind];
  const checked = definition.payload.safeParse(payload, { error: specErrorMap });
  if (!checked.success) {
    const issues = checked.error.issues.map((issue) => ({ ...issue, path: ['payload', ...issue.path] }));
    throw badJob(formatIssues({ issues }), issues);
  }
  try {
    definition.check?.(checked.data as never, 'payload');
  } catch (error) {
    if (error instanceof StratumError && error.code === 'BAD_REQUEST') {
      throw badJob(error.message.replace(/^invalid /, ''), error.details);
    }
    throw error;
  }
  const { backoff, ...rest } = queueOptions;
  return {
    kind,
    payload: checked.data,
    ...withoutUndefined(rest),
    ...(backoff !== undefined && { backoff: withoutUndefined(backoff) }),
    ...(options.by !== undefined && { by: options.by }),
  };
}

/** Validates a submission and queues it (or returns the job its idempotency key names). */
export async function submitJob(
  queue: Pick<JobQueue, 'submit'>,
  input: unknown,
  options: SubmitJobOptions = {},
): Promise<JobRecord> {
  return queue.submit(checkSubmission(input, options));
}

function badJob(message: string, details?: unknown): StratumError {
  return new StratumError('BAD_REQUEST', `invalid job: ${message}`, {
    ...(details !== undefined &&
      details !== null && {
        details: Array.isArray(details) ? { issues: details } : (details as Record<string, unknown>),
      }),
  });
}
