/** The pipeline rows of the SQL store (`pipelines`, `pipeline_runs`), written outside the change feed. */
import { StratumError } from '../errors/index.ts';
import type { PipelineRecord, PipelineRecords, PipelineRunRecord, PipelineRunStatus } from './pipeline-records.ts';
import type { SqlExecutor, SqlValue } from './sql-driver.ts';
import { fromJson, type RowMethodsOptions, toJson } from './store-rows.ts';

const MAX_RUNS = 500;

interface PipelineRow {
  name: string;
  spec: string;
  created_at: number;
  updated_at: number;
  updated_by: string;
}

interface RunRow {
  id: string;
  pipeline: string;
  status: string;
  trigger_info: string;
  spec: string;
  steps: string;
  outcome: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

const PIPELINE_COLUMNS = 'name, spec, created_at, updated_at, updated_by';
const RUN_COLUMNS =
  'id, pipeline, status, trigger_info, spec, steps, outcome, created_by, created_at, updated_at, finished_at';

function toPipeline(row: PipelineRow): PipelineRecord {
  return {
    name: row.name,
    spec: fromJson(row.spec),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    updatedBy: row.updated_by,
  };
}

function toRun(row: RunRow): PipelineRunRecord {
  return {
    id: row.id,
    pipeline: row.pipeline,
    status: row.status as PipelineRunStatus,
    trigger: fromJson(row.trigger_info),
    spec: fromJson(row.spec),
    steps: fromJson(row.steps),
    ...(row.outcome !== null && { outcome: fromJson(row.outcome) }),
    createdBy: row.created_by,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
    ...(row.finished_at !== null && { finishedAt: Number(row.finished_at) }),
  };
}

async function pipelineRow(db: SqlExecutor, name: string): Promise<PipelineRow | undefined> {
  const [row] = await db.query<PipelineRow>(`SELECT ${PIPELINE_COLUMNS} FROM pipelines WHERE name = ?`, [name]);
  return row;
}

async function runRow(db: SqlExecutor, id: string): Promise<RunRow | undefined> {
  const [row] = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM pipeline_runs WHERE id = ?`, [id]);
  return row;
}

function missingPipeline(name: string): StratumError {
  return new StratumError('PIPELINE_NOT_FOUND', `pipeline ${JSON.stringify(name)} does not exist`, {
    details: { pipeline: name },
  });
}

function missingRun(id: string): StratumError {
  return new StratumError('PIPELINE_NOT_FOUND', `pipeline run ${JSON.stringify(id)} does not exist`, {
    details: { run: id },
  });
}

/** The pipeline methods of the SQL store. */
export function pipelineMethods(options: RowMethodsOptions): PipelineRecords {
  const { driver } = options;
  return {
    putPipeline: async ({ name, spec, by }) => {
      const now = Date.now();
      const existing = await pipelineRow(driver, name);
      await driver.execute(
        `INSERT INTO pipelines (${PIPELINE_COLUMNS}) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (name) DO UPDATE SET spec = excluded.spec, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        [name, toJson(spec), now, now, by],
      );
      const row = (await pipelineRow(driver, name)) as PipelineRow;
      return { ...toPipeline(row), created: existing === undefined };
    },

    getPipeline: async (name) => {
      const row = await pipelineRow(driver, name);
      if (row === undefined) throw missingPipeline(name);
      return toPipeline(row);
    },

    listPipelines: async () =>
      (await driver.query<PipelineRow>(`SELECT ${PIPELINE_COLUMNS} FROM pipelines ORDER BY name`)).map(toPipeline),

    deletePipeline: async (name) => {
      if ((await pipelineRow(driver, name)) === undefined) throw missingPipeline(name);
      await driver.execute('DELETE FROM pipelines WHERE name = ?', [name]);
    },

    createPipelineRun: async ({ id, pipeline, trigger, spec, by }) => {
      const now = Date.now();
      await driver.execute(
        `INSERT INTO pipeline_runs (${RUN_COLUMNS}) VALUES (?, ?, 'queued', ?, ?, '[]', NULL, ?, ?, ?, NULL)
         ON CONFLICT (id) DO NOTHING`,
        [id, pipeline, toJson(trigger), toJson(spec), by, now, now],
      );
      return toRun((await runRow(driver, id)) as RunRow);
    },

    updatePipelineRun: async (update) => {
      const sets: string[] = ['updated_at = ?'];
      const params: SqlValue[] = [Date.now()];
      if (update.status !== undefined) {
        sets.push('status = ?');
        params.push(update.status);
      }
      if (update.steps !== undefined) {
        sets.push('steps = ?');
        params.push(toJson(update.steps));
      }
      if (update.outcome !== undefined) {
        sets.push('outcome = ?');
        params.push(toJson(update.outcome));
      }
      if (update.finishedAt !== undefined) {
        sets.push('finished_at = ?');
        params.push(update.finishedAt);
      }
      await driver.execute(`UPDATE pipeline_runs SET ${sets.join(', ')} WHERE id = ?`, [...params, update.id]);
      const row = await runRow(driver, update.id);
      if (row === undefined) throw missingRun(update.id);
      return toRun(row);
    },

    getPipelineRun: async (id) => {
      const row = await runRow(driver, id);
      if (row === undefined) throw missingRun(id);
      return toRun(row);
    },

    listPipelineRuns: async (query) => {
      const where: string[] = [];
      const params: SqlValue[] = [];
      if (query.pipeline !== undefined) {
        where.push('pipeline = ?');
        params.push(query.pipeline);
      }
      if (query.statuses !== undefined && query.statuses.length > 0) {
        where.push(`status IN (${query.statuses.map(() => '?').join(', ')})`);
        params.push(...query.statuses);
      }
      const limit = Math.min(MAX_RUNS, Math.max(1, query.limit ?? 50));
      const rows = await driver.query<RunRow>(
        `SELECT ${RUN_COLUMNS} FROM pipeline_runs${where.length === 0 ? '' : ` WHERE ${where.join(' AND ')}`}
         ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
        params,
      );
      return rows.map(toRun);
    },
  };
}
