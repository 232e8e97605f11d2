/**
 * Jobs under `/api/v1/jobs`: submit (validated against the kinds table before anything is queued),
 * list, show, cancel, retry, and follow a job's progress as server-sent events. A thin shell over
 * the queue and `submitJob`; one declaration per route (see `route.ts`).
 */
import { z } from 'zod';
import { StratumError } from '../../errors/index.ts';
import type { JobQueue } from '../../queue/job-queue.ts';
import { JOB_KIND_NAMES } from '../../jobs/job-kinds.ts';
import { publicJob } from '../../jobs/public-job.ts';
import { JobSubmissionSchema, submitJob } from '../../jobs/submit-job.ts';
import { PageQuery } from './management-schemas.ts';
import { streamJobEvents } from './job-events-stream.ts';
import { actorOf, page } from './request-helpers.ts';
import { documentedAs, type HttpRoute, routeFactory } from './route.ts';
import type { ManagementContext } from './route-context.ts';

const route = routeFactory<ManagementContext>();

/** The queue, or QUEUE_UNAVAILABLE saying how to configure one. */
function queueOf(context: ManagementContext): JobQueue {
  if (context.queue !== undefined) return context.queue;
  throw new StratumError(
    'QUEUE_UNAVAILABLE',
    'this server has no job queue: with a PostgreSQL database, set STRATUM_QUEUE_URL=redis://host:6379',
  );
}

/** Kinds queued on the inference queue when there is one. */
const INFERENCE_KINDS: ReadonlySet<string> = new Set(['infer-async', 'callback']);

/** The queue holding job `id`: the jobs queue, else the inference queue; JOB_NOT_FOUND in neither. */
async function queueHolding(context: ManagementContext, id: string): Promise<JobQueue> {
  const queue = queueOf(context);
  const other = context.inferenceQueue;
  if (other === undefined || other === queue) return queue;
  try {
    await queue.get(id);
    return queue;
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== 'JOB_NOT_FOUND') throw error;
    await other.get(id);
    return other;
  }
}

/** The queue a list reads: the inference queue for its kinds. */
function queueListing(context: ManagementContext, kind: string | undefined): JobQueue {
  const other = context.inferenceQueue;
  return kind !== undefined && other !== undefined && INFERENCE_KINDS.has(kind) ? other : queueOf(context);
}

const JobParams = z.object({ id: z.string().min(1).max(128) });
const JobStateSchema = z.enum(['waiting', 'delayed', 'active', 'completed', 'failed', 'cancelled']);
const JobsQuery = z
  .object({
    ...PageQuery,
    state: JobStateSchema.optional(),
    kind: z.enum(JOB_KIND_NAMES as [string, ...string[]]).optional(),
    parent: z.string().min(1).max(128).optional(),
  })
  .strict();

/** Checked by `submitJob` (its messages name the path inside the payload); documented as the submission. */
const SubmissionBody = documentedAs(z.unknown(), JobSubmissionSchema);

const COMMON = ['BAD_REQUEST', 'INVALID_JSON', 'QUEUE_UNAVAILABLE'] as const;

// What the audit log records of a change: the job's path, and its state as the API shows it.
const jobPath = ({ params }: { readonly params: { readonly id: string } }) => `jobs/${params.id}`;
const jobState = async ({ params }: { readonly params: { readonly id: string } }, context: ManagementContext) =>
  publicJob(await (await queueHolding(context, params.id)).get(params.id));
const isJob = (value: unknown): value is { id: string } =>
  typeof (value as { id?: unknown } | undefined)?.id === 'string';

/** The routes of jobs. */
export const JOB_ROUTES: readonly HttpRoute<ManagementContext>[] = [
  route({
    method: 'POST',
    path: '/api/v1/jobs',
    permission: 'jobs:write',
    summary: 'Submit a job: its kind, its payload (checked against the kind) and queue options',
    tags: ['jobs'],
    body: SubmissionBody,
    status: 201,
    errors: [...COMMON, 'BODY_TOO_LARGE'],
    audit: {
      action: 'job.submit',
      resource: (_input, result) => `jobs${isJob(result) ? `/${result.id}` : ''}`,
    },
    handler: async ({ body, request, reply }, context) => {
      const job = await submitJob(queueOf(context), body, { by: actorOf(request) });
      reply.header('location', `/api/v1/jobs/${encodeURIComponent(job.id)}`);
      return publicJob(job);
    },
  }),
  route({
    method: 'GET',
    path: '/api/v1/jobs',
    permission: 'jobs:read',
    summary: 'List jobs, newest first (by state, kind or parent)',
    tags: ['jobs'],
    query: JobsQuery,
    errors: COMMON,
    handler: async ({ query: q }, context) =>
      page(
        await queueListing(context, q.kind).list({
          ...(q.limit !== undefined && { limit: q.limit }),
          ...(q.cursor !== undefined && { cursor: q.cursor }),
          ...(q.state !== undefined && { state: q.state }),
          ...(q.kind !== undefined && { kind: q.kind }),
          ...(q.parent !== undefined && { parentId: q.parent }),
        }),
        publicJob,
      ),
  }),
  route({
    method: 'GET',
    path: '/api/v1/jobs/:id',
    permission: 'jobs:read',
    summary: 'Show a job: its state, progress, result or error',
    tags: ['jobs'],
    params: JobParams,
    errors: ['JOB_NOT_FOUND', 'QUEUE_UNAVAILABLE'],
    handler: async ({ params }, context) => publicJob(await (await queueHolding(context, params.id)).get(params.id)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/jobs/:id/cancel',
    permission: 'jobs:write',
    summary: 'Cancel a job (a running one stops within seconds and leaves no partial output)',
    tags: ['jobs'],
    params: JobParams,
    audit: { action: 'job.cancel', resource: jobPath, state: jobState },
    errors: ['JOB_NOT_FOUND', 'JOB_FINISHED', 'QUEUE_UNAVAILABLE'],
    handler: async ({ params }, context) => publicJob(await (await queueHolding(context, params.id)).cancel(params.id)),
  }),
  route({
    method: 'POST',
    path: '/api/v1/jobs/:id/retry',
    permission: 'jobs:write',
    summary: 'Run a failed or cancelled job again, its attempts reset',
    tags: ['jobs'],
    params: JobParams,
    audit: { action: 'job.retry', resource: jobPath, state: jobState },
    errors: ['JOB_NOT_FOUND', 'JOB_FINISHED', 'QUEUE_UNAVAILABLE'],
    handler: async ({ params }, context) => publicJob(await (await queueHolding(context, params.id)).retry(params.id)),
  }),
  route({
    method: 'GET',
    path: '/api/v1/jobs/:id/events',
    permission: 'jobs:read',
    summary:
      "A job's progress and state changes as server-sent events: its state first, then each change, until it finishes",
    tags: ['jobs'],
    params: JobParams,
    errors: ['JOB_NOT_FOUND', 'QUEUE_UNAVAILABLE'],
    handler: async ({ params, request, reply }, context) =>
      streamJobEvents({
        jobId: params.id,
        request,
        reply,
        queue: await queueHolding(context, params.id),
        ...(context.shutdown !== undefined && { shutdown: context.shutdown }),
      }),
  }),
];
