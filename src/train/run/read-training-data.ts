/**
 * Reads the rows a training spec names into memory, keeping only the columns the features and the
 * label use, and checks them before any training starts: no rows, missing labels, a numeric
 * feature that is not a number, NaN or infinite, a missing value where the spec says
 * `missing: error`, a classifier's label with one class. Errors name the source, the position
 * (the line of the file for CSV and JSON Lines, the 1-based row for tables and queries) and the
 * column. A CSV's numeric feature columns are read as numbers, not inferred.
 */
import { createHash } from 'node:crypto';
import { basename, isAbsolute, resolve } from 'node:path';
import {
  type CellLocation,
  type ColumnSchema,
  type LineRow,
  cellDetails,
  describeCell,
  typeMismatch,
} from '../../data/column-schema.ts';
import { csvDatasetWithLines } from '../../data/csv-source.ts';
import type { Dataset } from '../../data/dataset.ts';
import { datasetVersion } from '../../data/dataset-version.ts';
import { parquetDataset, sqlDataset } from '../../data/duckdb-source.ts';
import { jsonlDatasetWithLines } from '../../data/jsonl-source.ts';
import { StratumError } from '../../errors/index.ts';
import { columnsRequiringValues, isStringTransform } from '../../features/feature-spec.ts';
import { rawDoubleOf } from '../../features/raw-value.ts';
import type { DataSource, TrainSpec } from './train-spec.ts';

/** A row as read, with only the columns training uses. */
export type TrainingRow = Record<string, unknown>;

/** What {@link readTrainingData} returns. */
export interface TrainingData {
  /** The rows, features' columns and the label. */
  readonly rows: TrainingRow[];
  /** The label of each row: a class index (classifiers) or the target (regression). */
  readonly labels: Float32Array;
  /** Class values in index order (classifiers); empty for regression. */
  readonly classes: readonly (string | number | boolean)[];
  /** Content hash of the data (`sha256:…`): of the file for file sources, of the rows read for queries. */
  readonly version: string;
  /** Names the data in runs and dataset versions. */
  readonly name: string;
  /** Where it was read from, for people: the path or the query. */
  readonly source: string;
}

/** Options of {@link readTrainingData}. */
export interface ReadTrainingDataOptions {
  readonly spec: TrainSpec;
  /** Folder that relative paths in the spec are resolved against (the CLI uses the working directory, as DuckDB does for paths inside queries). */
  readonly baseDir: string;
  /** Called every 10,000 rows read. */
  readonly onRows?: (rows: number) => void;
}

/** The data version of a file source, known before reading; `undefined` for queries. */
export async function fileSourceVersion(source: DataSource, baseDir: string): Promise<string | undefined> {
  if (source.format === 'sql' || source.format === 'postgres') return undefined;
  return (await datasetVersion(resolvePath(source.path, baseDir))).digest;
}

