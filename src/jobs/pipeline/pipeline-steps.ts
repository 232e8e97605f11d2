/**
 * The steps of a retraining pipeline, each a function of the spec and what the steps before it
 * produced. Training and evaluation run as child jobs of the pipeline's job (idempotency keys
 * `<run>:train`, `<run>:evaluate:<which>`), so a coordinator that resumes a run after its worker
 * died rejoins the jobs already queued instead of starting them twice; the canary is found again
 * by its id, which the step records as soon as it starts.
 */
import { StratumError } from '../../errors/index.ts';
import type { EvaluateJobResult } from '../evaluate/evaluate-in-thread.ts';
import type { JobPayload } from '../job-kinds.ts';
import type { TrainJobResult } from '../train-job.ts';
import { jobFinished } from '../tune/trial-launchers.ts';
import type { JobQueue, JobRecord } from '../../queue/job-queue.ts';
import type { Deployment, Registry } from '../../registry/registry.ts';
import { newestFile } from '../../pipelines/newest-file.ts';
import { metricMode, type PipelineSpec, pipelineModel } from '../../pipelines/pipeline-spec.ts';

/** What the steps run on. */
export interface PipelineContext {
  readonly registry: Registry;
  readonly queue: Pick<JobQueue, 'submit' | 'get' | 'onEvent' | 'cancel'>;
}

/** Where a step reports the job it waits on (so a cancel reaches it). */
export interface StepScope {
  readonly runId: string;
  readonly by: string;
  readonly signal?: AbortSignal;
}

/** The training data the run uses. */
export interface IngestOutputs {
  readonly source: PipelineSpec['train']['data']['source'];
  readonly file?: {
    readonly path: string;
    readonly modifiedAt: string;
    readonly bytes: number;
    readonly matched: number;
  };
}

/** The ingest step: the newest matching file replaces the training data's path, or the data is as declared. */
export async function ingest(spec: PipelineSpec): Promise<IngestOutputs> {
  const source = spec.train.data.source;
  const newest = spec.ingest.newest;
  if (newest === undefined) return { source };
  const file = await newestFile({ dir: newest.dir, pattern: newest.pattern, baseDir: spec.baseDir });
  return {
    source: { ...source, path: file.path } as IngestOutputs['source'],
    file: {
      path: file.path,
      modifiedAt: new Date(file.modifiedAt).toISOString(),
      bytes: file.bytes,
      matched: file.matched,
    },
  };
}

/** What training produced. */
export interface TrainOutputs {
  readonly job: string;
  readonly runId: string;
  readonly model: string;
  readonly version: number;
  readonly metrics: Readonly<Record<string, number>>;
}

/** The train step: a `train` child job on the ingested data, registering a version without moving any alias. */
export async function train(args: {
  spec: PipelineSpec;
  ingested: IngestOutputs;
  context: PipelineContext;
  scope: StepScope;
}): Promise<TrainOutputs> {
  const { spec, ingested, context, scope } = args;
  const payload: JobPayload<'train'> = {
    spec: { ...spec.train, data: { ...spec.train.data, source: ingested.source } },
    baseDir: spec.baseDir,
  };
  const job = await childJob(context, scope, { kind: 'train', key: 'train', payload });
  const result = job.result as TrainJobResult;
  if (result.version === undefined) {
    throw new StratumError('INTERNAL', `train job ${job.id} registered no version (run ${result.runId})`);
  }
  return {
    job: job.id,
    runId: result.runId,
    model: result.version.model,
    version: result.version.version,
    metrics: result.metrics,
  };
}

/** One version's score on the held-out set. */
export interface Score {
  readonly version: number;
  readonly job: string;
  readonly runId?: string;
  readonly value: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly rows: number;
}

/** What evaluation found: the candidate's score and, when there is one, production's. */
export interface EvaluateOutputs {
  readonly metric: string;
  readonly candidate: Score;
  readonly production?: Score;
}

