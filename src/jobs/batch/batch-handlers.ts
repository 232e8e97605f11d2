/**
 * Batch inference as queue jobs. A `batch-infer` job plans the batch, submits one `batch-chunk`
 * job per unfinished chunk (child of the batch job, idempotency key `<batchId>:chunk:<i>`, so a
 * coordinator that restarts finds its chunks instead of queueing them twice), waits for them —
 * every worker sharing the queue takes chunks — and assembles the output. A chunk job writes its
 * part file, or does nothing when the part exists: its effect happens once however often it runs.
 * A cancelled batch cancels its chunks and leaves no output and no parts.
 */
import { rm, stat } from 'node:fs/promises';
import type { z } from 'zod';
import { isStratumError, StratumError } from '../../errors/index.ts';
import { type ActiveJob, FINISHED_STATES, type JobHandler, type JobQueue } from '../../queue/job-queue.ts';
import type { Registry } from '../../registry/registry.ts';
import type { RuntimePool } from '../../runtime/runtime-pool.ts';
import { awaitChunkJobs } from './await-chunk-jobs.ts';
import { type BatchPlan, readPlan } from './batch-plan.ts';
import { type BatchSpec, batchChunkPayloadSchema, batchSpecSchema, parseBatchSpec, partsDir } from './batch-spec.ts';
import { finishBatch } from './run-batch.ts';
import { type ChunkExecutor, inProcessChunkExecutor } from './chunk-executor.ts';
import { isChunkDone } from './run-chunk.ts';

/** The job kinds this module handles. */
export const BATCH_INFER_KIND = 'batch-infer';
export const BATCH_CHUNK_KIND = 'batch-chunk';

/** What the handlers need. */
export interface BatchHandlerDeps {
  /** The queue chunk jobs are submitted to (the one the batch job came from). */
  readonly queue: JobQueue;
  /** Where the chunks run their model, unless `chunks` says otherwise. */
  readonly runtime: RuntimePool;
  /** Needed for registry models. */
  readonly registry?: Registry | undefined;
  /**
   * Where the chunks run; closed with the handlers.
   * @default inProcessChunkExecutor over `runtime` (this thread)
   */
  readonly chunks?: ChunkExecutor | undefined;
}

/** The handlers by kind, their payload schemas, and `close()` for the models they loaded. */
export interface BatchHandlers {
  readonly handlers: Readonly<Record<typeof BATCH_INFER_KIND | typeof BATCH_CHUNK_KIND, JobHandler>>;
  readonly schemas: {
    readonly [BATCH_INFER_KIND]: typeof batchSpecSchema;
    readonly [BATCH_CHUNK_KIND]: typeof batchChunkPayloadSchema;
  };
  /** Unloads the models the chunk jobs loaded. Idempotent. */
  close(): Promise<void>;
}

/**
 * The batch job handlers, for the jobs kinds table.
 *
 * @example
 * ```ts
 * const batch = createBatchHandlers({ queue, runtime, registry });
 * queue.work({ handler: (job) => batch.handlers[job.record.kind as 'batch-infer'](job), kinds: ['batch-infer', 'batch-chunk'] });
 * ```
 */
export function createBatchHandlers(deps: BatchHandlerDeps): BatchHandlers {
  const chunks = deps.chunks ?? inProcessChunkExecutor({ runtime: deps.runtime, registry: deps.registry });
  return {
    handlers: {
      [BATCH_INFER_KIND]: (job) => coordinate({ deps, chunks, job }),
      [BATCH_CHUNK_KIND]: async (job) => {
        const payload = batchChunkPayloadSchema.parse(job.record.payload);
        const spec = parseBatchSpec(payload.spec);
        const plan = await readPlan(partsDir(spec));
        const chunk = plan?.chunks[payload.chunk];
        if (plan === undefined || chunk === undefined) {
          // The batch finished without this job (its coordinator ran the chunk): nothing to do.
          if (await exists(spec.output)) return { index: payload.chunk, skipped: true };
          throw new StratumError(
            'PRECONDITION_FAILED',
            `batch ${payload.batchId}: no plan with chunk ${payload.chunk}`,
          );
        }
        return await chunks.run({ spec, plan, chunk, signal: job.signal });
      },
    },
    schemas: { [BATCH_INFER_KIND]: batchSpecSchema, [BATCH_CHUNK_KIND]: batchChunkPayloadSchema },
    close: () => chunks.close(),
  };
}

