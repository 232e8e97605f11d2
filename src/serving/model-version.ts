/**
 * One loaded model version: its sessions in the runtime pool, its signature, its batcher and its
 * statistics. `infer` is the hot path: validate → queue → stack → run → split.
 */
import { StratumError } from '../errors/index.ts';
import type { RequestTrace } from '../monitor/request-trace.ts';
import type { VersionMetrics } from '../monitor/serving-metrics.ts';
import type { RuntimePool } from '../runtime/runtime-pool.ts';
import { CLASSES_METADATA_KEY, readModelMetadata } from '../onnx/model-metadata.ts';
import { datatypeFromOrt } from '../tensor/datatypes.ts';
import type { Signature } from '../tensor/signature.ts';
import { type Batch, type Batcher, createBatcher, type SubmitOptions } from './batcher.ts';
import { splitOutput, stackInputs, toTensorValues } from './batch-tensors.ts';
import { createVersionExplainer, type Explanation } from './explain-version.ts';
import type { ResolvedModelConfig } from './model-config.ts';
import { createInlineRunner } from './inline-runner.ts';
import { ModelStats } from './model-stats.ts';
import { hasDynamicBatchDimension, signatureFromMetadata } from './signature.ts';
import type { InferInput, InferOutput, InferRequest, InferResponse } from './types.ts';
import { type ValidatedRequest, validateRequest } from './validate-request.ts';
import { runWarmup, type WarmupReport, type WarmupRequests } from './warmup.ts';

/** Options of {@link loadModelVersion}. */
export interface LoadModelVersionOptions {
  readonly model: string;
  readonly version: string;
  readonly bytes: Uint8Array;
  readonly config: ResolvedModelConfig;
  readonly pool: RuntimePool;
  readonly metrics: VersionMetrics;
  /** Distinguishes reloads of the same version inside the pool. */
  readonly generation: number;
  /** Prefix of the pool key, so two sources never share one. @default '' */
  readonly keyPrefix?: string;
  /** Sample requests to warm up with instead of the configured synthetic inputs. */
  readonly warmupRequests?: WarmupRequests;
}

/** A request on its way through the batcher. */
interface Pending {
  readonly request: InferRequest;
  readonly validated: ValidatedRequest;
}

/** A loaded, warmed model version. */
export interface ModelVersion {
  readonly model: string;
  readonly version: string;
  readonly signature: Signature;
  /**
   * A classifier's class names as its model's metadata declares them (`stratum.classes`, a JSON
   * array: entry k names label k and column k of the probabilities), when it does.
   */
  readonly classes?: string;
  /** Whether requests are stacked into batches. */
  readonly batched: boolean;
  readonly config: ResolvedModelConfig;
  /** What the warm-up ran and, when it failed, why (the version serves either way). */
  readonly warmup: WarmupReport;
  /**
   * Runs an inference.
   * @throws StratumError for invalid input, a full queue, an expired timeout or a closed version.
   */
  infer(request: InferRequest, protocol: string): Promise<InferResponse>;
  /**
   * Explains a request's rows with exact SHAP values (see `explain-version.ts`).
   * @throws StratumError UNSUPPORTED when the model cannot be explained, or infer's errors for bad inputs.
   */
  explain(request: InferRequest): Promise<Explanation>;
  /** Requests queued or running. */
  readonly load: number;
  statistics(): ReturnType<ModelStats['snapshot']>;
  /** Stops accepting, waits for queued and running requests, then releases the sessions. */
  unload(): Promise<void>;
}

/**
 * Loads a model version into the pool, reads its signature and warms every instance up. A failed
 * warm-up is recorded in `warmup` (and counted in the metrics), not thrown: the version serves.
 * @throws StratumError INVALID_MODEL when onnxruntime rejects the model or its signature cannot be served.
 */