/** The evaluate step: both versions scored on the same held-out set, as `evaluate` child jobs run at once. */
export async function evaluate(args: {
  spec: PipelineSpec;
  trained: TrainOutputs;
  production: number | undefined;
  context: PipelineContext;
  scope: StepScope;
}): Promise<EvaluateOutputs> {
  const { spec, trained, production, context, scope } = args;
  const model = pipelineModel(spec);
  const score = async (which: 'candidate' | 'production', version: number): Promise<Score> => {
    const payload: JobPayload<'evaluate'> = {
      model,
      version,
      data: spec.evaluate.data,
      baseDir: spec.baseDir,
      record: true,
    };
    const job = await childJob(context, scope, { kind: 'evaluate', key: `evaluate:${which}`, payload });
    const result = job.result as EvaluateJobResult;
    const value = result.metrics[spec.evaluate.metric];
    if (value === undefined) {
      throw new StratumError(
        'BAD_REQUEST',
        `evaluate.metric: version ${version} of ${model} has no "${spec.evaluate.metric}" on the held-out set (it has: ${Object.keys(result.metrics).join(', ')})`,
      );
    }
    return {
      version,
      job: job.id,
      ...(result.runId !== undefined && { runId: result.runId }),
      value,
      metrics: result.metrics,
      rows: result.data.scored,
    };
  };
  const [candidate, champion] = await Promise.all([
    score('candidate', trained.version),
    production === undefined ? Promise.resolve(undefined) : score('production', production),
  ]);
  return { metric: spec.evaluate.metric, candidate, ...(champion !== undefined && { production: champion }) };
}

/** The gate's verdict. */
export interface GateOutputs {
  readonly passed: boolean;
  readonly metric: string;
  readonly mode: 'max' | 'min';
  readonly margin: number;
  readonly candidate: number;
  readonly production?: number;
  /** How much better the candidate is (positive: better), in the metric's units. */
  readonly improvement?: number;
  readonly reason: string;
}

