/**
 * Tuning experiments on SQL: experiments, their trials and the scheduler's rung results, with the
 * mapping to the contract's records, written through the same `write` (one transaction, one change
 * record) as the rest of the store. A trial's key is (experiment, number), so adding a point twice
 * fails instead of running it twice.
 */
import { randomUUID } from 'node:crypto';
import { StratumError } from '../errors/index.ts';
import type { ExperimentRecord, ExperimentStatus, MetadataStore, TrialRecord, TrialStatus } from './metadata-store.ts';
import { pageRequest } from './page-cursor.ts';
import { selectPage } from './select-page.ts';
import type { SqlExecutor, SqlValue } from './sql-driver.ts';
import { quote } from './store-errors.ts';
import { fromJson, type RowMethodsOptions, toJson } from './store-rows.ts';

/** An `experiments` row. */
export interface ExperimentRow {
  readonly id: string;
  readonly seq: number;
  readonly name: string;
  readonly status: string;
  readonly spec: string;
  readonly metric: string;
  readonly mode: string;
  readonly job_id: string | null;
  readonly best_trial: number | null;
  readonly best_value: number | null;
  readonly registered: string | null;
  readonly error: string | null;
  readonly created_at: number;
  readonly finished_at: number | null;
  readonly created_by: string;
}
export const EXPERIMENT_COLUMNS =
  'id, seq, name, status, spec, metric, mode, job_id, best_trial, best_value, registered, error, created_at, finished_at, created_by';

/** An `experiment_trials` row. */
export interface TrialRow {
  readonly experiment: string;
  readonly number: number;
  readonly status: string;
  readonly params: string;
  readonly run_id: string | null;
  readonly job_id: string | null;
  readonly resource: number | null;
  readonly value: number | null;
  readonly error: string | null;
  readonly created_at: number;
  readonly finished_at: number | null;
}
export const TRIAL_COLUMNS =
  'experiment, number, status, params, run_id, job_id, resource, value, error, created_at, finished_at';

const EXPERIMENT_STATUSES: readonly ExperimentStatus[] = ['running', 'succeeded', 'failed', 'cancelled'];
const FINISHED_TRIALS: readonly TrialStatus[] = ['completed', 'stopped', 'failed'];

/** Maps an `experiments` row. */
export function toExperiment(row: ExperimentRow): ExperimentRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status as ExperimentStatus,
    spec: fromJson<unknown>(row.spec),
    metric: row.metric,
    mode: row.mode as 'max' | 'min',
    ...(row.job_id !== null && { jobId: row.job_id }),
    ...(row.best_trial !== null && { bestTrial: Number(row.best_trial) }),
    ...(row.best_value !== null && { bestValue: Number(row.best_value) }),
    ...(row.registered !== null && { registered: fromJson<{ model: string; version: number }>(row.registered) }),
    ...(row.error !== null && { error: row.error }),
    createdAt: Number(row.created_at),
    ...(row.finished_at !== null && { finishedAt: Number(row.finished_at) }),
    createdBy: row.created_by,
  };
}

/** Maps an `experiment_trials` row. */
export function toTrial(row: TrialRow): TrialRecord {
  return {
    experiment: row.experiment,
    number: Number(row.number),
    status: row.status as TrialStatus,
    params: fromJson<Record<string, unknown>>(row.params),
    ...(row.run_id !== null && { runId: row.run_id }),
    ...(row.job_id !== null && { jobId: row.job_id }),
    ...(row.resource !== null && { resource: Number(row.resource) }),
    ...(row.value !== null && { value: Number(row.value) }),
    ...(row.error !== null && { error: row.error }),
    createdAt: Number(row.created_at),
    ...(row.finished_at !== null && { finishedAt: Number(row.finished_at) }),
  };
}

function notFound(what: string, details: Record<string, unknown>): StratumError {
  return new StratumError('NOT_FOUND', `${what} does not exist`, { details });
}

function badRequest(message: string): StratumError {
  return new StratumError('BAD_REQUEST', message);
}