async function coordinate(options: {
  deps: BatchHandlerDeps;
  chunks: ChunkExecutor;
  job: ActiveJob;
}): Promise<unknown> {
  const { deps, chunks, job } = options;
  const spec = parseBatchSpec(job.record.payload);
  const { signal } = job;
  try {
    const plan = await chunks.plan({ spec, signal });
    const columns = await chunks.columns({ spec, plan });
    const jobs = await submitChunks(deps.queue, { job, spec, plan });
    let chunksDone = plan.chunks.length - jobs.size;
    let rowsDone = plan.chunks.filter((c) => !jobs.has(c.index)).reduce((sum, c) => sum + c.rows, 0);
    const report = (): Promise<void> =>
      job.progress({
        fraction: plan.chunks.length === 0 ? 1 : chunksDone / plan.chunks.length,
        message: `${chunksDone}/${plan.chunks.length} chunks`,
        data: { chunks: plan.chunks.length, chunksDone, rows: plan.rows, rowsDone },
      });
    await report();
    const helping = new AbortController();
    let wake: () => void = () => undefined;
    const helper = helpWithChunks({
      queue: deps.queue,
      chunks,
      spec,
      plan,
      jobs,
      signal: AbortSignal.any([signal, helping.signal]),
      onDone: () => wake(),
    });
    try {
      await awaitChunkJobs({
        queue: deps.queue,
        jobs,
        signal,
        partDone: (chunk) => isChunkDone({ spec, index: chunk }),
        onWake: (w) => (wake = w),
        onCompleted: async (chunk) => {
          chunksDone++;
          rowsDone += plan.chunks[chunk]?.rows ?? 0;
          await report();
        },
      });
    } finally {
      helping.abort();
      await helper;
    }
    signal.throwIfAborted();
    // Chunk jobs the coordinator made unnecessary stop before the parts are assembled and removed.
    await stopChunks(deps.queue, { job, spec, cancelled: false });
    return await finishBatch({ spec, plan, columns, resumedChunks: plan.chunks.length - jobs.size });
  } catch (error) {
    // A worker shutting down leaves the chunks running: the batch job comes back and finds them.
    if (signal.aborted && !isShutdown(signal.reason)) {
      await stopChunks(deps.queue, { job, spec, cancelled: isCancel(signal.reason) });
    }
    throw signal.aborted ? (signal.reason ?? error) : error;
  }
}

/**
 * While it waits, the coordinator runs chunks no worker has taken yet, from the last one back (the
 * workers take them from the first): a worker running batches alone, with one slot, still
 * finishes them, and no slot idles. A chunk job that comes to a chunk already done does nothing.
 */
async function helpWithChunks(options: {
  queue: JobQueue;
  chunks: ChunkExecutor;
  spec: BatchSpec;
  plan: BatchPlan;
  jobs: ReadonlyMap<number, string>;
  signal: AbortSignal;
  onDone: () => void;
}): Promise<void> {
  const { spec, plan, signal } = options;
  const chunks = [...options.jobs].sort((a, b) => b[0] - a[0]);
  for (const [index, id] of chunks) {
    if (signal.aborted) return;
    if (await isChunkDone({ spec, index })) continue;
    const record = await options.queue.get(id).catch(() => undefined);
    const chunk = plan.chunks[index];
    if (record?.state !== 'waiting' || chunk === undefined) continue;
    try {
      await options.chunks.run({ spec, plan, chunk, signal });
      options.onDone();
    } catch {
      // Aborted, or failed here: the chunk's own job runs it (and reports its failure).
      if (signal.aborted) return;
    }
  }
}

/** Submits (or finds again) a job per unfinished chunk; chunk index → job id. */
async function submitChunks(
  queue: JobQueue,
  options: { job: ActiveJob; spec: BatchSpec; plan: BatchPlan },
): Promise<Map<number, string>> {
  const { job, spec, plan } = options;
  const jobs = new Map<number, string>();
  for (const chunk of plan.chunks) {
    if (await isChunkDone({ spec, index: chunk.index })) continue;
    let record = await queue.submit({
      kind: BATCH_CHUNK_KIND,
      payload: { batchId: job.record.id, spec, chunk: chunk.index } satisfies z.input<typeof batchChunkPayloadSchema>,
      idempotencyKey: `${job.record.id}:chunk:${chunk.index}`,
      parentId: job.record.id,
      by: job.record.by,
      ...(job.record.priority !== undefined && { priority: job.record.priority }),
    });
    // A chunk that failed or was cancelled in an earlier attempt of this batch gets another go.
    if (record.state === 'failed' || record.state === 'cancelled') record = await queue.retry(record.id);
    jobs.set(chunk.index, record.id);
  }
  return jobs;
}

/**
 * Cancels the batch's unfinished chunk jobs (after a cancel, or chunks the coordinator ran itself)
 * and waits until they have stopped (each removes its temporary file); a cancelled batch then
 * loses its parts too.
 */
async function stopChunks(
  queue: JobQueue,
  options: { job: ActiveJob; spec: BatchSpec; cancelled: boolean },
): Promise<void> {
  const unfinished = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = await queue.list({
      parentId: options.job.record.id,
      limit: 1000,
      ...(cursor !== undefined && { cursor }),
    });
    for (const child of page.items) {
      if (FINISHED_STATES.includes(child.state)) continue;
      unfinished.set(child.id, unfinished.size);
      await queue.cancel(child.id).catch(() => undefined);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  await awaitChunkJobs({
    queue,
    jobs: invert(unfinished),
    signal: new AbortController().signal,
    onCompleted: () => undefined,
    until: 'finished',
  });
  if (options.cancelled) await rm(partsDir(options.spec), { recursive: true, force: true });
}

function invert(ids: ReadonlyMap<string, number>): Map<number, string> {
  return new Map([...ids].map(([id, index]) => [index, id]));
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function isShutdown(reason: unknown): boolean {
  return isStratumError(reason) && reason.code === 'SHUTTING_DOWN';
}

function isCancel(reason: unknown): boolean {
  return isStratumError(reason) && reason.code === 'JOB_CANCELLED';
}

export { batchChunkPayloadSchema } from './batch-spec.ts';
