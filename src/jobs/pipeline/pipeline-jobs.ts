/**
 * The handler of the `pipeline` job kind: the coordinator of one run. The run takes the job's id,
 * so a job recovered after its worker died resumes the run from the store; its progress carries
 * the steps.
 */
import type { AuditSink } from '../../audit/audit-sink.ts';
import type { Logger } from '../../logging/logger.ts';
import type { JobHandler } from '../../queue/job-queue.ts';
import type { MetadataStore } from '../../store/metadata-store.ts';
import { PipelinePayloadSchema } from '../../pipelines/pipeline-payload.ts';
import { parsePipelineSpec } from '../../pipelines/pipeline-spec.ts';
import type { PipelineContext } from './pipeline-steps.ts';
import { type PipelineStep, runPipeline, STEP_NAMES } from './run-pipeline.ts';

export function pipelineJobHandler(options: {
  readonly store: Pick<MetadataStore, 'createPipelineRun' | 'updatePipelineRun' | 'getAlias'>;
  readonly context: PipelineContext;
  readonly logger: Logger;
  readonly audit?: AuditSink;
}): JobHandler {
  return async (job) => {
    const payload = PipelinePayloadSchema.parse(job.record.payload);
    const spec = parsePipelineSpec(payload.spec, 'payload.spec');
    const run = await runPipeline({
      id: job.record.id,
      spec,
      trigger: payload.trigger,
      by: `pipeline:${spec.name}`,
      createdBy: job.record.by,
      store: options.store,
      context: options.context,
      logger: options.logger.child({ pipeline: spec.name, run: job.record.id }),
      signal: job.signal,
      ...(options.audit !== undefined && { audit: options.audit }),
      onRun: (current) => {
        const steps = current.steps as PipelineStep[];
        const done = steps.filter((s) => s.status === 'succeeded').length;
        const last = steps[steps.length - 1];
        void job
          .progress({
            fraction: Math.min(1, done / STEP_NAMES.length),
            message: last === undefined ? current.status : `${last.name} ${last.status}`,
            data: { status: current.status, steps: steps.map((s) => ({ name: s.name, status: s.status })) },
          })
          .catch(() => undefined);
      },
    });
    return { run: run.id, status: run.status, outcome: run.outcome };
  };
}
