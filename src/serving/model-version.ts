/**
 * One loaded model version: its sessions in the runtime pool, its signature, its batcher and its
 * statistics. `infer` is the hot path: validate → queue → stack → run → split.
 */
import { StratumError } from '../errors/index.ts';
import type { VersionMetrics } from '../monitor/serving-metrics.ts';
import type { WireTensor } from '../runtime/messages.ts';
import type { RuntimePool } from '../runtime/runtime-pool.ts';
import { datatypeFromOrt, DATATYPES, elementCount } from '../tensor/datatypes.ts';
import { type Batch, type Batcher, createBatcher } from './batcher.ts';
import { splitOutput, stackInputs, toTensorValues } from './batch-tensors.ts';
import type { ResolvedModelConfig } from './model-config.ts';
import { ModelStats } from './model-stats.ts';
import { hasDynamicBatchDimension, signatureFromMetadata } from './signature.ts';
import type { InferOutput, InferRequest, InferResponse, Signature } from './types.ts';
import { type ValidatedRequest, validateRequest } from './validate-request.ts';

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
  /** Whether requests are stacked into batches. */
  readonly batched: boolean;
  readonly config: ResolvedModelConfig;
  /**
   * Runs an inference.
   * @throws StratumError for invalid input, a full queue, an expired timeout or a closed version.
   */
  infer(request: InferRequest, protocol: string): Promise<InferResponse>;
  /** Requests queued or running. */
  readonly load: number;
  statistics(): ReturnType<ModelStats['snapshot']>;
  /** Stops accepting, waits for queued and running requests, then releases the sessions. */
  unload(): Promise<void>;
}

/**
 * Loads a model version into the pool, reads its signature and warms every instance up.
 * @throws StratumError INVALID_MODEL when onnxruntime rejects the model or the warm-up fails.
 */
export async function loadModelVersion(options: LoadModelVersionOptions): Promise<ModelVersion> {
  const { model, version, config, pool, metrics } = options;
  const key = `${options.keyPrefix ?? ''}${model}:${version}#${options.generation}`;
  const target = `model "${model}" version ${version}`;
  const loaded = await pool.load({
    key,
    bytes: options.bytes,
    instances: config.instances,
    settings: { intraOpThreads: config.intraOpThreads, interOpThreads: config.interOpThreads },
  });
  let signature: Signature;
  try {
    signature = signatureFromMetadata(loaded.inputs, loaded.outputs);
    await warmUp({ key, pool, signature, config, instances: loaded.instances, batched: isBatched(signature, config) });
  } catch (error) {
    await pool.unload(key).catch(() => undefined);
    if (error instanceof StratumError && error.code === 'INVALID_MODEL') throw error;
    throw new StratumError('INVALID_MODEL', `${target} failed its warm-up run: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const batched = isBatched(signature, config);
  const stats = new ModelStats(model, version);
  const outputTypes = new Map(signature.outputs.map((o) => [o.name, o.datatype]));

  const execute = async (batch: Batch<Pending>): Promise<InferResponse[]> => {
    const t0 = performance.now();
    for (const item of batch.items) {
      const waited = t0 - item.queuedAt;
      stats.queued(waited * 1e6);
      metrics.queued(waited / 1000);
    }
    const payloads = batch.items.map((i) => i.payload);
    const feeds = stackInputs(
      signature.inputs,
      payloads.map((p) => p.validated.inputs),
      batch.rows,
    );
    const fetches = unionOfOutputs(payloads);
    const t1 = performance.now();
    const result = await pool.run({ key, instance: batch.instance, feeds, fetches });
    const t2 = performance.now();
    const rows = payloads.map((p) => p.validated.rows);
    const parts = new Map<string, ReturnType<typeof splitOutput>>();
    for (const out of result.outputs) {
      const datatype = outputTypes.get(out.name) ?? datatypeFromOrt(out.type);
      if (datatype === undefined)
        throw new StratumError('INTERNAL', `output "${out.name}" has unsupported type ${out.type}`);
      if (batch.items.length > 1 && out.dims[0] !== batch.rows) {
        throw new StratumError(
          'INTERNAL',
          `output "${out.name}" of ${target} has ${out.dims[0]} rows for a batch of ${batch.rows}`,
        );
      }
      parts.set(out.name, splitOutput({ dims: out.dims, values: toTensorValues(out.data), datatype }, rows));
    }
    const responses = payloads.map((p, index) => {
      const outputs: InferOutput[] = p.validated.outputs.map((o) => {
        const part = parts.get(o.name)?.[index];
        if (part === undefined) throw new StratumError('INTERNAL', `onnxruntime returned no output "${o.name}"`);
        return { name: o.name, datatype: part.datatype, shape: part.shape, data: part.data, binary: o.binary };
      });
      let response: InferResponse = { modelName: model, modelVersion: version, outputs };
      if (p.request.id !== undefined) response = { ...response, id: p.request.id };
      return response;
    });
    const t3 = performance.now();
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

  return {
    model,
    version,
    signature,
    batched,
    config,
    get load() {
      return inFlight;
    },
    statistics: () => stats.snapshot(),
    async infer(request, protocol) {
      const start = performance.now();
      inFlight++;
      metrics.pending(1);
      try {
        if (unloading !== undefined) throw new StratumError('MODEL_NOT_READY', `${target} is unloading`);
        const validated = validateRequest({ request, signature, batched, target });
        const submit = {
          payload: { request, validated },
          rows: validated.rows,
          shapeKey: validated.shapeKey,
          ...(request.priority !== undefined && { priority: request.priority }),
          ...(request.timeoutMicroseconds !== undefined && { timeoutMicroseconds: request.timeoutMicroseconds }),
        };
        const response = await batcher.submit(submit);
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
        await pool.unload(key);
      })();
      return unloading;
    },
  };
}

function isBatched(signature: Signature, config: ResolvedModelConfig): boolean {
  return config.maxBatchSize > 1 && hasDynamicBatchDimension(signature);
}

function unionOfOutputs(payloads: readonly Pending[]): string[] {
  const first = payloads[0]?.validated.outputs.map((o) => o.name) ?? [];
  if (payloads.length === 1) return first;
  const names = new Set(first);
  for (const p of payloads) for (const o of p.validated.outputs) names.add(o.name);
  return [...names];
}

/** Runs zeros through every instance at each warm-up batch size. */
async function warmUp(options: {
  key: string;
  pool: RuntimePool;
  signature: Signature;
  config: ResolvedModelConfig;
  instances: number;
  batched: boolean;
}): Promise<void> {
  const { key, pool, signature, config, instances, batched } = options;
  const sizes = config.warmupBatchSizes.length === 0 ? [] : batched ? config.warmupBatchSizes : [1];
  const fetches = signature.outputs.map((o) => o.name);
  for (const size of sizes) {
    for (let instance = 0; instance < instances; instance++) {
      const feeds: WireTensor[] = signature.inputs.map((spec) => {
        const dims = spec.shape.map((d, i) => (d === -1 ? (i === 0 && batched ? size : 1) : d));
        const n = elementCount(dims);
        const Ctor = DATATYPES[spec.datatype].array;
        return {
          name: spec.name,
          type: DATATYPES[spec.datatype].ort,
          dims,
          data: Ctor === null ? new Array<string>(n).fill('') : new Ctor(n),
        };
      });
      await pool.run({ key, instance, feeds, fetches });
    }
  }
}
