/**
 * The transport-neutral face of serving: health, metadata, inference and statistics. REST and
 * gRPC both call this, so they share validation, batching, errors and metrics. Model names are
 * looked up in the sources in order (the registry's deployments, then the folder repository).
 */
import type { Explanation } from './explain-version.ts';
import { StratumError } from '../errors/index.ts';
import type { ServingMetrics } from '../monitor/serving-metrics.ts';
import type { TensorSpec } from '../tensor/signature.ts';
import type { ModelManager } from './model-manager.ts';
import type { InferTarget, ModelSource, RouteContext, SourceIndexEntry } from './model-source.ts';
import type { ModelStatistics } from './model-stats.ts';
import { createOnlineLoad, type OnlineLoad } from './online-load.ts';
import type { InferenceCapture, InferenceRecorder } from './inference-recorder.ts';
import type { RequestTrace } from '../monitor/request-trace.ts';
import type { InferRequest, InferResponse } from './types.ts';

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
  /**
   * The optional `parameters` object (as MLServer's metadata reply carries it): `classes`, a
   * classifier's class names as a JSON array string — entry k names label k and column k of the
   * probabilities (a parameter value is a string, number or boolean).
   */
  readonly parameters?: { readonly classes: string };
}

/** Options of {@link createInferenceService}. */
export interface InferenceServiceOptions {
  /** Looked up in order; the first that has a name serves it. */
  readonly sources: readonly ModelSource[];
  /** The folder repository's manager, for the repository extension's load and unload. */
  readonly manager?: ModelManager;
  readonly metrics: ServingMetrics;
  /** Stratum's version. */
  readonly version: string;
  /** The inference log's recorder. @default none: nothing is logged and no request ids are generated */
  readonly recorder?: InferenceRecorder;
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
  infer(options: InferOptions): Promise<InferResponse>;
  /**
   * Explains a request's rows with exact SHAP values, on the version an inference request would reach.
   * @throws StratumError UNSUPPORTED when the model cannot be explained, or infer's errors.
   */
  explain(options: {
    model: string;
    version?: string;
    request: InferRequest;
    headers?: Readonly<Record<string, string | string[] | undefined>>;
  }): Promise<Explanation>;
  statistics(name?: string, version?: string): { model_stats: ModelStatistics[] };
  /** Whether any source serves the name. */
  has(name: string): boolean;
  /** Every source's index, sorted by name. */
  index(): Promise<SourceIndexEntry[]>;
  /** The folder repository's manager, when serving a folder. */
  readonly manager: ModelManager | undefined;
  /** Online requests in flight (`infer-async` jobs are not counted): what background work yields to. */
  readonly onlineLoad: OnlineLoad;
}

/** What {@link InferenceService.infer} takes. */
export interface InferOptions {
  readonly model: string;
  readonly version?: string | undefined;
  readonly request: InferRequest;
  /** `async`: an `infer-async` job (counted apart from online requests). */
  readonly protocol: 'rest' | 'grpc' | 'async';
  readonly headers?: Readonly<Record<string, string | string[] | undefined>> | undefined;
  /** The transport's span of the request, when it is traced and sampled. */
  readonly trace?: RequestTrace;
}

/** Creates the service. */
export function createInferenceService(options: InferenceServiceOptions): InferenceService {
  const { sources, metrics, recorder } = options;
  const onlineLoad = createOnlineLoad();
  let ready = false;

  function sourceOf(name: string): ModelSource {
    for (const source of sources) if (source.has(name)) return source;
    throw new StratumError('MODEL_NOT_FOUND', `unknown model "${name}"`, { details: { model: name } });
  }

  async function inferOnce(call: InferOptions, given: InferRequest): Promise<InferResponse> {
    const { model, protocol } = call;
    let request = given;
    let capture: InferenceCapture | undefined;
    if (recorder !== undefined) ({ request, capture } = recorder.begin(model, given));
    if (!ready)
      throw new StratumError('SHUTTING_DOWN', 'the server is not accepting inference requests', {
        retryAfterSeconds: 1,
      });
    let target;
    try {
      target = sourceOf(model).route(routeContext(call, request));
    } catch (error) {
      metrics.failure({ model, protocol, reason: error instanceof StratumError ? error.code : 'INTERNAL' });
      throw error;
    }
    if (protocol === 'async') return answered(target, capture, await target.infer(request, protocol));
    const end = onlineLoad.begin();
    try {
      return answered(target, capture, await target.infer(request, protocol));
    } finally {
      end();
    }
  }

  function answered(target: InferTarget, capture: InferenceCapture | undefined, response: InferResponse) {
    if (capture !== undefined) recorder?.end(capture, { model: target.model, version: target.version, response });
    return response;
  }

  return {
    manager: options.manager,
    onlineLoad,
    live: () => true,
    ready: () => ready,
    setReady(value) {
      ready = value;
    },
    serverMetadata: () => ({ name: 'stratum', version: options.version, extensions: EXTENSIONS }),
    modelMetadata(name, version) {
      const { versions, signature, classes } = sourceOf(name).metadata(name, version);
      return {
        name,
        versions,
        platform: 'onnxruntime_onnx',
        inputs: signature.inputs,
        outputs: signature.outputs,
        ...(classes !== undefined && { parameters: { classes } }),
      };
    },
    modelReady(name, version) {
      return sourceOf(name).ready(name, version);
    },
    async infer(call) {
      const { trace } = call;
      if (trace === undefined) return inferOnce(call, call.request);
      const span = trace.child('stratum.infer', {
        'stratum.model': call.model,
        'stratum.protocol': call.protocol,
      });
      try {
        const response = await inferOnce(call, { ...call.request, trace: span });
        span.setAttributes({ 'stratum.version': response.modelVersion });
        span.end();
        return response;
      } catch (error) {
        span.end(error);
        throw error;
      }
    },
    async explain({ model, version, request, headers }) {
      if (!ready)
        throw new StratumError('SHUTTING_DOWN', 'the server is not accepting inference requests', {
          retryAfterSeconds: 1,
        });
      const target = sourceOf(model).route(routeContext({ model, version, headers }, request));
      if (target.explain === undefined) {
        throw new StratumError('UNSUPPORTED', `model "${model}" version ${target.version} cannot be explained here`);
      }
      const end = onlineLoad.begin();
      try {
        return await target.explain(request);
      } finally {
        end();
      }
    },
    statistics(name, version) {
      if (name === undefined) return { model_stats: sources.flatMap((s) => s.statistics()) };
      return { model_stats: sourceOf(name).statistics(name, version) };
    },
    has: (name) => sources.some((s) => s.has(name)),
    async index() {
      const rows = (await Promise.all(sources.map((s) => s.index()))).flat();
      return rows.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    },
  };
}

/** What a source routes on; optional fields are set only when present (no spreads on the hot path). */
function routeContext(call: Pick<InferOptions, 'model' | 'version' | 'headers'>, request: InferRequest): RouteContext {
  const { version, headers } = call;
  if (headers === undefined)
    return version === undefined ? { name: call.model, request } : { name: call.model, version, request };
  return version === undefined
    ? { name: call.model, request, headers }
    : { name: call.model, version, request, headers };
}
