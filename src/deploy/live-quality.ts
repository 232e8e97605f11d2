/**
 * Live quality: each version's metrics from the labelled records of the inference log, over a
 * count window (the latest `windowRecords` labelled records made within `windowSeconds`) and as a
 * series over the time window (`seriesPoints` equal slices, each slice's own metrics; empty slices
 * are left out). Records are grouped by version, so a canary and its stable version are compared
 * on their own traffic. A version whose training declared sensitive columns also gets the card's
 * fairness report over its count window (live-fairness.ts).
 */
import type { QualityConfig } from '../config/index.ts';
import type { LiveQualityMetrics } from '../monitor/live-quality-metrics.ts';
import { type ClassValue, classificationMetrics, regressionMetrics } from '../monitor/quality-math.ts';
import type { InferenceLogRecord, InferenceLogStore } from '../store/inference-log-store.ts';
import type { FairnessReport } from '../monitor/fairness.ts';
import { liveFairness } from './live-fairness.ts';
import { checkLabel, type LoggedPredictions, predictionsOf } from './logged-predictions.ts';
import type { FairnessSettingsSource } from './version-fairness.ts';

/** Metrics of a window. */
export type QualityMetrics =
  | { readonly accuracy: number; readonly auc: number | null; readonly f1: number }
  | { readonly rmse: number; readonly mae: number };

/** One version's live quality. */
export interface VersionQuality {
  readonly version: string;
  readonly model: string;
  readonly task: 'classification' | 'regression';
  /** Labelled records in the count window. */
  readonly labelled: number;
  readonly metrics: QualityMetrics;
  readonly series: readonly { readonly at: string; readonly metrics: QualityMetrics }[];
  /** Per sensitive column the version's training declared, over the count window; absent when it declared none. */
  readonly fairness?: readonly FairnessReport[];
}

/** A deployment's live quality (the shape of `GET /api/v1/deployments/{d}/quality`). */
export interface DeploymentQuality {
  readonly deployment: string;
  readonly versions: readonly VersionQuality[];
}

/** Options of {@link createLiveQuality}. */
export interface LiveQualityOptions {
  readonly store: Pick<InferenceLogStore, 'readWindow'>;
  readonly settings: QualityConfig;
  /** Gauges set on every computation. @default none */
  readonly metrics?: LiveQualityMetrics;
  /** Each version's sensitive columns (from the registry). @default none: no fairness */
  readonly fairness?: FairnessSettingsSource;
  /** @default Date.now */
  readonly now?: () => number;
}

/** The live quality reader. */
export interface LiveQuality {
  /** Computes a deployment's quality (windows default to the settings). */
  of(
    deployment: string,
    windows?: Partial<Pick<QualityConfig, 'windowRecords' | 'windowSeconds'>>,
  ): Promise<DeploymentQuality>;
}

// How many labelled records one computation reads at most, per record of the count window: the
// series needs the older records of the time window as well.
const READ_FACTOR = 20;
const MAX_READ = 100_000;

interface Joined {
  readonly at: number;
  readonly inputs: InferenceLogRecord['inputs'];
  readonly predictions: LoggedPredictions;
  readonly labels: readonly ClassValue[];
}

function join(record: InferenceLogRecord): Joined | undefined {
  const predictions = predictionsOf(record.outputs);
  if (predictions === undefined || record.label === undefined) return undefined;
  const check = checkLabel(predictions, record.label);
  return check.ok ? { at: record.at, inputs: record.inputs, predictions, labels: check.values } : undefined;
}

function metricsOf(task: 'classification' | 'regression', rows: readonly Joined[]): QualityMetrics {
  const predicted = rows.flatMap((r) => r.predictions.predicted);
  const labels = rows.flatMap((r) => r.labels);
  if (task === 'regression') return regressionMetrics(predicted as number[], labels as number[]);
  const withScores = rows.every((r) => r.predictions.scores !== undefined);
  const scores = withScores ? rows.flatMap((r) => r.predictions.scores ?? []) : undefined;
  return classificationMetrics({ predicted, labels, scores });
}

/** Creates the reader. */
export function createLiveQuality(options: LiveQualityOptions): LiveQuality {
  const { store, settings } = options;
  const now = options.now ?? Date.now;

  return {
    async of(deployment, windows = {}) {
      const windowRecords = windows.windowRecords ?? settings.windowRecords;
      const windowMs = (windows.windowSeconds ?? settings.windowSeconds) * 1000;
      const end = now();
      const start = end - windowMs;
      const records = await store.readWindow({
        deployment,
        labelled: true,
        since: start,
        limit: Math.min(MAX_READ, windowRecords * READ_FACTOR),
      });
      const byVersion = new Map<string, { model: string; rows: Joined[] }>();
      for (const record of records) {
        const joined = join(record);
        if (joined === undefined) continue;
        const entry = byVersion.get(record.version) ?? { model: record.model, rows: [] };
        entry.rows.push(joined);
        byVersion.set(record.version, entry);
      }
      const versions: VersionQuality[] = [];
      const ordered = [...byVersion.entries()].sort(
        ([a], [b]) => Number(a) - Number(b) || (a < b ? -1 : a > b ? 1 : 0),
      );
      for (const [version, { model, rows: all }] of ordered) {
        // A version's task is its latest record's; records of another shape (a retrained output) are left out.
        const task = (all[all.length - 1] as Joined).predictions.task;
        const rows = all.filter((r) => r.predictions.task === task);
        const recent = rows.slice(-windowRecords);
        const slice = windowMs / settings.seriesPoints;
        const series: { at: string; metrics: QualityMetrics }[] = [];
        for (let i = 0; i < settings.seriesPoints; i++) {
          const from = start + i * slice;
          const to = i === settings.seriesPoints - 1 ? end + 1 : from + slice;
          const inSlice = rows.filter((r) => r.at >= from && r.at < to);
          if (inSlice.length > 0)
            series.push({ at: new Date(Math.min(to, end)).toISOString(), metrics: metricsOf(task, inSlice) });
        }
        const metrics = metricsOf(task, recent);
        const sensitive = await options.fairness?.({ model, version });
        const fairness = sensitive === undefined ? undefined : liveFairness({ requests: recent, settings: sensitive });
        versions.push({
          version,
          model,
          task,
          labelled: recent.length,
          metrics,
          series,
          ...(fairness !== undefined && { fairness }),
        });
        options.metrics?.set({ deployment, version, labelled: recent.length, metrics });
        if (fairness !== undefined) options.metrics?.setFairness({ deployment, version, reports: fairness });
      }
      return { deployment, versions };
    },
  };
}
