/**
 * Prometheus gauges of the latest drift report of each deployment version: per column the
 * statistic, the p-value (p-value tests) and the drifted flag; per version the share of drifted
 * columns, the dataset verdict and the window's rows. A new report replaces its version's series,
 * so columns that left the report leave the exposition too.
 */
import { Gauge, type Registry } from 'prom-client';
import type { DriftReport } from './drift-report.ts';

/** The gauges; `record` sets them from a report. */
export interface DriftMetrics {
  record(report: DriftReport): void;
}

/** Registers the drift gauges in `registry` (e.g. the serving metrics' registry). */
export function createDriftMetrics(options: { readonly registry: Registry }): DriftMetrics {
  const registers = [options.registry];
  const columnLabels = ['deployment', 'model', 'version', 'column', 'test'] as const;
  const versionLabels = ['deployment', 'model', 'version'] as const;
  const statistic = new Gauge({
    name: 'stratum_drift_statistic',
    help: 'Drift statistic of a column in the latest report (a distance, or the statistic of a p-value test).',
    labelNames: columnLabels,
    registers,
  });
  const pValue = new Gauge({
    name: 'stratum_drift_p_value',
    help: 'p-value of a column in the latest report (ks, chisquare and z tests only).',
    labelNames: columnLabels,
    registers,
  });
  const drifted = new Gauge({
    name: 'stratum_drift_column_drifted',
    help: '1 when the column drifted in the latest report, else 0.',
    labelNames: columnLabels,
    registers,
  });
  const share = new Gauge({
    name: 'stratum_drift_share',
    help: 'Share of drifted columns in the latest report.',
    labelNames: versionLabels,
    registers,
  });
  const datasetDrift = new Gauge({
    name: 'stratum_drift_dataset_drifted',
    help: '1 when the share of drifted columns reached the threshold in the latest report, else 0.',
    labelNames: versionLabels,
    registers,
  });
  const windowRows = new Gauge({
    name: 'stratum_drift_window_rows',
    help: 'Rows in the current window of the latest report (0: no data, nothing judged).',
    labelNames: versionLabels,
    registers,
  });
  const columnSeries = new Map<string, Record<(typeof columnLabels)[number], string>[]>();

  return {
    record(report) {
      const version = { deployment: report.deployment, model: report.model, version: String(report.version) };
      const key = JSON.stringify(version);
      for (const labels of columnSeries.get(key) ?? []) {
        statistic.remove(labels);
        pValue.remove(labels);
        drifted.remove(labels);
      }
      const series = report.columns.map((c) => ({ ...version, column: c.name, test: c.test }));
      report.columns.forEach((c, i) => {
        const labels = series[i] as (typeof series)[number];
        statistic.set(labels, c.statistic);
        if (c.pValue !== undefined) pValue.set(labels, c.pValue);
        drifted.set(labels, c.drifted ? 1 : 0);
      });
      columnSeries.set(key, series);
      share.set(version, report.driftShare);
      datasetDrift.set(version, report.datasetDrift ? 1 : 0);
      windowRows.set(version, report.window.rows);
    },
  };
}
