/**
 * What a training run measures for its model card, on the held-out split: fairness per group of
 * each sensitive column, permutation importance and (GBDT, linear) mean |SHAP| of each raw input
 * column, and (for DP-SGD) the
 * privacy spent, with the declared intended use. Stored as the run's `card.json` artifact; the
 * card route joins it with the version, the run and the dataset version.
 */
import type { TrainingObjective } from '../common/objective.ts';
import type { PrivacyReport } from '../privacy/dp-sgd.ts';
import type { TrainSpec } from '../run/train-spec.ts';
import {
  binaryFairness,
  type FairnessReport,
  groupOf,
  multiclassFairness,
  regressionFairness,
} from '../../monitor/fairness.ts';
import { type FeatureImportance, permutationImportance } from './permutation-importance.ts';
import { shapEvidence, type ShapImportanceReport } from './shap-evidence.ts';

/** The format tag of `card.json`. */
export const CARD_EVIDENCE_FORMAT = 'stratum.card-evidence/v1';

/** The permutation importance section of a card. */
export interface ImportanceReport {
  readonly method: 'permutation';
  /** The score whose drop is measured: accuracy (classifiers) or R² (regression), as scikit-learn's default scorers. */
  readonly metric: 'accuracy' | 'r2';
  readonly repeats: number;
  readonly seed: number;
  /** Held-out rows scored. */
  readonly rows: number;
  readonly baselineScore: number;
  /** One per raw input column, most important first. */
  readonly features: readonly FeatureImportance[];
}

/** What a run measured for the card (`card.json`). */
export interface CardEvidence {
  readonly format: typeof CARD_EVIDENCE_FORMAT;
  readonly intendedUse?: string;
  readonly limitations?: string;
  readonly task: TrainingObjective;
  readonly modelKind: TrainSpec['model']['kind'];
  readonly label: string;
  /** Class values in index order (classifiers). */
  readonly classes: readonly (string | number | boolean)[];
  /** The raw columns the model reads. */
  readonly inputs: readonly string[];
  readonly split: { readonly trainRows: number; readonly validationRows: number; readonly seed: number };
  readonly fairness: readonly FairnessReport[];
  readonly importance?: ImportanceReport;
  /** Mean |SHAP| per raw column (GBDT and linear models). */
  readonly shapImportance?: ShapImportanceReport;
  readonly privacy?: PrivacyReport;
}

/** Options of {@link collectCardEvidence}. */
export interface CollectCardEvidenceOptions<Row extends Record<string, unknown>> {
  readonly spec: TrainSpec;
  readonly classes: readonly (string | number | boolean)[];
  readonly trainRows: number;
  /** The held-out rows as read, with their labels (class indices or targets). */
  readonly validation: { readonly rows: readonly Row[]; readonly labels: Float32Array };
  /** What the model outputs for rows as read: values `N × 1` or probabilities `N × K`. */
  readonly predict: (rows: readonly Row[]) => Float32Array;
  /**
   * The exported model and the features its trees or linear layer read for rows as read, for the
   * SHAP importance; absent, the card has none.
   */
  readonly explain?: { readonly onnx: Uint8Array; readonly features: (rows: readonly Row[]) => Float32Array };
  readonly privacy?: PrivacyReport;
}

/** Measures the card's sections on the held-out split. */
export function collectCardEvidence<Row extends Record<string, unknown>>(
  options: CollectCardEvidenceOptions<Row>,
): CardEvidence {
  const { spec, classes, validation, predict } = options;
  const task = spec.model.objective;
  const width = task === 'regression' ? 1 : Math.max(2, classes.length);
  const decide = (outputs: Float32Array): Float32Array =>
    task === 'regression' ? outputs : predictedClasses(outputs, width);
  const inputs = [...new Set(spec.features.transforms.map((t) => t.column))];
  const predictions = decide(predict(validation.rows));
  const fairness = (spec.card.sensitive ?? []).map((column) => {
    const groups = validation.rows.map((row) => groupOf(row[column]));
    if (task === 'regression') {
      return regressionFairness({ column, groups, targets: validation.labels, predictions });
    }
    const args = { column, groups, labels: validation.labels, predictions };
    return task === 'binary' ? binaryFairness(args) : multiclassFairness(args);
  });
  const settings = spec.card.importance;
  let importance: ImportanceReport | undefined;
  if (settings !== false) {
    const count = Math.min(settings.maxRows, validation.rows.length);
    const rows = validation.rows.slice(0, count);
    const labels = validation.labels.subarray(0, count);
    const score = (scored: readonly Row[]): number => {
      const predicted = decide(predict(scored));
      return task === 'regression' ? r2(labels, predicted) : accuracy(labels, predicted);
    };
    const result = permutationImportance({
      rows,
      columns: inputs,
      score,
      repeats: settings.repeats,
      seed: settings.seed,
    });
    importance = {
      method: 'permutation',
      metric: task === 'regression' ? 'r2' : 'accuracy',
      repeats: settings.repeats,
      seed: settings.seed,
      rows: count,
      baselineScore: result.baselineScore,
      features: [...result.features].sort((a, b) => b.importanceMean - a.importanceMean),
    };
  }
  const shap = spec.card.shap;
  const shapImportance =
    shap === false || options.explain === undefined
      ? undefined
      : shapEvidence({
          onnx: options.explain.onnx,
          features: options.explain.features(validation.rows.slice(0, shap.maxRows)),
          maxRows: shap.maxRows,
        });
  return {
    format: CARD_EVIDENCE_FORMAT,
    ...(spec.card.intendedUse !== undefined && { intendedUse: spec.card.intendedUse }),
    ...(spec.card.limitations !== undefined && { limitations: spec.card.limitations }),
    task,
    modelKind: spec.model.kind,
    label: spec.data.label,
    classes,
    inputs,
    split: { trainRows: options.trainRows, validationRows: validation.rows.length, seed: spec.split.seed },
    fairness,
    ...(importance !== undefined && { importance }),
    ...(shapImportance !== undefined && { shapImportance }),
    ...(options.privacy !== undefined && { privacy: options.privacy }),
  };
}

/** The class each row is predicted as: the most probable (the first of a tie, as ArgMax). */
function predictedClasses(probabilities: Float32Array, width: number): Float32Array {
  const out = new Float32Array(probabilities.length / width);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let c = 1; c < width; c++) {
      if ((probabilities[r * width + c] as number) > (probabilities[r * width + best] as number)) best = c;
    }
    out[r] = best;
  }
  return out;
}

function accuracy(labels: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predicted[i]) right++;
  return right / labels.length;
}

/** The coefficient of determination, as scikit-learn's `r2_score` (1 or 0 for constant targets, exact or not). */
function r2(targets: ArrayLike<number>, predicted: ArrayLike<number>): number {
  let mean = 0;
  for (let i = 0; i < targets.length; i++) mean += targets[i] as number;
  mean /= targets.length;
  let residual = 0;
  let total = 0;
  for (let i = 0; i < targets.length; i++) {
    residual += ((targets[i] as number) - (predicted[i] as number)) ** 2;
    total += ((targets[i] as number) - mean) ** 2;
  }
  return total === 0 ? (residual === 0 ? 1 : 0) : 1 - residual / total;
}
