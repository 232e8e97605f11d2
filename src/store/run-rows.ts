/**
 * Tracked runs on SQL: their rows, the mapping to the contract's records, and the store methods,
 * written against the same `write` (one transaction, one change record) as the rest of the store.
 */
import { randomUUID } from 'node:crypto';
import { StratumError } from '../errors/index.ts';
import type { MetadataStore, RunArtifact, RunMetric, RunRecord, RunStatus } from './metadata-store.ts';
import { pageRequest } from './page-cursor.ts';
import { selectPage } from './select-page.ts';
import type { SqlExecutor } from './sql-driver.ts';
import { quote } from './store-errors.ts';
import { type RowMethodsOptions, toJson } from './store-rows.ts';

/** A `runs` row. */
export interface RunRow {
  readonly id: string;
  readonly seq: number;
  readonly name: string;
  readonly status: string;
  readonly params: string;
  readonly dataset_version: string | null;
  readonly code_version: string | null;
  readonly artifacts: string;
  readonly error: string | null;
  readonly metrics: string;
  readonly started_at: number;
  readonly finished_at: number | null;
  readonly created_by: string;
}
export const RUN_COLUMNS =
  'id, seq, name, status, params, dataset_version, code_version, artifacts, error, metrics, started_at, finished_at, created_by';

/** A `run_metrics` row. */
export interface RunMetricRow {
  readonly run: string;
  readonly metric_key: string;
  readonly step: number;
  readonly value: number;
  readonly created_at: number;
}
export const RUN_METRIC_COLUMNS = 'run, metric_key, step, value, created_at';

/** Maps a `runs` row. */
export function toRun(row: RunRow): RunRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status as RunStatus,
    params: JSON.parse(row.params) as Record<string, unknown>,
    ...(row.dataset_version !== null && { datasetVersion: row.dataset_version }),
    ...(row.code_version !== null && { codeVersion: row.code_version }),
    artifacts: JSON.parse(row.artifacts) as RunArtifact[],
    ...(row.error !== null && { error: row.error }),
    startedAt: row.started_at,
    ...(row.finished_at !== null && { finishedAt: row.finished_at }),
    createdBy: row.created_by,
    metrics: JSON.parse(row.metrics) as Record<string, number>,
  };
}

/** Maps a `run_metrics` row. */
export function toRunMetric(row: RunMetricRow): RunMetric {
  return { run: row.run, key: row.metric_key, step: row.step, value: Number(row.value), at: row.created_at };
}

function runNotFound(id: string): StratumError {
  return new StratumError('NOT_FOUND', `run ${quote(id)} does not exist`, { details: { run: id } });
}

