/**
 * Runs a pipeline run to its end: ingest → train → evaluate → gate → register the candidate →
 * canary → promote, each step recorded in the store with its inputs and outputs as it starts and
 * ends. The store is the run's memory: a coordinator that takes the run over (its job recovered
 * after the worker died) skips the steps that succeeded and rejoins the one that was running.
 */
import type { AuditSink } from '../../audit/audit-sink.ts';
import { StratumError } from '../../errors/index.ts';
import type { Logger } from '../../logging/logger.ts';
import type { MetadataStore } from '../../store/metadata-store.ts';
import { FINISHED_RUN_STATUSES, type PipelineRunRecord, type PipelineRunStatus } from '../../store/pipeline-records.ts';
import {
  canary,
  type CanaryOutputs,
  evaluate,
  type EvaluateOutputs,
  gate,
  type GateOutputs,
  ingest,
  type IngestOutputs,
  type PipelineContext,
  type StepScope,
  train,
  type TrainOutputs,
} from './pipeline-steps.ts';
import type { PipelineTrigger } from '../../pipelines/pipeline-payload.ts';
import { type PipelineSpec, pipelineModel } from '../../pipelines/pipeline-spec.ts';

/** The steps, in order. */
export const STEP_NAMES = ['ingest', 'train', 'evaluate', 'gate', 'register', 'canary', 'promote'] as const;
export type StepName = (typeof STEP_NAMES)[number];