async function requireExperiment(db: SqlExecutor, id: string): Promise<ExperimentRow> {
  const [row] = await db.query<ExperimentRow>(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE id = ?`, [id]);
  if (row === undefined) throw notFound(`experiment ${quote(id)}`, { experiment: id });
  return row;
}

async function requireTrial(db: SqlExecutor, experiment: string, number: number): Promise<TrialRow> {
  const [row] = await db.query<TrialRow>(
    `SELECT ${TRIAL_COLUMNS} FROM experiment_trials WHERE experiment = ? AND number = ?`,
    [experiment, number],
  );
  if (row === undefined) throw notFound(`trial ${number} of experiment ${quote(experiment)}`, { experiment, number });
  return row;
}

function checkFinite(name: string, value: number | undefined): void {
  if (value !== undefined && !Number.isFinite(value)) throw badRequest(`${name} must be a finite number, got ${value}`);
}

type ExperimentMethods = Pick<
  MetadataStore,
  'createExperiment' | 'getExperiment' | 'listExperiments' | 'finishExperiment' | 'recordExperimentRegistration'
>;
type TrialMethods = Pick<MetadataStore, 'addTrial' | 'updateTrial' | 'listTrials' | 'recordRung' | 'rungResults'>;

/** The experiment, trial and rung methods of the SQL store. */
export function experimentMethods(options: RowMethodsOptions): ExperimentMethods & TrialMethods {
  return { ...experimentRecordMethods(options), ...trialMethods(options) };
}

function experimentRecordMethods(options: RowMethodsOptions): ExperimentMethods {
  const { driver, write } = options;
  return {
    createExperiment: async (experiment) => {
      if (experiment.name === '') throw badRequest('an experiment needs a name');
      const id = experiment.id ?? randomUUID();
      return write({ kind: 'experiment', name: id }, async (tx, seq) => {
        const [existing] = await tx.query<{ id: string }>('SELECT id FROM experiments WHERE id = ?', [id]);
        if (existing !== undefined) {
          throw new StratumError('ALREADY_EXISTS', `experiment ${quote(id)} already exists`, {
            details: { experiment: id },
          });
        }
        const createdAt = Date.now();
        await tx.execute(
          `INSERT INTO experiments (${EXPERIMENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            id,
            seq,
            experiment.name,
            'running',
            toJson(experiment.spec),
            experiment.metric,
            experiment.mode,
            experiment.jobId ?? null,
            null,
            null,
            null,
            null,
            createdAt,
            null,
            experiment.by,
          ],
        );
        return toExperiment(await requireExperiment(tx, id));
      });
    },

    getExperiment: async (id) => toExperiment(await requireExperiment(driver, id)),

    listExperiments: async (options) => {
      const page = pageRequest(options, 'number');
      const status = options?.status;
      if (status !== undefined && !EXPERIMENT_STATUSES.includes(status)) {
        throw badRequest(`status must be one of ${EXPERIMENT_STATUSES.join(', ')}, got ${quote(status)}`);
      }
      return selectPage(driver, {
        columns: EXPERIMENT_COLUMNS,
        from: 'experiments',
        filters: [{ sql: 'status = ?', value: status }],
        orderBy: { column: 'seq', descending: true, key: (row: ExperimentRow) => row.seq },
        page,
        map: toExperiment,
      });
    },

    finishExperiment: async (finish) => {
      if (!EXPERIMENT_STATUSES.includes(finish.status) || (finish.status as string) === 'running') {
        throw badRequest(`an experiment finishes as succeeded, failed or cancelled, not ${quote(finish.status)}`);
      }
      checkFinite('bestValue', finish.bestValue);
      return write({ kind: 'experiment', name: finish.id }, async (tx) => {
        const row = await requireExperiment(tx, finish.id);
        if (row.status !== 'running') {
          throw new StratumError(
            'RUN_FINISHED',
            `experiment ${quote(finish.id)} already finished as ${row.status}; cannot finish it again`,
            { details: { experiment: finish.id, status: row.status } },
          );
        }
        await tx.execute(
          'UPDATE experiments SET status = ?, best_trial = ?, best_value = ?, registered = ?, error = ?, finished_at = ? WHERE id = ?',
          [
            finish.status,
            finish.bestTrial ?? null,
            finish.bestValue ?? null,
            finish.registered === undefined ? null : toJson(finish.registered),
            finish.error ?? null,
            Date.now(),
            finish.id,
          ],
        );
        return toExperiment(await requireExperiment(tx, finish.id));
      });
    },

    recordExperimentRegistration: async ({ id, registered }) =>
      write({ kind: 'experiment', name: id }, async (tx) => {
        const row = await requireExperiment(tx, id);
        if (row.status !== 'succeeded') {
          throw badRequest(`experiment ${quote(id)} ended ${row.status}; only a succeeded one registers a model`);
        }
        if (row.registered === null) {
          await tx.execute('UPDATE experiments SET registered = ? WHERE id = ?', [toJson(registered), id]);
        }
        return toExperiment(await requireExperiment(tx, id));
      }),
  };
}

