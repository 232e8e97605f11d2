/**
 * Pipelines as the API, the CLI, the alerts and the scheduler use them: specs kept by name
 * (checked before they are written), and runs started as `pipeline` jobs — one run of a pipeline
 * at a time, the run recorded as `queued` as soon as its job is, under the job's id.
 */
import { StratumError } from '../errors/index.ts';
import type { Logger } from '../logging/logger.ts';
import { FINISHED_STATES, type JobQueue } from '../queue/job-queue.ts';
import type { MetadataStore } from '../store/metadata-store.ts';
import type { PipelineRecord, PipelineRunRecord } from '../store/pipeline-records.ts';
import type { PipelinePayload, PipelineTrigger } from './pipeline-payload.ts';
import { nextScheduled, parsePipelineSpec, type PipelineSpec } from './pipeline-spec.ts';

/** A pipeline with what a list shows beside it. */
export interface PipelineSummary extends PipelineRecord {
  readonly spec: PipelineSpec;
  /** Its newest run. */
  readonly lastRun?: PipelineRunRecord;
  /** When its schedule fires next (ISO), if it has one. */
  readonly nextRunAt?: string;
}

export interface PipelineService {
  /** Checks (BAD_REQUEST naming the field) and keeps a spec under its name. */
  put(options: { spec: unknown; by: string; name?: string }): Promise<PipelineRecord & { created: boolean }>;
  get(name: string): Promise<PipelineSummary>;
  list(): Promise<PipelineSummary[]>;
  delete(name: string): Promise<void>;
  /**
   * Starts a run of the pipeline named `name` (PIPELINE_RUNNING when one is queued or running).
   * `idempotencyKey` makes a repeated start (two replicas at one schedule slot) one run.
   */
  start(options: {
    name: string;
    trigger: PipelineTrigger;
    by: string;
    idempotencyKey?: string;
  }): Promise<PipelineRunRecord>;
  runs(options: { pipeline?: string; limit?: number }): Promise<PipelineRunRecord[]>;
  run(id: string): Promise<PipelineRunRecord>;
  /** Cancels a run's job (its run ends `cancelled`). */
  cancel(id: string): Promise<PipelineRunRecord>;
}

export function createPipelineService(options: {
  readonly store: Pick<
    MetadataStore,
    | 'putPipeline'
    | 'getPipeline'
    | 'listPipelines'
    | 'deletePipeline'
    | 'createPipelineRun'
    | 'updatePipelineRun'
    | 'getPipelineRun'
    | 'listPipelineRuns'
  >;
  /** Absent: runs cannot start (QUEUE_UNAVAILABLE). */
  readonly queue: Pick<JobQueue, 'submit' | 'get' | 'cancel'> | undefined;
  readonly logger: Logger;
  readonly now?: () => number;
}): PipelineService {
  const { store } = options;
  const now = options.now ?? Date.now;

  const summarize = async (record: PipelineRecord): Promise<PipelineSummary> => {
    const spec = record.spec as PipelineSpec;
    const [lastRun] = await store.listPipelineRuns({ pipeline: record.name, limit: 1 });
    const next = spec.schedule === undefined ? undefined : nextScheduled(spec.schedule, now());
    return {
      ...record,
      spec,
      ...(lastRun !== undefined && { lastRun }),
      ...(next !== undefined && { nextRunAt: new Date(next).toISOString() }),
    };
  };

  const queueOf = () => {
    if (options.queue === undefined) {
      throw new StratumError('QUEUE_UNAVAILABLE', 'pipeline runs are jobs, and this server has no job queue');
    }
    return options.queue;
  };

  /** Ends a run whose job ended without it (cancelled before it started, or failed outside the run). */
  const settleOrphan = async (run: PipelineRunRecord): Promise<PipelineRunRecord> => {
    const queue = queueOf();
    const job = await queue.get(run.id).catch(() => undefined);
    if (job !== undefined && !FINISHED_STATES.includes(job.state)) return run;
    const status = job?.state === 'cancelled' ? 'cancelled' : 'failed';
    const reason = job === undefined ? 'its job no longer exists' : `its job ended ${job.state} before the run did`;
    options.logger.warn({ run: run.id, pipeline: run.pipeline, reason }, 'pipeline run settled');
    return store.updatePipelineRun({ id: run.id, status, outcome: { reason }, finishedAt: now() });
  };

  return {
    async put({ spec, by, name }) {
      const checked = parsePipelineSpec(spec);
      if (name !== undefined && checked.name !== name) {
        throw new StratumError(
          'BAD_REQUEST',
          `invalid pipeline: name: the spec is named "${checked.name}" but was sent to "${name}"`,
        );
      }
      return store.putPipeline({ name: checked.name, spec: checked, by });
    },
    get: async (name) => summarize(await store.getPipeline(name)),
    list: async () => Promise.all((await store.listPipelines()).map(summarize)),
    delete: (name) => store.deletePipeline(name),

    async start({ name, trigger, by, idempotencyKey }) {
      const queue = queueOf();
      const record = await store.getPipeline(name);
      const spec = parsePipelineSpec(record.spec, `pipeline ${name}`);
      const active = await store.listPipelineRuns({ pipeline: name, statuses: ['queued', 'running'], limit: 10 });
      for (const run of active) {
        const settled = await settleOrphan(run);
        if (settled.status === 'queued' || settled.status === 'running') {
          throw new StratumError(
            'PIPELINE_RUNNING',
            `pipeline "${name}" already has run ${run.id} ${settled.status}; one run of a pipeline goes at a time`,
            { details: { run: run.id } },
          );
        }
      }
      const payload: PipelinePayload = { spec, trigger };
      const job = await queue.submit({
        kind: 'pipeline',
        payload,
        by,
        // A coordinator that dies mid-run is resumed from the store by the next attempt.
        attempts: 3,
        ...(idempotencyKey !== undefined && { idempotencyKey }),
      });
      return store.createPipelineRun({ id: job.id, pipeline: name, trigger, spec, by });
    },

    runs: (query) => store.listPipelineRuns(query),
    run: (id) => store.getPipelineRun(id),
    async cancel(id) {
      const run = await store.getPipelineRun(id);
      const job = await queueOf().cancel(run.id);
      // A job cancelled before it started never runs the run: it ends here.
      if (job.state === 'cancelled' && run.status === 'queued') {
        return store.updatePipelineRun({
          id,
          status: 'cancelled',
          outcome: { reason: 'cancelled before it started' },
          finishedAt: now(),
        });
      }
      return store.getPipelineRun(id);
    },
  };
}