/** The gate: the candidate must beat production by the margin (strictly better when the margin is 0). */
export function gate(spec: PipelineSpec, scores: EvaluateOutputs): GateOutputs {
  const { metric, margin } = spec.evaluate;
  const mode = spec.evaluate.mode ?? metricMode(metric);
  const candidate = scores.candidate.value;
  const base = { metric, mode, margin, candidate };
  if (scores.production === undefined) {
    return { ...base, passed: true, reason: `no ${spec.aliases.production} version to beat` };
  }
  const production = scores.production.value;
  const improvement = mode === 'max' ? candidate - production : production - candidate;
  const passed = improvement > 0 && improvement >= margin;
  const verdict = passed ? 'beats' : 'does not beat';
  return {
    ...base,
    production,
    improvement,
    passed,
    reason: `candidate ${metric} ${format(candidate)} ${verdict} production's ${format(production)} by the margin ${margin} (${mode === 'max' ? 'higher' : 'lower'} is better; improvement ${format(improvement)})`,
  };
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

/** Waits for a canary to finish; what it ended as. */
export interface CanaryOutputs {
  readonly deployment: string;
  readonly canaryId: string;
  readonly version: number;
  readonly stable?: number;
  readonly status?: 'promoted' | 'rolled_back' | 'aborted';
  readonly reason?: string;
}

/** Starts the canary (unless `started` says a coordinator before this one did) and waits for its end. */
export async function canary(args: {
  spec: PipelineSpec;
  version: number;
  context: PipelineContext;
  scope: StepScope;
  started: Pick<CanaryOutputs, 'canaryId'> | undefined;
  /** Records the canary's id as soon as it runs. */
  note: (outputs: CanaryOutputs) => Promise<void>;
}): Promise<CanaryOutputs> {
  const { spec, version, context, scope } = args;
  const deploy = spec.deploy as NonNullable<PipelineSpec['deploy']>;
  const { registry } = context;
  let canaryId = args.started?.canaryId;
  let stable: number | undefined;
  if (canaryId === undefined) {
    // A coordinator that died between starting the canary and recording it left it running: adopt it.
    const running = (await registry.getDeployment(deploy.deployment)).state.canary;
    if (running?.status === 'running' && running.canary === version && running.startedBy === scope.by) {
      canaryId = running.id;
      stable = running.stable;
      await args.note({ deployment: deploy.deployment, canaryId, version, stable });
    }
  }
  if (canaryId === undefined) {
    const deployment = await registry.startRollout({
      name: deploy.deployment,
      request: {
        strategy: 'canary',
        version,
        ...(deploy.canary !== undefined && { canary: deploy.canary }),
        reason: `pipeline ${spec.name} run ${scope.runId}`,
      },
      by: scope.by,
    });
    const started = deployment.state.canary;
    if (started === undefined) throw new StratumError('INTERNAL', `deployment ${deploy.deployment} started no canary`);
    canaryId = started.id;
    stable = started.stable;
    await args.note({ deployment: deploy.deployment, canaryId, version, stable });
  }
  const ended = await canaryEnded({
    registry,
    deployment: deploy.deployment,
    canaryId,
    timeoutMs: deploy.timeoutSeconds * 1000,
    by: scope.by,
    ...(scope.signal !== undefined && { signal: scope.signal }),
  });
  const state = ended.state.canary;
  return {
    deployment: deploy.deployment,
    canaryId,
    version,
    ...(state !== undefined && { stable: state.stable }),
    ...(state !== undefined && state.status !== 'running' && { status: state.status }),
    ...(state?.reason !== undefined && { reason: state.reason }),
  };
}

/**
 * Resolves with the deployment once canary `canaryId` is no longer running. Past the timeout the
 * canary is rolled back (never promoted on a guess); an abort of `signal` rejects with its reason.
 */
export function canaryEnded(args: {
  registry: Registry;
  deployment: string;
  canaryId: string;
  timeoutMs: number;
  by: string;
  signal?: AbortSignal;
}): Promise<Deployment> {
  const { registry, deployment, canaryId } = args;
  return new Promise((resolve, reject) => {
    let settled = false;
    let checking = false;
    let again = false;
    const finish = (error: unknown, value?: Deployment): void => {
      if (settled) return;
      settled = true;
      unsubscribe();
      clearTimeout(timer);
      clearInterval(poll);
      args.signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve(value as Deployment);
      else reject(error as Error);
    };
    const check = (): void => {
      if (checking) {
        again = true;
        return;
      }
      checking = true;
      registry.getDeployment(deployment).then(
        (current) => {
          checking = false;
          const state = current.state.canary;
          if (state?.id !== canaryId || state.status !== 'running') finish(undefined, current);
          else if (again) {
            again = false;
            check();
          }
        },
        (error: unknown) => finish(error),
      );
    };
    const onAbort = (): void => finish(args.signal?.reason);
    const unsubscribe = registry.onChange((change) => {
      if (change.kind === 'deployment' && change.name === deployment) check();
    });
    // The change feed carries every replica's writes; the poll only covers a feed that missed one.
    const poll = setInterval(check, 10_000);
    poll.unref();
    const timer = setTimeout(() => {
      registry
        .rollbackCanary({
          name: deployment,
          canaryId,
          reason: `the pipeline waited ${Math.round(args.timeoutMs / 1000)} s and the canary had not finished`,
          by: args.by,
        })
        .then(
          (current) => finish(undefined, current),
          // It ended just now by itself: read how.
          () => check(),
        );
    }, args.timeoutMs);
    timer.unref();
    if (args.signal?.aborted === true) onAbort();
    args.signal?.addEventListener('abort', onAbort, { once: true });
    check();
  });
}

/** Submits a child job (or rejoins it) and waits for it; a job that did not complete fails the step. */
async function childJob(
  context: PipelineContext,
  scope: StepScope,
  job: { kind: 'train' | 'evaluate'; key: string; payload: unknown },
): Promise<JobRecord> {
  const { queue } = context;
  const submitted = await queue.submit({
    kind: job.kind,
    payload: job.payload,
    idempotencyKey: `${scope.runId}:${job.key}`,
    parentId: scope.runId,
    attempts: 2,
    by: scope.by,
  });
  const cancel = (): void => void queue.cancel(submitted.id).catch(() => undefined);
  const cancelling = (): boolean =>
    scope.signal?.aborted === true &&
    (!(scope.signal.reason instanceof StratumError) || scope.signal.reason.code === 'JOB_CANCELLED');
  const onAbort = (): void => {
    // Only a cancel of the pipeline cancels its jobs: on a shutdown they run on for the next coordinator.
    if (cancelling()) cancel();
  };
  if (cancelling()) cancel();
  scope.signal?.addEventListener('abort', onAbort, { once: true });
  const finished = await jobFinished(queue, submitted.id).finally(() =>
    scope.signal?.removeEventListener('abort', onAbort),
  );
  if (finished.state !== 'completed') {
    const error = finished.error;
    throw new StratumError(
      error?.code === 'BAD_REQUEST' ? 'BAD_REQUEST' : 'INTERNAL',
      `${job.kind} job ${finished.id} ended ${finished.state}${error === undefined ? '' : `: ${error.message}`}`,
      { details: { job: finished.id } },
    );
  }
  return finished;
}
