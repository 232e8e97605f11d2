/**
 * The drift rows of the SQL store (`drift_configs`, `drift_reports`, `reference_samples`): written
 * outside the change feed, like the clients' usage, since no replica reacts to them.
 */
import { randomUUID } from 'node:crypto';
import { requireDeployment } from './deployment-rows.ts';
import type { DriftConfigRecord, DriftRecords, DriftReportRecord } from './drift-records.ts';
import type { SqlValue } from './sql-driver.ts';
import { fromJson, type RowMethodsOptions, toJson } from './store-rows.ts';
import { requireVersion } from './version-rows.ts';

const MAX_REPORTS = 500;

interface ReportRow {
  id: string;
  deployment: string;
  model: string;
  version: number;
  window_key: string;
  computed_at: number;
  report: string;
}

const REPORT_COLUMNS = 'id, deployment, model, version, window_key, computed_at, report';

function toReport(row: ReportRow): DriftReportRecord {
  return {
    id: row.id,
    deployment: row.deployment,
    model: row.model,
    version: Number(row.version),
    windowKey: row.window_key,
    computedAt: Number(row.computed_at),
    report: fromJson(row.report),
  };
}

/** The drift methods of the SQL store. */
export function driftMethods(options: RowMethodsOptions): DriftRecords {
  const { driver } = options;
  return {
    setDriftConfig: async (record) => {
      await requireDeployment(driver, record.deployment);
      const updatedAt = Date.now();
      await driver.execute(
        `INSERT INTO drift_configs (deployment, config, updated_at, updated_by) VALUES (?, ?, ?, ?)
         ON CONFLICT (deployment) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        [record.deployment, toJson(record.config), updatedAt, record.updatedBy],
      );
      return { deployment: record.deployment, config: record.config, updatedAt, updatedBy: record.updatedBy };
    },

    getDriftConfig: async (deployment): Promise<DriftConfigRecord | undefined> => {
      await requireDeployment(driver, deployment);
      const [row] = await driver.query<{ config: string; updated_at: number; updated_by: string }>(
        'SELECT config, updated_at, updated_by FROM drift_configs WHERE deployment = ?',
        [deployment],
      );
      if (row === undefined) return undefined;
      return {
        deployment,
        config: fromJson(row.config),
        updatedAt: Number(row.updated_at),
        updatedBy: row.updated_by,
      };
    },

    saveDriftReport: async (report) => {
      await requireDeployment(driver, report.deployment);
      const id = randomUUID();
      await driver.execute(`INSERT INTO drift_reports (${REPORT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`, [
        id,
        report.deployment,
        report.model,
        report.version,
        report.windowKey,
        report.computedAt,
        toJson(report.report),
      ]);
      return { id, ...report };
    },

    listDriftReports: async (query) => {
      await requireDeployment(driver, query.deployment);
      const where = ['deployment = ?'];
      const params: SqlValue[] = [query.deployment];
      if (query.version !== undefined) {
        where.push('version = ?');
        params.push(query.version);
      }
      if (query.windowKey !== undefined) {
        where.push('window_key = ?');
        params.push(query.windowKey);
      }
      const limit = Math.min(MAX_REPORTS, Math.max(1, query.limit ?? 20));
      const rows = await driver.query<ReportRow>(
        `SELECT ${REPORT_COLUMNS} FROM drift_reports WHERE ${where.join(' AND ')} ORDER BY computed_at DESC, id DESC LIMIT ${limit}`,
        params,
      );
      return rows.map(toReport);
    },

    recordReferenceSample: async ({ model, version, sample }) => {
      await requireVersion(driver, { model, version });
      await driver.execute(
        `INSERT INTO reference_samples (model, version, sample, recorded_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (model, version) DO UPDATE SET sample = excluded.sample, recorded_at = excluded.recorded_at`,
        [model, version, toJson(sample), Date.now()],
      );
    },

    referenceSample: async (model, version) => {
      const [row] = await driver.query<{ sample: string }>(
        'SELECT sample FROM reference_samples WHERE model = ? AND version = ?',
        [model, version],
      );
      return row === undefined ? undefined : fromJson(row.sample);
    },
  };
}