function resolvePath(path: string, baseDir: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

function describeSource(source: DataSource, baseDir: string): string {
  if (source.format === 'sql' || source.format === 'postgres')
    return `${source.format} query ${JSON.stringify(source.query)}`;
  return resolvePath(source.path, baseDir);
}

type SourceRow = Record<string, unknown>;

/** The source's rows; `lines`: each comes as a {@link LineRow} (files with lines), else bare. */
type OpenedSource =
  | { readonly lines: true; readonly rows: Dataset<LineRow<SourceRow>> }
  | { readonly lines: false; readonly rows: Dataset<SourceRow> };

/**
 * Opens the spec's source. A CSV's numeric feature columns (`numbers`) are read as numbers, so a
 * cell that is not one is refused with its line rather than turning the column into text.
 */
async function openSource(
  source: DataSource,
  options: { baseDir: string; numbers: ColumnSchema },
): Promise<OpenedSource> {
  const { baseDir, numbers } = options;
  switch (source.format) {
    case 'csv': {
      const path = resolvePath(source.path, baseDir);
      const types = source.schema === undefined ? { types: numbers } : { schema: { ...numbers, ...source.schema } };
      return { lines: true, rows: csvDatasetWithLines(path, types) };
    }
    case 'jsonl':
      return { lines: true, rows: jsonlDatasetWithLines(resolvePath(source.path, baseDir)) };
    case 'parquet':
      return {
        lines: false,
        rows: parquetDataset(
          resolvePath(source.path, baseDir),
          source.columns === undefined ? {} : { columns: source.columns },
        ),
      };
    case 'arrow': {
      const { arrowDataset } = await import('../../data/arrow-source.ts');
      return { lines: false, rows: arrowDataset(resolvePath(source.path, baseDir)) };
    }
    case 'sql':
      return { lines: false, rows: sqlDataset(source.query) };
    case 'postgres': {
      const { postgresDataset } = await import('../../data/postgres-source.ts');
      return { lines: false, rows: postgresDataset({ url: source.url, sql: source.query }) };
    }
  }
}

function badRow(where: string, message: string): StratumError {
  return new StratumError('BAD_REQUEST', `${where}: ${message}`);
}

const isMissing = (value: unknown): boolean => value === null || value === undefined || value === '';

/** What {@link checkNumber} needs to know about the spec. */
interface NumberRules {
  /** Columns whose missing values are refused → the index of the transform that refuses them. */
  readonly required: ReadonlyMap<string, number>;
  /** Transform kind by index, for messages. */
  readonly kinds: readonly string[];
}

/** Checks a numeric feature cell: a number (or missing, where the spec fills it), finite. */
function checkNumber(cell: CellLocation & { value: unknown }, rules: NumberRules): void {
  const { value, ...location } = cell;
  const number = rawDoubleOf(value);
  if (number === undefined) throw typeMismatch(location, 'a number', value);
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw badRow(describeCell(location), `${value} is not a feature value (leave the cell empty for a missing value)`);
  }
  if (!Number.isNaN(number)) return;
  const index = rules.required.get(location.column);
  if (index === undefined) return;
  throw new StratumError(
    'BAD_REQUEST',
    `${describeCell(location)}: the value is missing, and features.transforms[${index}] (${rules.kinds[index]}) refuses missing values (missing: error, the default); set its missing to mean, median or constant (with fillValue) to fill them, or fill the cell`,
    { details: { ...cellDetails(location), path: ['features', 'transforms', index, 'missing'] } },
  );
}

/** Which columns to read and how: what a training spec's features say, or a model's inputs. */
export interface ColumnPlan {
  /** Numeric columns: each cell a number (or missing), finite. Includes the date columns. */
  readonly numbers: ReadonlySet<string>;
  /** Text columns, kept as they are. */
  readonly strings: ReadonlySet<string>;
  /** Numeric columns a CSV may write as dates (not forced to numbers when read). */
  readonly dates: ReadonlySet<string>;
  /** Columns whose missing values are refused → the index of the transform that refuses them. */
  readonly required: ReadonlyMap<string, number>;
  /** Transform kind by index, for messages. */
  readonly kinds: readonly string[];
  /** The label is a number (regression): a CSV reads it as one. */
  readonly numericLabel: boolean;
}

/** The rows of a labelled source as read and checked, labels still raw. */
export interface LabelledRows {
  /** The rows, with the plan's columns and without the label. */
  readonly rows: TrainingRow[];
  /** Each row's label as read (never missing). */
  readonly rawLabels: unknown[];
  /** `line 7` or `row 7` for the i-th row. */
  readonly positionOf: (i: number) => string;
  /** Content hash of the data (`sha256:…`): of the file for file sources, of the rows read for queries. */
  readonly version: string;
  /** The source, for people and messages: the path or the query. */
  readonly source: string;
}

/** Options of {@link readLabelledRows}. */
export interface ReadLabelledRowsOptions {
  readonly data: Pick<TrainSpec['data'], 'source' | 'label' | 'limit'>;
  readonly columns: ColumnPlan;
  /** Folder that relative paths are resolved against. */
  readonly baseDir: string;
  /** Called every 10,000 rows read. */
  readonly onRows?: (rows: number) => void;
  /** Says why a column is needed, after "no column …" (e.g. the model input it feeds). @default nothing */
  readonly neededFor?: (column: string) => string | undefined;
}