/** A step as recorded on its run. */
export interface PipelineStep {
  readonly name: StepName;
  readonly status: 'running' | 'succeeded' | 'failed';
  readonly startedAt: number;
  readonly finishedAt?: number;
  readonly inputs?: Readonly<Record<string, unknown>>;
  readonly outputs?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

/** Options of {@link runPipeline}. */
export interface RunPipelineOptions {
  /** The run's id (its job's). */
  readonly id: string;
  readonly spec: PipelineSpec;
  readonly trigger: PipelineTrigger;
  /** Who the run acts as (recorded on its jobs, rollouts and alias moves). */
  readonly by: string;
  /** Who started the run (recorded on it). @default by */
  readonly createdBy?: string;
  readonly store: Pick<MetadataStore, 'createPipelineRun' | 'updatePipelineRun' | 'getAlias'>;
  readonly context: PipelineContext;
  readonly audit?: AuditSink;
  readonly logger: Logger;
  /**
   * Aborted as a cancel (JOB_CANCELLED), the run ends `cancelled` (its child jobs are cancelled, a
   * running canary rolled back); aborted for another reason (shutdown, lost lock), it stays
   * `running` for the coordinator that takes the job next and the reason is thrown.
   */
  readonly signal?: AbortSignal;
  /** Told after every change of the run (job progress). */
  readonly onRun?: (run: PipelineRunRecord) => void;
}

/** A run that ends early, and how. */
class RunEnded extends Error {
  constructor(
    readonly status: PipelineRunStatus,
    readonly outcome: Record<string, unknown>,
  ) {
    super(status);
  }
}

/** Runs (or resumes) the run to its end and returns its final record. */
export async function runPipeline(options: RunPipelineOptions): Promise<PipelineRunRecord> {
  const { store, spec, id } = options;
  let run = await store.createPipelineRun({
    id,
    pipeline: spec.name,
    trigger: options.trigger,
    spec,
    by: options.createdBy ?? options.by,
  });
  if (FINISHED_RUN_STATUSES.includes(run.status)) return run;
  const steps = [...(run.steps as PipelineStep[])];
  const save = async (update: { status?: PipelineRunStatus; outcome?: unknown; finishedAt?: number } = {}) => {
    run = await store.updatePipelineRun({ id, steps, ...update });
    options.onRun?.(run);
  };
  await save({ status: 'running' });
  const scope: StepScope = {
    runId: id,
    by: options.by,
    ...(options.signal !== undefined && { signal: options.signal }),
  };

  /** Runs step `name` unless an earlier coordinator finished it; records it either way. */
  const step = async <T>(
    name: StepName,
    inputs: Record<string, unknown>,
    fn: (partial: T | undefined, note: (outputs: T) => Promise<void>) => Promise<T>,
  ): Promise<T> => {
    const index = steps.findIndex((s) => s.name === name);
    const prior = index === -1 ? undefined : steps[index];
    if (prior?.status === 'succeeded') return prior.outputs as T;
    const at = index === -1 ? steps.length : index;
    const startedAt = prior?.startedAt ?? Date.now();
    steps[at] = {
      name,
      status: 'running',
      startedAt,
      inputs,
      ...(prior?.outputs !== undefined && { outputs: prior.outputs }),
    };
    await save();
    const note = async (outputs: T): Promise<void> => {
      steps[at] = { name, status: 'running', startedAt, inputs, outputs };
      await save();
    };
    try {
      const outputs = await fn(prior?.outputs as T | undefined, note);
      steps[at] = { name, status: 'succeeded', startedAt, finishedAt: Date.now(), inputs, outputs };
      await save();
      return outputs;
    } catch (error) {
      if (!stopsHere(options.signal)) {
        const { code, message } = errorOf(error);
        steps[at] = {
          ...(steps[at] as PipelineStep),
          status: 'failed',
          finishedAt: Date.now(),
          error: { code, message },
        };
        await save();
      }
      throw error;
    }
  };

  try {
    const outcome = await runSteps({ options, step, scope });
    await save({ status: 'succeeded', outcome, finishedAt: Date.now() });
  } catch (error) {
    if (error instanceof RunEnded) {
      await save({ status: error.status, outcome: error.outcome, finishedAt: Date.now() });
    } else if (options.signal?.aborted === true && !isCancel(options.signal.reason)) {
      // Shutdown or a lost lock: the run stays `running` for the coordinator that takes the job next.
      throw options.signal.reason as Error;
    } else if (options.signal?.aborted === true) {
      await save({ status: 'cancelled', outcome: { reason: 'the run was cancelled' }, finishedAt: Date.now() });
    } else {
      const { code, message } = errorOf(error);
      await save({ status: 'failed', outcome: { error: { code, message } }, finishedAt: Date.now() });
    }
  }
  options.logger.info({ pipeline: spec.name, run: id, status: run.status }, `pipeline run ${run.status}`);
  return run;
}

type Step = <T>(
  name: StepName,
  inputs: Record<string, unknown>,
  fn: (partial: T | undefined, note: (outputs: T) => Promise<void>) => Promise<T>,
) => Promise<T>;

async function runSteps(args: {
  options: RunPipelineOptions;
  step: Step;
  scope: StepScope;
}): Promise<Record<string, unknown>> {
  const { options, step, scope } = args;
  const { spec, context, store } = options;
  const model = pipelineModel(spec);
  const ingested = await step<IngestOutputs>('ingest', { declared: spec.train.data.source, ...spec.ingest }, () =>
    ingest(spec),
  );
  const trained = await step<TrainOutputs>('train', { model, data: ingested.source }, () =>
    train({ spec, ingested, context, scope }),
  );
  const production = await aliasVersion(store, model, spec.aliases.production);
  const scores = await step<EvaluateOutputs>(
    'evaluate',
    { data: spec.evaluate.data.source, candidate: trained.version, production: production ?? null },
    () => evaluate({ spec, trained, production, context, scope }),
  );
  const verdict = await step<GateOutputs>(
    'gate',
    { metric: spec.evaluate.metric, margin: spec.evaluate.margin },
    async () => gate(spec, scores),
  );
  const summary = { model, candidate: trained.version, production: production ?? null, gate: verdict };
  if (!verdict.passed) throw new RunEnded('rejected', { ...summary, reason: verdict.reason });
  await step('register', { alias: spec.aliases.candidate, version: trained.version }, async () => {
    const before = await aliasVersion(store, model, spec.aliases.candidate);
    await context.registry.setAlias({
      model,
      alias: spec.aliases.candidate,
      version: trained.version,
      by: scope.by,
      reason: `pipeline ${spec.name} run ${scope.runId}: ${verdict.reason}`,
    });
    await audit(options, {
      action: 'alias.set',
      resource: `models/${model}/aliases/${spec.aliases.candidate}`,
      before,
      after: trained.version,
    });
    return { alias: spec.aliases.candidate, version: trained.version };
  });
  if (spec.deploy === undefined) {
    return { ...summary, reason: `candidate registered as "${spec.aliases.candidate}"; no deploy step declared` };
  }
  const deploy = spec.deploy;
  let ended: CanaryOutputs;
  try {
    ended = await step<CanaryOutputs>(
      'canary',
      {
        deployment: deploy.deployment,
        version: trained.version,
        ...(deploy.canary !== undefined && { canary: deploy.canary }),
      },
      (partial, note) => canary({ spec, version: trained.version, context, scope, started: partial, note }),
    );
  } catch (error) {
    await rollBackOnCancel(options, deploy.deployment);
    throw error;
  }
  if (ended.status !== 'promoted') {
    throw new RunEnded('rolled_back', {
      ...summary,
      canary: ended,
      reason: ended.reason ?? 'the canary was not promoted',
    });
  }
  await step('promote', { alias: spec.aliases.production, version: trained.version }, async () => {
    // A deployment that follows the production alias moved it on promotion; one routed by version did not.
    const before = await aliasVersion(store, model, spec.aliases.production);
    if (before !== trained.version) {
      await context.registry.setAlias({
        model,
        alias: spec.aliases.production,
        version: trained.version,
        by: scope.by,
        reason: `pipeline ${spec.name} run ${scope.runId}: canary ${ended.canaryId} promoted`,
      });
      await audit(options, {
        action: 'alias.set',
        resource: `models/${model}/aliases/${spec.aliases.production}`,
        before,
        after: trained.version,
      });
    }
    return {
      alias: spec.aliases.production,
      version: trained.version,
      movedBy: before === trained.version ? 'canary' : 'pipeline',
    };
  });
  return { ...summary, canary: ended, reason: `version ${trained.version} promoted to "${spec.aliases.production}"` };
}

/** The version an alias points at, or undefined when there is no such alias. */
async function aliasVersion(
  store: Pick<MetadataStore, 'getAlias'>,
  model: string,
  alias: string,
): Promise<number | undefined> {
  try {
    return (await store.getAlias(model, alias)).version;
  } catch (error) {
    if (error instanceof StratumError && (error.code === 'ALIAS_NOT_FOUND' || error.code === 'MODEL_NOT_FOUND')) {
      return undefined;
    }
    throw error;
  }
}

/** A cancelled run does not leave its canary running. */
async function rollBackOnCancel(options: RunPipelineOptions, deployment: string): Promise<void> {
  if (options.signal?.aborted !== true || !isCancel(options.signal.reason)) return;
  const current = await options.context.registry.getDeployment(deployment);
  const running = current.state.canary;
  if (running?.status !== 'running') return;
  await options.context.registry
    .rollbackCanary({
      name: deployment,
      canaryId: running.id,
      reason: `pipeline run ${options.id} was cancelled`,
      by: options.by,
    })
    .catch((error: unknown) => options.logger.warn({ err: error }, 'could not roll back the cancelled run’s canary'));
}

async function audit(
  options: RunPipelineOptions,
  change: { action: string; resource: string; before: unknown; after: unknown },
): Promise<void> {
  const { action, resource, before, after } = change;
  if (options.audit === undefined) return;
  const entry = { actor: options.by, source: 'pipeline', outcome: 'ok' as const, action, resource, before, after };
  await options.audit
    .append(entry)
    .catch((error: unknown) =>
      options.logger.error({ err: error, audit: entry }, 'audit record could not be appended: the change was made'),
    );
}

/** A cancel (or an abort without a StratumError reason) rather than a shutdown. */
function isCancel(reason: unknown): boolean {
  return !(reason instanceof StratumError) || reason.code === 'JOB_CANCELLED';
}

/** Whether the run stops here for the next coordinator (nothing recorded as failed). */
function stopsHere(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && !isCancel(signal.reason);
}

function errorOf(error: unknown): { code: string; message: string } {
  if (error instanceof StratumError) return { code: error.code, message: error.message };
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
