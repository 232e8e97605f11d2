/**
 * Reads the rows a training spec names into memory, keeping only the columns the features and the
 * label use, and checks them before any training starts: no rows, missing labels, NaN or infinite
 * feature values, a classifier's label with one class. Errors name the source, the row (1-based, in
 * source order) and the column.
 */
import { createHash } from 'node:crypto';
import { basename, isAbsolute, resolve } from 'node:path';
import { csvDataset } from '../../data/csv-source.ts';
import type { Dataset } from '../../data/dataset.ts';
import { datasetVersion } from '../../data/dataset-version.ts';
import { parquetDataset, sqlDataset } from '../../data/duckdb-source.ts';
import { jsonlDataset } from '../../data/jsonl-source.ts';
import { StratumError } from '../../errors/index.ts';
import { isStringTransform } from '../../features/feature-spec.ts';
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

async function openSource(source: DataSource, baseDir: string): Promise<Dataset<Record<string, unknown>>> {
  switch (source.format) {
    case 'csv':
      return csvDataset(
        resolvePath(source.path, baseDir),
        source.schema === undefined ? {} : { schema: source.schema },
      );
    case 'jsonl':
      return jsonlDataset(resolvePath(source.path, baseDir));
    case 'parquet':
      return parquetDataset(
        resolvePath(source.path, baseDir),
        source.columns === undefined ? {} : { columns: source.columns },
      );
    case 'arrow': {
      const { arrowDataset } = await import('../../data/arrow-source.ts');
      return arrowDataset(resolvePath(source.path, baseDir));
    }
    case 'sql':
      return sqlDataset(source.query);
    case 'postgres': {
      const { postgresDataset } = await import('../../data/postgres-source.ts');
      return postgresDataset({ url: source.url, sql: source.query });
    }
  }
}

function badRow(where: string, message: string): StratumError {
  return new StratumError('BAD_REQUEST', `${where}: ${message}`);
}

const isMissing = (value: unknown): boolean => value === null || value === undefined || value === '';

/**
 * Reads and checks the training rows.
 *
 * @throws StratumError BAD_REQUEST naming the source, row and column; NOT_FOUND for a missing file.
 */
export async function readTrainingData(options: ReadTrainingDataOptions): Promise<TrainingData> {
  const { spec, baseDir } = options;
  const source = spec.data.source;
  const label = spec.data.label;
  const where = describeSource(source, baseDir);
  const numberColumns = new Set<string>();
  const stringColumns = new Set<string>();
  for (const transform of spec.features.transforms) {
    (isStringTransform(transform) ? stringColumns : numberColumns).add(transform.column);
  }
  const columns = [...new Set([...numberColumns, ...stringColumns, label])];
  // Queries have no file to hash: their version is the hash of the rows they returned.
  const hash = source.format === 'sql' || source.format === 'postgres' ? createHash('sha256') : undefined;

  const dataset = await openSource(source, baseDir);
  const rows: TrainingRow[] = [];
  const rawLabels: unknown[] = [];
  const limit = spec.data.limit ?? Infinity;
  for await (const row of dataset) {
    if (rows.length >= limit) break;
    const at = `${where}: row ${rows.length + 1}`;
    const kept: TrainingRow = {};
    for (const column of columns) {
      if (!(column in row)) {
        throw badRow(
          at,
          `no column ${JSON.stringify(column)} (the row has ${Object.keys(row)
            .map((c) => JSON.stringify(c))
            .join(', ')})`,
        );
      }
      const value = row[column];
      if (numberColumns.has(column) && typeof value === 'number' && !Number.isFinite(value)) {
        throw badRow(
          at,
          `column ${JSON.stringify(column)}: ${value} is not a feature value (leave the cell empty for a missing value)`,
        );
      }
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

  const { labels, classes } = encodeLabels({ values: rawLabels, spec, where });
  const version = hash === undefined ? await fileSourceVersion(source, baseDir) : `sha256:${hash.digest('hex')}`;
  return {
    rows,
    labels,
    classes,
    version: version as string,
    name:
      spec.data.name ?? (source.format === 'sql' || source.format === 'postgres' ? spec.name : basename(source.path)),
    source: where,
  };
}

type LabelValue = string | number | boolean;

function compareLabels(a: LabelValue, b: LabelValue): number {
  if (typeof a === typeof b) return a < b ? -1 : a > b ? 1 : 0;
  return typeof a < typeof b ? -1 : 1;
}

/** Class indices for classifiers (values sorted, or `positive` as class 1), targets for regression. */
function encodeLabels(args: { values: readonly unknown[]; spec: TrainSpec; where: string }): {
  labels: Float32Array;
  classes: LabelValue[];
} {
  const { values, spec, where } = args;
  const column = JSON.stringify(spec.data.label);
  const labels = new Float32Array(values.length);
  const objective = spec.model.objective;
  if (objective === 'regression') {
    values.forEach((value, i) => {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        throw badRow(
          `${where}: row ${i + 1}`,
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
        `${where}: row ${i + 1}`,
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