/** The column plan of a training spec: its features' columns. */
function columnPlanOf(spec: TrainSpec): ColumnPlan {
  const numbers = new Set<string>();
  const strings = new Set<string>();
  const dates = new Set<string>();
  for (const transform of spec.features.transforms) {
    (isStringTransform(transform) ? strings : numbers).add(transform.column);
    if (transform.transform === 'dateparts') dates.add(transform.column);
  }
  // A sensitive column that is no feature is read as it is, for the card's fairness report only.
  for (const column of spec.card.sensitive ?? []) if (!numbers.has(column)) strings.add(column);
  return {
    numbers,
    strings,
    dates,
    required: columnsRequiringValues(spec.features),
    kinds: spec.features.transforms.map((t) => t.transform),
    numericLabel: spec.model.objective === 'regression',
  };
}

/**
 * Reads and checks the rows of a labelled source: every row has the plan's columns and a label,
 * numeric cells are numbers. Shared by training and by the evaluation of a registered version.
 *
 * @throws StratumError BAD_REQUEST naming the source, row and column; NOT_FOUND for a missing file.
 */
export async function readLabelledRows(options: ReadLabelledRowsOptions): Promise<LabelledRows> {
  const { data, baseDir, columns: plan } = options;
  const { source, label } = data;
  const where = describeSource(source, baseDir);
  const columns = [...new Set([...plan.numbers, ...plan.strings, label])];
  const rules: NumberRules = { required: plan.required, kinds: plan.kinds };
  // Timestamps in a CSV may be written as dates; the other numeric columns, and a regression's
  // label, are read as numbers.
  const numbers: Record<string, 'number'> = Object.fromEntries(
    [...plan.numbers].filter((column) => !plan.dates.has(column)).map((column) => [column, 'number' as const]),
  );
  if (plan.numericLabel) numbers[label] = 'number';
  // Queries have no file to hash: their version is the hash of the rows they returned.
  const hash = source.format === 'sql' || source.format === 'postgres' ? createHash('sha256') : undefined;

  const opened = await openSource(source, { baseDir, numbers });
  const rows: TrainingRow[] = [];
  const rawLabels: unknown[] = [];
  /** The line of each row, for sources with lines. */
  const lines: number[] = [];
  const limit = data.limit ?? Infinity;
  for await (const item of opened.rows) {
    if (rows.length >= limit) break;
    const row = opened.lines ? (item as LineRow<SourceRow>).row : (item as SourceRow);
    const position = opened.lines ? { line: (item as LineRow<SourceRow>).line } : { row: rows.length + 1 };
    if (position.line !== undefined) lines.push(position.line);
    const at = `${where}: ${position.line === undefined ? `row ${position.row}` : `line ${position.line}`}`;
    const kept: TrainingRow = {};
    for (const column of columns) {
      if (!(column in row)) {
        const why = column === label ? 'the label' : options.neededFor?.(column);
        throw badRow(
          at,
          `no column ${JSON.stringify(column)}${why === undefined ? '' : ` (${why})`}; the row has ${Object.keys(row)
            .map((c) => JSON.stringify(c))
            .join(', ')}`,
        );
      }
      const value = row[column];
      // A finite number is the common case: nothing to check, nothing to allocate.
      const finite = typeof value === 'number' && Number.isFinite(value);
      if (!finite && plan.numbers.has(column)) checkNumber({ label: where, ...position, column, value }, rules);
      kept[column] = value;
    }
    if (isMissing(kept[label])) throw badRow(at, `column ${JSON.stringify(label)}: the label is missing`);
    hash?.update(JSON.stringify(columns.map((c) => kept[c] ?? null)));
    hash?.update('\n');
    rawLabels.push(kept[label]);
    delete kept[label];
    rows.push(kept);
    if (rows.length % 10_000 === 0) options.onRows?.(rows.length);
  }
  if (rows.length === 0) throw new StratumError('BAD_REQUEST', `${where}: the dataset is empty (no rows)`);
  options.onRows?.(rows.length);
  const version = hash === undefined ? await fileSourceVersion(source, baseDir) : `sha256:${hash.digest('hex')}`;
  return {
    rows,
    rawLabels,
    positionOf: (i) => (lines.length > 0 ? `line ${lines[i]}` : `row ${i + 1}`),
    version: version as string,
    source: where,
  };
}

