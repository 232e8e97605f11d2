/**
 * Global feature importance for the model card: the mean absolute SHAP value of each raw column
 * over a sample of rows (all outputs of a multiclass model counted together, as shap's bar plot
 * sums the classes), largest first.
 */

/** One column's importance. */
export interface FeatureImportance {
  readonly feature: string;
  readonly meanAbsShap: number;
}

/** SHAP values of a sample: `[row][output][feature]`, as the explain reply gives them. */
export interface ShapSample {
  readonly features: readonly string[];
  readonly shap_values: readonly (readonly (readonly number[])[])[];
}

/**
 * Mean |SHAP| per feature: for each feature, the mean over rows of Σ over outputs of |φ|.
 * Ties keep the features' order.
 *
 * @example
 * ```ts
 * const explanation = await service.explain({ model: 'churn', request: sampleRequest })
 * shapImportance(explanation) // [{ feature: 'tenure', meanAbsShap: 0.41 }, { feature: 'plan', … }]
 * ```
 */
export function shapImportance(sample: ShapSample): FeatureImportance[] {
  const rows = sample.shap_values.length;
  const totals = sample.features.map(() => 0);
  for (const row of sample.shap_values) {
    for (const output of row) {
      output.forEach((value, i) => {
        totals[i] = (totals[i] as number) + Math.abs(value);
      });
    }
  }
  return sample.features
    .map((feature, i) => ({ feature, meanAbsShap: rows === 0 ? 0 : (totals[i] as number) / rows }))
    .sort((a, b) => b.meanAbsShap - a.meanAbsShap);
}
