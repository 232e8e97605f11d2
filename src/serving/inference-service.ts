/**
 * The transport-neutral face of serving: health, metadata, inference and statistics. REST and
 * gRPC both call this, so they share validation, batching, errors and metrics.
 */
import { StratumError } from '../errors/index.ts';
import type { ServingMetrics } from '../monitor/serving-metrics.ts';
import type { ModelManager } from './model-manager.ts';
import type { ModelStatistics } from './model-stats.ts';
import type { InferRequest, InferResponse, TensorSpec } from './types.ts';

/** The extensions this server implements, as listed by `GET /v2`. */
export const EXTENSIONS = Object.freeze(['binary_tensor_data', 'model_repository', 'statistics']);

/** Server metadata. */
export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

/** Model metadata as the protocol defines it. */
export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** Options of {@link createInferenceService}. */
export interface InferenceServiceOptions {
  readonly manager: ModelManager;
  readonly metrics: ServingMetrics;
  /** Stratum's version. */
  readonly version: string;
}

/** The service. */
export interface InferenceService {
  live(): boolean;
  ready(): boolean;
  /** Marks the server ready (after start-up) or not (during shutdown). */
  setReady(ready: boolean): void;
  serverMetadata(): ServerMetadata;
  modelMetadata(name: string, version?: string): ModelMetadata;
  /** Whether the model (version) can serve; throws MODEL_NOT_FOUND / VERSION_NOT_FOUND when unknown. */
  modelReady(name: string, version?: string): boolean;
  infer(options: {
    model: string;
    version?: string;
    request: InferRequest;
    protocol: 'rest' | 'grpc';
  }): Promise<InferResponse>;
  statistics(name?: string, version?: string): { model_stats: ModelStatistics[] };
  readonly manager: ModelManager;
}

/** Creates the service. */
export function createInferenceService(options: InferenceServiceOptions): InferenceService {
  const { manager, metrics } = options;
  let ready = false;
  return {
    manager,
    live: () => true,
    ready: () => ready,
    setReady(value) {
      ready = value;
    },
    serverMetadata: () => ({ name: 'stratum', version: options.version, extensions: EXTENSIONS }),
    modelMetadata(name, version) {
      const handle = manager.resolve(name, version);
      return {
        name,
        versions: manager.readyVersions(name).map((v) => v.version),
        platform: 'onnxruntime_onnx',
        inputs: handle.signature.inputs,
        outputs: handle.signature.outputs,
      };
    },
    modelReady(name, version) {
      try {
        manager.resolve(name, version);
        return true;
      } catch (error) {
        if (error instanceof StratumError && error.code === 'MODEL_NOT_READY') return false;
        throw error;
      }
    },
    async infer({ model, version, request, protocol }) {
      if (!ready)
        throw new StratumError('SHUTTING_DOWN', 'the server is not accepting inference requests', {
          retryAfterSeconds: 1,
        });
      let handle;
      try {
        handle = manager.resolve(model, version);
      } catch (error) {
        metrics.failure({ model, protocol, reason: error instanceof StratumError ? error.code : 'INTERNAL' });
        throw error;
      }
      return handle.infer(request, protocol);
    },
    statistics(name, version) {
      if (name === undefined) {
        return {
          model_stats: manager.modelNames().flatMap((m) => manager.readyVersions(m).map((v) => v.statistics())),
        };
      }
      const versions = version === undefined ? manager.readyVersions(name) : [manager.resolve(name, version)];
      if (version === undefined && versions.length === 0) manager.resolve(name);
      return { model_stats: versions.map((v) => v.statistics()) };
    },
  };
}