export async function loadModelVersion(options: LoadModelVersionOptions): Promise<ModelVersion> {
  const { model, version, config, pool, metrics } = options;
  const key = `${options.keyPrefix ?? ''}${model}:${version}#${options.generation}`;
  const target = `model "${model}" version ${version}`;
  const { loaded, signature } = await loadSessions(options, key);
  const batched = isBatched(signature, config);
  const warmup = await runWarmup({
    key,
    pool,
    signature,
    instances: loaded.instances,
    batched,
    settings: config.warmup,
    target,
    ...(options.warmupRequests !== undefined && { requests: options.warmupRequests }),
  });
  metrics.warmup(warmup);
  const stats = new ModelStats(model, version);
  const inline =
    config.inlineRunMaxMicroseconds > 0
      ? await createInlineRunner({ bytes: options.bytes, config, maxMicroseconds: config.inlineRunMaxMicroseconds })
      : undefined;
  const outputTypes = new Map(signature.outputs.map((o) => [o.name, o.datatype]));

  const execute = async (batch: Batch<Pending>): Promise<InferResponse[]> => {
    const t0 = performance.now();
    const { items } = batch;
    const count = items.length;
    const inputs = new Array<readonly InferInput[]>(count);
    const rows = new Array<number>(count);
    for (let i = 0; i < count; i++) {
      const item = items[i] as Batch<Pending>['items'][number];
      const waited = t0 - item.queuedAt;
      stats.queued(waited * 1e6);
      metrics.queued(waited / 1000);
      inputs[i] = item.payload.validated.inputs;
      rows[i] = item.payload.validated.rows;
    }
    const feeds = stackInputs(signature.inputs, inputs, batch.rows);
    const fetches = unionOfOutputs(items);
    const t1 = performance.now();
    // Inline only when the server runs nothing else: the run blocks the event loop, so another
    // model's requests would wait behind it.
    const alone = count === 1 && batcher.running === 1 && batcher.queued === 0 && pool.running === 0;
    const result =
      alone && inline?.allows() === true
        ? await inline.run(feeds, fetches)
        : await pool.run({ key, instance: batch.instance, feeds, fetches });
    if (count === 1) inline?.measured(result.computeNs);
    const t2 = performance.now();
    const parts = new Map<string, ReturnType<typeof splitOutput>>();
    for (const out of result.outputs) {
      const datatype = outputTypes.get(out.name) ?? datatypeFromOrt(out.type);
      if (datatype === undefined)
        throw new StratumError('INTERNAL', `output "${out.name}" has unsupported type ${out.type}`);
      if (count > 1 && out.dims[0] !== batch.rows) {
        throw new StratumError(
          'INTERNAL',
          `output "${out.name}" of ${target} has ${out.dims[0]} rows for a batch of ${batch.rows}`,
        );
      }
      parts.set(out.name, splitOutput({ dims: out.dims, values: toTensorValues(out.data), datatype }, rows));
    }
    const responses = new Array<InferResponse>(count);
    for (let index = 0; index < count; index++) {
      const { request, validated } = (items[index] as Batch<Pending>['items'][number]).payload;
      responses[index] = responseOf({ model, version, id: request.id }, outputsOf(validated, parts, index));
    }
    const t3 = performance.now();
    traceBatch(batch, { queuedUntil: t0, runStart: t1, runEnd: t2 });
    stats.batch({
      size: batch.rows,
      requests: batch.items.length,
      inputNs: (t1 - t0) * 1e6,
      inferNs: (t2 - t1) * 1e6,
      outputNs: (t3 - t2) * 1e6,
    });
    metrics.batch({ size: batch.rows, reason: batch.reason, computeSeconds: result.computeNs / 1e9 });
    return responses;
  };

  const batcher: Batcher<Pending, InferResponse> = createBatcher({
    name: target,
    settings: {
      batching: batched,
      maxBatchSize: Math.max(1, config.maxBatchSize),
      maxQueueDelayMicroseconds: config.maxQueueDelayMicroseconds,
      preferredBatchSizes: config.preferredBatchSizes,
      maxQueueSize: config.maxQueueSize,
      priorityLevels: config.priorityLevels,
      defaultPriority: config.defaultPriority,
      defaultTimeoutMicroseconds: config.defaultTimeoutMicroseconds,
      adaptiveQueueDelay: config.adaptiveQueueDelay,
      instances: loaded.instances,
    },
    execute,
  });

  let unloading: Promise<void> | undefined;
  let inFlight = 0;
  const explainer = createVersionExplainer({ ...options, signature, key, batched });

  return {
    model,
    version,
    signature,
    ...classesOf(options.bytes),
    batched,
    config,
    warmup,
    get load() {
      return inFlight;
    },
    statistics: () => stats.snapshot(),
    explain: (request) => explainer.explain(request),
    async infer(request, protocol) {
      const start = performance.now();
      inFlight++;
      metrics.pending(1);
      try {
        if (unloading !== undefined) throw new StratumError('MODEL_NOT_READY', `${target} is unloading`);
        const response = await batcher.submit(
          submitOptions(request, validateRequest({ request, signature, batched, target })),
        );
        const elapsed = performance.now() - start;
        stats.request(true, elapsed * 1e6);
        metrics.success(protocol, elapsed / 1000);
        return response;
      } catch (error) {
        stats.request(false, (performance.now() - start) * 1e6);
        metrics.failure(protocol, error instanceof StratumError ? error.code : 'INTERNAL');
        throw error;
      } finally {
        inFlight--;
        metrics.pending(-1);
      }
    },
    unload() {
      unloading ??= (async () => {
        await batcher.drain();
        batcher.close(new StratumError('MODEL_NOT_READY', `${target} is unloaded`));
        await explainer.close();
        await inline?.close();
        await pool.unload(key);
      })();
      return unloading;
    },
  };
}

