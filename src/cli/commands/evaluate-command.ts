/**
 * `stratum evaluate <model>`: scores a registered version on a labelled file or query, in this
 * process, as an `evaluate` job would (the work is in `../evaluate.ts`, loaded only when the
 * command runs).
 */
import type { LogLevel } from '../../logging/logger.ts';
import { DEFAULT_ACTOR, defineCommand, GLOBAL_OPTIONS, type OptionsSpec } from './command-spec.ts';
import { STORE_OPTIONS } from './server-commands.ts';
import { settingOverrides } from './setting-overrides.ts';

const EVALUATE_OPTIONS = {
  data: {
    type: 'string',
    value: 'file',
    file: true,
    description: 'the labelled rows: a .csv, .jsonl, .parquet or .arrow file',
  },
  sql: { type: 'string', value: 'query', description: 'instead of --data: a SQL query DuckDB runs' },
  label: { type: 'string', value: 'column', required: true, description: 'the column with the true label' },
  positive: {
    type: 'string',
    value: 'value',
    description: "a binary model's positive value in the label column (the others count as the negative class)",
  },
  limit: { type: 'string', value: 'n', number: { integer: true, min: 1 }, description: 'read at most this many rows' },
  record: {
    type: 'boolean',
    description: 'record the evaluation as a run (params: model, version, data; its metrics and evaluation.json)',
  },
  json: { type: 'boolean', description: 'print the whole result (metrics and report) as JSON on stdout' },
  actor: { type: 'string', value: 'name', default: DEFAULT_ACTOR, description: 'who the run is recorded under' },
  ...STORE_OPTIONS,
  ...GLOBAL_OPTIONS,
  'log-level': { ...GLOBAL_OPTIONS['log-level'], default: 'warn' },
} as const satisfies OptionsSpec;

/** `stratum evaluate`. */
export const evaluateCommand = defineCommand({
  name: 'evaluate',
  summary: 'Score a registered model version on labelled data: accuracy, ROC-AUC… or RMSE',
  description:
    "Run a registered version (name:VERSION, name@ALIAS, or name for its newest ready version) through onnxruntime over every row of a labelled file or query and print the metrics training reports: a classifier's accuracy, balanced accuracy, F1, ROC-AUC, PR-AUC and log loss, a regressor's RMSE, MAE and R². The label is matched to the model's class names. Rows the model gives no prediction are counted, not scored. With --record the evaluation is kept as a run. Submit it as a job on a server with `POST /api/v1/jobs {kind: 'evaluate', …}`.",
  args: [{ name: 'model', description: 'the version: name:VERSION, name@ALIAS or name (its newest)' }],
  options: EVALUATE_OPTIONS,
  examples: [
    'stratum evaluate churn@production --data holdout.csv --label churned',
    'stratum evaluate churn:3 --data holdout.parquet --label churned --positive yes --json',
    'stratum evaluate prices --sql "select * from read_parquet(\'march.parquet\')" --label price --record',
  ],
  async run(cmd) {
    const { values } = cmd;
    if ((values.data === undefined) === (values.sql === undefined)) {
      throw cmd.usageError('give exactly one of --data <file> and --sql <query>');
    }
    const [{ loadConfig }, { createLogger }, { evaluateFromFlags }] = await Promise.all([
      import('../../config/index.ts'),
      import('../../logging/logger.ts'),
      import('../evaluate.ts'),
    ]);
    const config = loadConfig({ overrides: settingOverrides(EVALUATE_OPTIONS, values) });
    const level = values['log-level'] === undefined ? 'warn' : (config.logLevel as LogLevel);
    return evaluateFromFlags({
      model: cmd.args.model,
      data: {
        source: values.sql !== undefined ? { format: 'sql', query: values.sql } : sourceOf(values.data as string),
        label: values.label,
        ...(values.positive !== undefined && { positive: values.positive }),
        ...(values.limit !== undefined && { limit: Number(values.limit) }),
      },
      config,
      logger: createLogger({ level }),
      record: values.record === true,
      json: cmd.json,
      by: values.actor ?? DEFAULT_ACTOR,
      stdout: cmd.io.stdout,
    });
  },
});

/** A file source, its format from its extension. */
function sourceOf(path: string): { format: 'csv' | 'jsonl' | 'parquet' | 'arrow'; path: string } {
  const extension = /\.([a-z]+)$/i.exec(path)?.[1]?.toLowerCase();
  const format =
    extension === 'parquet'
      ? 'parquet'
      : extension === 'arrow' || extension === 'feather'
        ? 'arrow'
        : extension === 'jsonl' || extension === 'ndjson'
          ? 'jsonl'
          : 'csv';
  return { format, path };
}
