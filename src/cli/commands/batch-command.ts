/**
 * `stratum batch`: batch inference over a CSV, JSON Lines or Parquet file, or a SQL query DuckDB
 * runs, to a CSV, JSON Lines or Parquet file — chunked, checkpointed and resumable. Runs in this
 * process (the work is in `../batch.ts`, loaded only when the command runs), or with `--queue` as
 * a job on a server's workers (`../batch-queue.ts`).
 */
import type { LogLevel } from '../../logging/logger.ts';
import { API_OPTIONS, defineCommand, GLOBAL_OPTIONS, type OptionsSpec } from './command-spec.ts';
import { STORE_OPTIONS } from './server-commands.ts';
import { settingOverrides } from './setting-overrides.ts';

const BATCH_OPTIONS = {
  model: {
    type: 'string',
    value: 'model',
    required: true,
    description: 'a registry model (name, name:VERSION, name@ALIAS; name alone is its newest version) or an .onnx file',
  },
  input: { type: 'string', value: 'file', file: true, description: 'the input: a .csv, .jsonl or .parquet file' },
  sql: {
    type: 'string',
    value: 'query',
    description: 'instead of --input: a SQL query DuckDB runs (read_csv, read_parquet, …)',
  },
  output: {
    type: 'string',
    value: 'file',
    file: true,
    required: true,
    description: 'the output file; .csv, .jsonl or .parquet says its format',
  },
  'chunk-rows': {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    default: '10000',
    description: 'rows per chunk, the unit of checkpointing',
  },
  'batch-rows': {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    default: '1024',
    description: 'rows per model run',
  },
  'on-bad-row': {
    type: 'string',
    choices: ['skip', 'fail'],
    default: 'fail',
    description: 'skip: report a bad row in the errors file and go on; fail: stop at the first one',
  },
  errors: {
    type: 'string',
    value: 'file',
    file: true,
    description: 'with skip: where bad rows are listed (default <output>.errors.jsonl)',
  },
  'pass-through': {
    type: 'string',
    multiple: true,
    value: 'column',
    description: 'an input column copied to the output (an id); repeat for more',
  },
  outputs: {
    type: 'string',
    multiple: true,
    value: 'name',
    description: 'a model output to write (default: every output); repeat for more',
  },
  map: {
    type: 'string',
    multiple: true,
    value: 'input=col[,col…]',
    description: 'feed a model input from these columns (default: the column of its name); repeat for more',
  },
  workers: {
    type: 'string',
    value: 'n',
    number: { integer: true, min: 1 },
    setting: 'runtime.workers',
    default: 'the number of cores',
    description: 'worker threads running the model; chunks run this many at once',
  },
  queue: {
    type: 'boolean',
    description:
      'submit the batch as a batch-infer job to the server at --url (its workers run the chunks) and print its id',
  },
  wait: {
    type: 'boolean',
    description: 'with --queue: follow the job to its end, with its progress, and print the summary',
  },
  url: { ...API_OPTIONS.url, description: 'with --queue: the Stratum server to submit to' },
  json: { type: 'boolean', description: 'print the result as JSON on stdout' },
  ...STORE_OPTIONS,
  ...GLOBAL_OPTIONS,
  'log-level': { ...GLOBAL_OPTIONS['log-level'], default: 'warn' },
} as const satisfies OptionsSpec;

/** `stratum batch`. */
export const batchCommand = defineCommand({
  name: 'batch',
  summary: 'Batch inference over a file or a SQL query, chunked and resumable',
  description:
    'Run a model over every row of a CSV, JSON Lines or Parquet file, or of a SQL query DuckDB runs, and write its outputs (a classifier: the class name and one probability column per class) to a CSV, JSON Lines or Parquet file. The input is split into chunks; each finished chunk is kept in <output>.parts/, so a run that crashed or was interrupted resumes at its first unfinished chunk when run again, with no row missing or repeated. The output appears only when complete. Progress on stderr. With --queue the batch is a job on the server at --url: its chunks run on every worker (paths are made absolute; the workers must see the same files).',
  args: [],
  options: BATCH_OPTIONS,
  usage: ['stratum batch --model <model> (--input <file> | --sql <query>) --output <file> [options]'],
  examples: [
    'stratum batch --model flight-delays@production --input flights.parquet --output delays.parquet',
    'stratum batch --model model.onnx --input rows.csv --output scores.csv --pass-through id --on-bad-row skip',
    'stratum batch --model churn:3 --sql "select * from read_csv(\'customers.csv\') where active" --output churn.jsonl',
    'stratum batch --model churn@production --input customers.parquet --output churn.parquet --queue --wait',
  ],
  async run(cmd) {
    const { values } = cmd;
    if ((values.input === undefined) === (values.sql === undefined)) {
      throw cmd.usageError('give exactly one of --input <file> and --sql <query>');
    }
    const inputs: Record<string, string[]> = {};
    for (const entry of values.map ?? []) {
      const [name, columns] = entry.split('=', 2);
      if (name === undefined || name === '' || columns === undefined || columns === '') {
        throw cmd.usageError(`--map ${entry}: expected input=column[,column…]`);
      }
      inputs[name] = columns.split(',');
    }
    const chunkRows = cmd.number('chunk-rows');
    const batchRows = cmd.number('batch-rows');
    const spec = {
      model: values.model,
      input: values.sql !== undefined ? { sql: values.sql } : { path: values.input as string },
      output: values.output,
      ...(chunkRows !== undefined && { chunkRows }),
      ...(batchRows !== undefined && { batchRows }),
      ...(values['on-bad-row'] !== undefined && { onBadRow: values['on-bad-row'] }),
      ...(values.errors !== undefined && { errors: values.errors }),
      ...(values['pass-through'] !== undefined && { passThrough: values['pass-through'] }),
      ...(values.outputs !== undefined && { outputs: values.outputs }),
      ...(Object.keys(inputs).length > 0 && { inputs }),
    };
    if (values.wait === true && values.queue !== true) throw cmd.usageError('--wait goes with --queue');
    if (values.queue === true) {
      const { submitBatchJob } = await import('../batch-queue.ts');
      return submitBatchJob({
        spec,
        api: cmd.api,
        wait: values.wait === true,
        json: cmd.json,
        stdout: cmd.io.stdout,
        stderr: cmd.io.stderr,
      });
    }
    const [{ loadConfig }, { createLogger }, { batchFromFlags }] = await Promise.all([
      import('../../config/index.ts'),
      import('../../logging/logger.ts'),
      import('../batch.ts'),
    ]);
    const config = loadConfig({ overrides: settingOverrides(BATCH_OPTIONS, values) });
    const level = values['log-level'] === undefined ? 'warn' : (config.logLevel as LogLevel);
    return batchFromFlags({
      spec,
      config,
      logger: createLogger({ level }),
      ...(values.json === true && { json: true }),
      stdout: cmd.io.stdout,
      stderr: cmd.io.stderr,
    });
  },
});
