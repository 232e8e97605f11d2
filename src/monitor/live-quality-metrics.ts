/**
 * Prometheus gauges of live quality: each version's metrics over its count window, how many
 * labelled records they rest on, and the fairness gaps per sensitive column. Set whenever quality
 * is computed (after feedback, and on reads).
 */
import { Gauge, type Registry } from 'prom-client';
import type { FairnessReport } from './fairness.ts';

/** The fairness gaps exported, by their gauge's `measure` label. */
const FAIRNESS_MEASURES = Object.freeze({
  demographic_parity_difference: 'demographicParityDifference',
  demographic_parity_ratio: 'demographicParityRatio',
  equalized_odds_difference: 'equalizedOddsDifference',
  accuracy_difference: 'accuracyDifference',
  rmse_difference: 'rmseDifference',
  mae_difference: 'maeDifference',
} as const satisfies Record<string, keyof FairnessReport>);

/** The live quality gauges. */
export interface LiveQualityMetrics {
  /** Sets one version's metrics (`accuracy`, `auc`, `f1` or `rmse`, `mae`; null ones are removed). */
  set(options: {
    deployment: string;
    version: string;
    labelled: number;
    metrics: Readonly<Record<string, number | null>>;
  }): void;
  /** Sets one version's fairness gaps per sensitive column (a gap a report lacks is removed). */
  setFairness(options: { deployment: string; version: string; reports: readonly FairnessReport[] }): void;
}

/** Registers the gauges in `registry`. */
export function createLiveQualityMetrics(registry: Registry): LiveQualityMetrics {
  const quality = new Gauge({
    name: 'stratum_live_quality',
    help: 'Live model quality from feedback over the latest labelled records (quality.windowRecords): accuracy, auc, f1 (classification) or rmse, mae (regression).',
    labelNames: ['deployment', 'version', 'metric'] as const,
    registers: [registry],
  });
  const labelled = new Gauge({
    name: 'stratum_live_quality_labelled',
    help: 'Labelled inference log records the live quality of a version rests on.',
    labelNames: ['deployment', 'version'] as const,
    registers: [registry],
  });
  const fairness = new Gauge({
    name: 'stratum_live_fairness',
    help: "Live fairness from feedback over the latest labelled records, per sensitive column the training spec declared (card.sensitive): demographic_parity_difference, demographic_parity_ratio, equalized_odds_difference, accuracy_difference (classification) or rmse_difference, mae_difference (regression), by Fairlearn's definitions.",
    labelNames: ['deployment', 'version', 'column', 'measure'] as const,
    registers: [registry],
  });
  return {
    setFairness({ deployment, version, reports }) {
      for (const report of reports) {
        for (const [measure, key] of Object.entries(FAIRNESS_MEASURES)) {
          const labels = { deployment, version, column: report.column, measure };
          const value = report[key];
          if (value === undefined || !Number.isFinite(value)) fairness.remove(labels);
          else fairness.labels(labels).set(value);
        }
      }
    },
    set({ deployment, version, labelled: count, metrics }) {
      labelled.labels({ deployment, version }).set(count);
      for (const [metric, value] of Object.entries(metrics)) {
        if (value === null || !Number.isFinite(value)) quality.remove({ deployment, version, metric });
        else quality.labels({ deployment, version, metric }).set(value);
      }
    },
  };
}
