/**
 * Prometheus gauges of live quality: each version's metrics over its count window, and how many
 * labelled records they rest on. Set whenever quality is computed (after feedback, and on reads).
 */
import { Gauge, type Registry } from 'prom-client';

/** The live quality gauges. */
export interface LiveQualityMetrics {
  /** Sets one version's metrics (`accuracy`, `auc`, `f1` or `rmse`, `mae`; null ones are removed). */
  set(options: {
    deployment: string;
    version: string;
    labelled: number;
    metrics: Readonly<Record<string, number | null>>;
  }): void;
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
  return {
    set({ deployment, version, labelled: count, metrics }) {
      labelled.labels({ deployment, version }).set(count);
      for (const [metric, value] of Object.entries(metrics)) {
        if (value === null || !Number.isFinite(value)) quality.remove({ deployment, version, metric });
        else quality.labels({ deployment, version, metric }).set(value);
      }
    },
  };
}