/**
 * Reads and checks the training rows.
 *
 * @throws StratumError BAD_REQUEST naming the source, row and column; NOT_FOUND for a missing file.
 */
export async function readTrainingData(options: ReadTrainingDataOptions): Promise<TrainingData> {
  const { spec, baseDir } = options;
  const source = spec.data.source;
  const read = await readLabelledRows({
    data: spec.data,
    columns: columnPlanOf(spec),
    baseDir,
    neededFor: (column) =>
      spec.card.sensitive?.includes(column) === true ? `card.sensitive names it, for the fairness report` : undefined,
    ...(options.onRows !== undefined && { onRows: options.onRows }),
  });
  const { labels, classes } = encodeLabels({
    values: read.rawLabels,
    spec,
    where: read.source,
    positionOf: read.positionOf,
  });
  return {
    rows: read.rows,
    labels,
    classes,
    version: read.version,
    name:
      spec.data.name ?? (source.format === 'sql' || source.format === 'postgres' ? spec.name : basename(source.path)),
    source: read.source,
  };
}

type LabelValue = string | number | boolean;

function compareLabels(a: LabelValue, b: LabelValue): number {
  if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
  return typeof a < typeof b ? -1 : 1;
}

/** Class indices for classifiers (values sorted, or `positive` as class 1), targets for regression. */
function encodeLabels(args: {
  values: readonly unknown[];
  spec: TrainSpec;
  where: string;
  /** `line 7` or `row 7` for the i-th row. */
  positionOf: (i: number) => string;
}): {
  labels: Float32Array;
  classes: LabelValue[];
} {
  const { values, spec, where, positionOf } = args;
  const column = JSON.stringify(spec.data.label);
  const labels = new Float32Array(values.length);
  const objective = spec.model.objective;
  if (objective === 'regression') {
    values.forEach((value, i) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw badRow(
          `${where}: ${positionOf(i)}`,
          `column ${column}: a regression label must be a finite number, got ${JSON.stringify(value)}`,
        );
      }
      labels[i] = value;
    });
    return { labels, classes: [] };
  }
  for (const [i, value] of values.entries()) {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw badRow(
        `${where}: ${positionOf(i)}`,
        `column ${column}: a class label must be a string, number or boolean, got ${JSON.stringify(value)}`,
      );
    }
  }
  const distinct = [...new Set(values as LabelValue[])].sort(compareLabels);
  if (distinct.length < 2) {
    throw new StratumError(
      'BAD_REQUEST',
      `${where}: column ${column}: the label has one class (${JSON.stringify(distinct[0])}) in all ${values.length} rows; a classifier needs at least two`,
    );
  }
  let classes = distinct;
  if (objective === 'binary') {
    const positive = spec.data.positive;
    if (positive !== undefined) {
      if (!distinct.includes(positive)) {
        throw new StratumError(
          'BAD_REQUEST',
          `data.positive: ${JSON.stringify(positive)} never occurs in column ${column} (values: ${distinct.map((d) => JSON.stringify(d)).join(', ')})`,
        );
      }
      classes = [distinct.find((d) => d !== positive) as LabelValue, positive];
      if (distinct.length > 2) classes = [`not ${String(positive)}`, positive];
    } else if (distinct.length > 2) {
      throw new StratumError(
        'BAD_REQUEST',
        `${where}: column ${column}: a binary label has ${distinct.length} values (${distinct
          .slice(0, 5)
          .map((d) => JSON.stringify(d))
          .join(', ')}…); set data.positive or use objective multiclass`,
      );
    }
    const positiveValue = classes[1] as LabelValue;
    values.forEach((value, i) => {
      labels[i] = value === positiveValue ? 1 : 0;
    });
    return { labels, classes };
  }
  const index = new Map(classes.map((value, i) => [value, i]));
  values.forEach((value, i) => {
    labels[i] = index.get(value as LabelValue) as number;
  });
  return { labels, classes };
}
