/**
 * The card's SHAP importance: mean |SHAP| per raw input column over the first held-out rows, by
 * the same exact explainers the explain route uses (TreeSHAP for GBDT, linear SHAP for linear
 * models), read from the exported model's bytes so the card describes the model as served. An MLP
 * has no exact explainer, so its card has permutation importance only.
 */
import { columnSums } from '../../explain/column-sums.ts';
import {
  type Explainer,
  type ExplainMethod,
  type ExplainedOutput,
  readExplainer,
} from '../../explain/read-explainer.ts';
import { type FeatureImportance, shapImportance } from '../../explain/shap-importance.ts';
import { StratumError } from '../../errors/index.ts';

/**
 * Work (in `Explainer.costPerRow` units, ≈ 50–80 ns each) spent on the card at most: ≈ 2–4 s. A
 * 200-tree GBDT of depth 6 costs ≈ 0.46 M units per row, so its card explains ≈ 100 rows; small
 * models get `maxRows`. Bounded by work, not time, so the rows explained are a function of the
 * model and the spec alone.
 */
export const SHAP_COST_BUDGET = 50_000_000;

/** The fewest rows explained whatever the cost, so the mean is not that of a handful. */
const MIN_ROWS = 50;

/** The SHAP importance section of a card. */
export interface ShapImportanceReport {
  readonly method: ExplainMethod;
  /** What the values add up to: a regressor's value, a classifier's log-odds or logits. */
  readonly explained: ExplainedOutput;
  /** Held-out rows explained (the first ones of the split, which is random already). */
  readonly rows: number;
  /** One per raw input column, largest first. */
  readonly features: readonly FeatureImportance[];
}

/** Options of {@link shapEvidence}. */
export interface ShapEvidenceOptions {
  /** The exported model. */
  readonly onnx: Uint8Array;
  /** The features the model's trees or linear layer read, of the held-out rows (row-major `rows × F`). */
  readonly features: Float32Array;
  /** Held-out rows explained at most (fewer when the model is costly, see {@link SHAP_COST_BUDGET}). */
  readonly maxRows: number;
}

/**
 * Mean |SHAP| per raw column, or undefined when the model has no exact explainer (an MLP).
 *
 * @example
 * ```ts
 * shapEvidence({ onnx, features: validationMatrix.data, maxRows: 500 })
 * // { method: 'tree_path_dependent', explained: 'log_odds', rows: 500, features: [{ feature: 'income', meanAbsShap: 1.2 }, …] }
 * ```
 */
export function shapEvidence(options: ShapEvidenceOptions): ShapImportanceReport | undefined {
  const explainer = exactExplainer(options.onnx);
  if (explainer === undefined) return undefined;
  const width = explainer.features.length;
  const available = width === 0 ? 0 : options.features.length / width;
  const affordable = Math.max(MIN_ROWS, Math.floor(SHAP_COST_BUDGET / Math.max(1, explainer.costPerRow)));
  const rows = Math.min(available, options.maxRows, affordable);
  const { values } = explainer.explain(options.features.subarray(0, rows * width));
  const sums = columnSums(explainer.columns);
  const shapValues = sums.sum(values, { rows, outputs: explainer.outputs.length, width });
  return {
    method: explainer.method,
    explained: explainer.explained,
    rows,
    features: shapImportance({ features: sums.names, shap_values: shapValues }),
  };
}

function exactExplainer(onnx: Uint8Array): Explainer | undefined {
  try {
    return readExplainer(onnx, 'the trained model');
  } catch (error) {
    if (error instanceof StratumError && error.code === 'UNSUPPORTED') return undefined;
    throw error;
  }
}