/** What the batcher is given for a request; optional fields only when set (no spreads on the hot path). */
function submitOptions(request: InferRequest, validated: ValidatedRequest): SubmitOptions<Pending> {
  const submit: { -readonly [K in keyof SubmitOptions<Pending>]: SubmitOptions<Pending>[K] } = {
    payload: { request, validated },
    rows: validated.rows,
    shapeKey: validated.shapeKey,
  };
  if (request.priority !== undefined) submit.priority = request.priority;
  if (request.timeoutMicroseconds !== undefined) submit.timeoutMicroseconds = request.timeoutMicroseconds;
  if (request.background === true) {
    submit.background = true;
    if (request.signal !== undefined) submit.signal = request.signal;
  }
  return submit;
}

/** Loads the model's sessions into the pool and reads its signature (unloading it again when it cannot be served). */
async function loadSessions(
  options: LoadModelVersionOptions,
  key: string,
): Promise<{ loaded: Awaited<ReturnType<RuntimePool['load']>>; signature: Signature }> {
  const { config, pool } = options;
  const loaded = await pool.load({
    key,
    bytes: options.bytes,
    instances: config.instances,
    settings: { intraOpThreads: config.intraOpThreads, interOpThreads: config.interOpThreads },
  });
  try {
    return { loaded, signature: signatureFromMetadata(loaded.inputs, loaded.outputs) };
  } catch (error) {
    await pool.unload(key).catch(() => undefined);
    throw error;
  }
}

/**
 * Records the batch's stages for its traced requests (none: nothing to do): each request's wait in
 * the queue under its own span, and the batch's run once, under the first traced request's span
 * and linked to and from the others' (one span per batch rather than one per request).
 */
function traceBatch(batch: Batch<Pending>, times: { queuedUntil: number; runStart: number; runEnd: number }): void {
  let first: RequestTrace | undefined;
  let traced: RequestTrace[] | undefined;
  for (const item of batch.items) {
    const trace = item.payload.request.trace;
    if (trace === undefined) continue;
    trace.record('stratum.batcher.queue', { start: item.queuedAt, end: times.queuedUntil });
    if (first === undefined) first = trace;
    else (traced ??= [first]).push(trace);
  }
  if (first === undefined) return;
  const run = {
    start: times.runStart,
    end: times.runEnd,
    attributes: {
      'stratum.batch.rows': batch.rows,
      'stratum.batch.requests': batch.items.length,
      'stratum.batch.cut': batch.reason,
    },
  };
  if (traced === undefined) first.record('stratum.runtime.run', run);
  else first.recordShared('stratum.runtime.run', run, traced);
}

function isBatched(signature: Signature, config: ResolvedModelConfig): boolean {
  return config.maxBatchSize > 1 && hasDynamicBatchDimension(signature);
}

function unionOfOutputs(items: Batch<Pending>['items']): string[] {
  const first = items[0]?.payload.validated.outputs.map((o) => o.name) ?? [];
  if (items.length === 1) return first;
  const names = new Set(first);
  for (const item of items) for (const o of item.payload.validated.outputs) names.add(o.name);
  return [...names];
}

/** Request `index`'s share of the batch's outputs, in the order it asked for them. */
function outputsOf(
  validated: ValidatedRequest,
  parts: ReadonlyMap<string, ReturnType<typeof splitOutput>>,
  index: number,
): InferOutput[] {
  const wanted = validated.outputs;
  const outputs = new Array<InferOutput>(wanted.length);
  for (let i = 0; i < wanted.length; i++) {
    const o = wanted[i] as ValidatedRequest['outputs'][number];
    const part = parts.get(o.name)?.[index];
    if (part === undefined) throw new StratumError('INTERNAL', `onnxruntime returned no output "${o.name}"`);
    outputs[i] = { name: o.name, datatype: part.datatype, shape: part.shape, data: part.data, binary: o.binary };
  }
  return outputs;
}

function responseOf(
  answer: { model: string; version: string; id: string | undefined },
  outputs: InferOutput[],
): InferResponse {
  const { model, version, id } = answer;
  return id === undefined
    ? { modelName: model, modelVersion: version, outputs }
    : { modelName: model, modelVersion: version, id, outputs };
}

/**
 * The class names the model's metadata declares, as a field of the version. onnxruntime has
 * accepted the bytes by now; metadata that cannot be read only means there are none to show.
 */
function classesOf(bytes: Uint8Array): { classes?: string } {
  try {
    const classes = readModelMetadata(bytes)[CLASSES_METADATA_KEY];
    return classes === undefined ? {} : { classes };
  } catch {
    return {};
  }
}