function trialMethods(options: RowMethodsOptions): TrialMethods {
  const { driver, write } = options;
  return {
    addTrial: async (trial) => {
      if (!Number.isSafeInteger(trial.number) || trial.number < 0) {
        throw badRequest(`a trial number is a whole number from 0, got ${trial.number}`);
      }
      return write({ kind: 'experiment', name: trial.experiment }, async (tx) => {
        await requireExperiment(tx, trial.experiment);
        const [existing] = await tx.query<{ number: number }>(
          'SELECT number FROM experiment_trials WHERE experiment = ? AND number = ?',
          [trial.experiment, trial.number],
        );
        if (existing !== undefined) {
          throw new StratumError(
            'ALREADY_EXISTS',
            `experiment ${quote(trial.experiment)} already has trial ${trial.number}`,
            { details: { experiment: trial.experiment, number: trial.number } },
          );
        }
        await tx.execute(`INSERT INTO experiment_trials (${TRIAL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, [
          trial.experiment,
          trial.number,
          'running',
          toJson(trial.params),
          null,
          trial.jobId ?? null,
          null,
          null,
          null,
          Date.now(),
          null,
        ]);
        return toTrial(await requireTrial(tx, trial.experiment, trial.number));
      });
    },

    updateTrial: async (update) => {
      checkFinite('value', update.value);
      return write({ kind: 'experiment', name: update.experiment }, async (tx) => {
        const row = await requireTrial(tx, update.experiment, update.number);
        const sets: string[] = [];
        const values: SqlValue[] = [];
        const set = (column: string, value: SqlValue | undefined): void => {
          if (value === undefined) return;
          sets.push(`${column} = ?`);
          values.push(value);
        };
        set('status', update.status);
        set('run_id', update.runId);
        set('job_id', update.jobId);
        set('resource', update.resource);
        set('value', update.value);
        set('error', update.error);
        if (update.status !== undefined) {
          set('finished_at', FINISHED_TRIALS.includes(update.status) ? Date.now() : undefined);
          // A trial run again (a retried job) starts afresh.
          if (update.status === 'running' && row.finished_at !== null) sets.push('finished_at = NULL');
        }
        if (sets.length > 0) {
          await tx.execute(`UPDATE experiment_trials SET ${sets.join(', ')} WHERE experiment = ? AND number = ?`, [
            ...values,
            update.experiment,
            update.number,
          ]);
        }
        return toTrial(await requireTrial(tx, update.experiment, update.number));
      });
    },

    listTrials: async (experiment) => {
      await requireExperiment(driver, experiment);
      const rows = await driver.query<TrialRow>(
        `SELECT ${TRIAL_COLUMNS} FROM experiment_trials WHERE experiment = ? ORDER BY number`,
        [experiment],
      );
      return rows.map(toTrial);
    },

    recordRung: async (result) => {
      checkFinite('value', result.value);
      await write({ kind: 'experiment', name: result.experiment }, async (tx) => {
        await requireExperiment(tx, result.experiment);
        // A retried trial reaches the rung again: its latest value replaces the earlier one.
        await tx.execute('DELETE FROM experiment_rungs WHERE experiment = ? AND rung = ? AND trial = ?', [
          result.experiment,
          result.rung,
          result.trial,
        ]);
        await tx.execute(
          'INSERT INTO experiment_rungs (experiment, rung, trial, value, created_at) VALUES (?, ?, ?, ?, ?)',
          [result.experiment, result.rung, result.trial, result.value, Date.now()],
        );
      });
    },

    rungResults: async (experiment) => {
      await requireExperiment(driver, experiment);
      const rows = await driver.query<{ rung: number; trial: number; value: number }>(
        'SELECT rung, trial, value FROM experiment_rungs WHERE experiment = ? ORDER BY rung, trial',
        [experiment],
      );
      return rows.map((row) => ({
        experiment,
        rung: Number(row.rung),
        trial: Number(row.trial),
        value: Number(row.value),
      }));
    },
  };
}