async function requireRun(db: SqlExecutor, id: string): Promise<RunRow> {
  const [row] = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM runs WHERE id = ?`, [id]);
  if (row === undefined) throw runNotFound(id);
  return row;
}

/** Throws RUN_FINISHED when the run has finished: a finished run never changes again. */
function requireRunning(row: RunRow, what: string): void {
  if (row.status === 'running') return;
  throw new StratumError(
    'RUN_FINISHED',
    `run ${quote(row.id)} already finished as ${row.status}; cannot ${what} a finished run`,
    { details: { run: row.id, status: row.status } },
  );
}

function badRequest(message: string, details?: Record<string, unknown>): StratumError {
  return new StratumError('BAD_REQUEST', message, details === undefined ? {} : { details });
}

function checkFiniteMetrics(metrics: Readonly<Record<string, number>>): void {
  for (const [key, value] of Object.entries(metrics)) {
    if (!Number.isFinite(value)) throw badRequest(`metric ${quote(key)} must be a finite number, got ${value}`);
  }
}

function checkArtifacts(artifacts: readonly RunArtifact[]): void {
  artifacts.forEach((artifact, index) => {
    if (artifact.name === '' || artifact.digest === '') {
      throw badRequest(`artifacts[${index}] needs a name and a digest`, { index });
    }
    if (!Number.isSafeInteger(artifact.size) || artifact.size < 0) {
      throw badRequest(`artifacts[${index}].size must be a whole number of bytes, got ${artifact.size}`, { index });
    }
  });
}

function checkMetricPoints(metrics: readonly { key: string; step: number; value: number }[]): void {
  const seen = new Set<string>();
  metrics.forEach((metric, index) => {
    if (metric.key === '') throw badRequest(`metrics[${index}].key must not be empty`, { index });
    if (!Number.isSafeInteger(metric.step) || metric.step < 0) {
      throw badRequest(`metrics[${index}].step must be a whole number from 0, got ${metric.step}`, { index });
    }
    if (!Number.isFinite(metric.value)) {
      throw badRequest(`metrics[${index}].value must be a finite number, got ${metric.value}`, { index });
    }
    const id = JSON.stringify([metric.key, metric.step]);
    if (seen.has(id)) {
      throw badRequest(`metrics[${index}] repeats metric ${quote(metric.key)} at step ${metric.step}`, { index });
    }
    seen.add(id);
  });
}

type RunMethods = Pick<
  MetadataStore,
  'createRun' | 'getRun' | 'listRuns' | 'logRunMetrics' | 'finishRun' | 'runMetrics'
>;

/** The run methods of the SQL store. */
export function runMethods(options: RowMethodsOptions): RunMethods {
  const { driver, write } = options;
  return {
    createRun: async (run) => {
      if (run.name === '') throw badRequest('a run needs a name');
      const id = randomUUID();
      return write({ kind: 'run', name: id }, async (tx, seq) => {
        const record: RunRecord = {
          id,
          name: run.name,
          status: 'running',
          params: { ...run.params },
          ...(run.datasetVersion !== undefined && { datasetVersion: run.datasetVersion }),
          ...(run.codeVersion !== undefined && { codeVersion: run.codeVersion }),
          artifacts: [],
          startedAt: Date.now(),
          createdBy: run.by,
          metrics: {},
        };
        await tx.execute(`INSERT INTO runs (${RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
          id,
          seq,
          record.name,
          record.status,
          toJson(record.params),
          record.datasetVersion ?? null,
          record.codeVersion ?? null,
          toJson(record.artifacts),
          null,
          toJson(record.metrics),
          record.startedAt,
          null,
          record.createdBy,
        ]);
        return record;
      });
    },

    getRun: async (id) => toRun(await requireRun(driver, id)),

    listRuns: async (options) => {
      const page = pageRequest(options, 'number');
      const status = options?.status;
      if (status !== undefined && !['running', 'succeeded', 'failed'].includes(status)) {
        throw badRequest(`status must be "running", "succeeded" or "failed", got ${quote(status)}`);
      }
      return selectPage(driver, {
        columns: RUN_COLUMNS,
        from: 'runs',
        filters: [
          { sql: 'status = ?', value: status },
          { sql: 'name = ?', value: options?.name },
        ],
        orderBy: { column: 'seq', descending: true, key: (row: RunRow) => row.seq },
        page,
        map: toRun,
      });
    },

    logRunMetrics: async (runId, metrics) => {
      checkMetricPoints(metrics);
      return write({ kind: 'run', name: runId }, async (tx) => {
        requireRunning(await requireRun(tx, runId), 'log metrics to');
        const at = Date.now();
        const recorded: RunMetric[] = [];
        for (const metric of metrics) {
          const [existing] = await tx.query<{ step: number }>(
            'SELECT step FROM run_metrics WHERE run = ? AND metric_key = ? AND step = ?',
            [runId, metric.key, metric.step],
          );
          if (existing !== undefined) {
            throw new StratumError(
              'ALREADY_EXISTS',
              `run ${quote(runId)} already has metric ${quote(metric.key)} at step ${metric.step}`,
              { details: { run: runId, key: metric.key, step: metric.step } },
            );
          }
          await tx.execute(`INSERT INTO run_metrics (${RUN_METRIC_COLUMNS}) VALUES (?, ?, ?, ?, ?)`, [
            runId,
            metric.key,
            metric.step,
            metric.value,
            at,
          ]);
          recorded.push({ run: runId, key: metric.key, step: metric.step, value: metric.value, at });
        }
        return recorded;
      });
    },

    finishRun: async (finish) => {
      if (finish.status !== 'succeeded' && finish.status !== 'failed') {
        throw badRequest(`a run finishes as "succeeded" or "failed", not ${quote(String(finish.status))}`);
      }
      if (finish.status === 'succeeded' && finish.error !== undefined) {
        throw badRequest('only a failed run has an error');
      }
      checkFiniteMetrics(finish.metrics ?? {});
      checkArtifacts(finish.artifacts ?? []);
      return write({ kind: 'run', name: finish.id }, async (tx) => {
        const row = await requireRun(tx, finish.id);
        requireRunning(row, 'finish');
        const current = toRun(row);
        const record: RunRecord = {
          ...current,
          status: finish.status,
          ...(finish.error !== undefined && { error: finish.error }),
          metrics: { ...current.metrics, ...finish.metrics },
          artifacts: [
            ...current.artifacts,
            ...(finish.artifacts ?? []).map(({ name, digest, size }) => ({ name, digest, size })),
          ],
          finishedAt: Date.now(),
        };
        await tx.execute(
          'UPDATE runs SET status = ?, error = ?, metrics = ?, artifacts = ?, finished_at = ? WHERE id = ?',
          [
            record.status,
            record.error ?? null,
            toJson(record.metrics),
            toJson(record.artifacts),
            record.finishedAt ?? null,
            record.id,
          ],
        );
        return record;
      });
    },

    runMetrics: async (runId, options) => {
      await requireRun(driver, runId);
      const byKey = options?.key !== undefined;
      const rows = await driver.query<RunMetricRow>(
        `SELECT ${RUN_METRIC_COLUMNS} FROM run_metrics WHERE run = ?${byKey ? ' AND metric_key = ?' : ''}`,
        byKey ? [runId, options.key ?? ''] : [runId],
      );
      // Sorted here: PostgreSQL would order keys by the database's collation, SQLite by code point.
      return rows.map(toRunMetric).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.step - b.step));
    },
  };
}
