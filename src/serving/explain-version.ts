/**
 * Explanations of one loaded model version (`POST /v2/models/{m}/explain`): the request is
 * validated like an inference request, the features the model's trees or linear layer read are
 * computed by the model itself (a second session of the same graph with that intermediate value
 * as an extra output, loaded on the first explanation), and exact SHAP values are computed on
 * them (src/explain) in a thread of the version's own (`explain-runner.ts`), so a large request
 * does not hold up the requests served meanwhile, and summed per raw input column. Summing keeps
 * the sum property, Σφ + base = the explained output, because SHAP values are additive over the
 * features a column expands to (a one-hot column's categories, a text column's hashed n-grams).
 */
import { StratumError } from '../errors/index.ts';
import type { Explainer, ExplainMethod, ExplainedOutput } from '../explain/read-explainer.ts';
import { readExplainer } from '../explain/read-explainer.ts';
import { columnSums } from '../explain/column-sums.ts';
import { decodeModel, encodeModel } from '../onnx/onnx-proto.ts';
import { DATA_TYPE } from '../onnx/onnx-proto.ts';
import type { RuntimePool } from '../runtime/runtime-pool.ts';
import type { Signature } from '../tensor/signature.ts';
import { stackInputs } from './batch-tensors.ts';
import { createExplainRunner } from './explain-runner.ts';
import type { ResolvedModelConfig } from './model-config.ts';
import type { InferRequest } from './types.ts';
import { type ValidatedRequest, validateRequest } from './validate-request.ts';

/** The SHAP values of a request's rows, per raw input column. */
export interface Explanation {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  /** `tree_path_dependent` (exact TreeSHAP) or `linear_interventional` (exact linear SHAP). */
  readonly method: ExplainMethod;
  /** What the values add up to: a regressor's value, a binary classifier's log-odds, a multiclass one's logits. */
  readonly explained: ExplainedOutput;
  /** The raw input columns, in the order of the values' last axis. */
  readonly features: readonly string[];
  /** The explained outputs: `predictions`, or the class of each margin. */
  readonly outputs: readonly string[];
  /** The explained output with no feature known, per output. */
  readonly base_values: readonly number[];
  /** `[row][output][feature]`; Σ over features + base = the explained output of the row. */
  readonly shap_values: readonly (readonly (readonly number[])[])[];
}

/** Options of {@link createVersionExplainer}. */
export interface VersionExplainerOptions {
  readonly model: string;
  readonly version: string;
  readonly bytes: Uint8Array;
  readonly signature: Signature;
  readonly pool: RuntimePool;
  /** The version's pool key; the explanation session is loaded under `${key}:explain`. */
  readonly key: string;
  readonly config: ResolvedModelConfig;
  readonly batched: boolean;
}

/** The explanations of one version. */
export interface VersionExplainer {
  /**
   * Explains every row of a request.
   * @throws StratumError UNSUPPORTED when the model cannot be explained, or the errors of infer for bad inputs.
   */
  explain(request: InferRequest): Promise<Explanation>;
  /** Releases the explanation session; idempotent. */
  close(): Promise<void>;
}

interface Prepared {
  readonly explainer: Explainer;
  /** The pool key of the session that outputs the features; absent when they are a graph input. */
  readonly key?: string;
}

/** Creates the explainer of a version; nothing is read or loaded until the first explanation. */
export function createVersionExplainer(options: VersionExplainerOptions): VersionExplainer {
  const { model, version, signature, pool } = options;
  const target = `model "${model}" version ${version}`;
  let prepared: Promise<Prepared> | undefined;
  let closed: Promise<void> | undefined;
  const runner = createExplainRunner({ bytes: options.bytes, target });

  async function prepare(): Promise<Prepared> {
    const explainer = readExplainer(options.bytes, target);
    if (signature.inputs.some((input) => input.name === explainer.featureValue)) return { explainer };
    const key = `${options.key}:explain`;
    await pool.load({
      key,
      bytes: withOutput(options.bytes, { name: explainer.featureValue, width: explainer.features.length }),
      instances: 1,
      settings: { intraOpThreads: options.config.intraOpThreads, interOpThreads: options.config.interOpThreads },
    });
    return { explainer, key };
  }

  async function features(validated: ValidatedRequest, ready: Prepared): Promise<{ data: Float32Array; rows: number }> {
    const { explainer } = ready;
    const width = explainer.features.length;
    if (ready.key === undefined) {
      const input = validated.inputs.find((i) => i.name === explainer.featureValue);
      return { data: Float32Array.from(input?.data as ArrayLike<number>), rows: validated.rows };
    }
    const feeds = stackInputs(signature.inputs, [validated.inputs], validated.rows);
    const result = await pool.run({ key: ready.key, instance: 0, feeds, fetches: [explainer.featureValue] });
    const out = result.outputs[0];
    if (out === undefined || !(out.data instanceof Float32Array) || out.data.length !== validated.rows * width) {
      throw new StratumError('INTERNAL', `${target}: the features "${explainer.featureValue}" came back malformed`);
    }
    return { data: out.data, rows: validated.rows };
  }

  return {
    async explain(request) {
      if (closed !== undefined) throw new StratumError('MODEL_NOT_READY', `${target} is unloaded`);
      // Bad inputs fail as infer fails them, before anything about explaining is decided.
      const validated = validateRequest({ request, signature, batched: options.batched, target });
      prepared ??= prepare();
      const ready = await prepared;
      const { data, rows } = await features(validated, ready);
      const { explainer } = ready;
      const grouping = columnSums(explainer.columns);
      const width = explainer.features.length;
      const { values, base } = await runner.explain(data);
      const shapValues = grouping.sum(values, { rows, outputs: explainer.outputs.length, width });
      return {
        model_name: model,
        model_version: version,
        ...(request.id !== undefined && { id: request.id }),
        method: explainer.method,
        explained: explainer.explained,
        features: grouping.names,
        outputs: explainer.outputs,
        base_values: base,
        shap_values: shapValues,
      };
    },
    close() {
      closed ??= (async () => {
        const ready = await prepared?.catch(() => undefined);
        const results = await Promise.allSettled([
          runner.close(),
          ...(ready?.key !== undefined ? [pool.unload(ready.key)] : []),
        ]);
        const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failed !== undefined) throw failed.reason;
      })();
      return closed;
    },
  };
}

/** The model's bytes with `name` (a FLOAT `[N, width]` value it computes) as one more graph output. */
function withOutput(bytes: Uint8Array, { name, width }: { name: string; width: number }): Uint8Array {
  const model = decodeModel(bytes);
  if (model.graph.output.some((output) => output.name === name)) return bytes;
  return encodeModel({
    ...model,
    graph: {
      ...model.graph,
      output: [
        ...model.graph.output,
        {
          name,
          type: {
            tensor_type: { elem_type: DATA_TYPE.FLOAT, shape: { dim: [{ dim_param: 'N' }, { dim_value: width }] } },
          },
          metadata_props: [],
        },
      ],
    },
  });
}
