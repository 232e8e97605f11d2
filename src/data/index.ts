/**
 * Streaming datasets: the `Dataset` API, its sources (arrays, CSV, JSON Lines, Parquet and SQL through
 * DuckDB, Arrow IPC, PostgreSQL), whole-column reads, worker-thread maps, content versions and profiles.
 */
export { fromArray } from './array-source.ts';
export { arrowDataset } from './arrow-source.ts';
export type { CellValue, ColumnSchema, ColumnType, ColumnValue, LineRow, RowOf } from './column-schema.ts';
export { csvMatrixBatches, readCsvMatrix } from './csv-matrix.ts';
export type { CsvMatrixOptions, FloatBatch } from './csv-matrix.ts';
export { csvDataset, csvDatasetWithLines } from './csv-source.ts';
export type { CsvDatasetOptions, CsvRow } from './csv-source.ts';
export { Dataset } from './dataset.ts';
export type { BatchOptions, CacheOptions, DatasetSource, InterleaveOptions, ShuffleOptions } from './dataset.ts';
export { datasetVersion } from './dataset-version.ts';
export type { DatasetVersion, FileVersion } from './dataset-version.ts';
export { parquetColumns, parquetDataset, sqlColumns, sqlDataset } from './duckdb-source.ts';
export type { ParquetDatasetOptions, SqlDatasetOptions, SqlParam } from './duckdb-source.ts';
export { jsonlDataset, jsonlDatasetWithLines } from './jsonl-source.ts';
export type { JsonlDatasetOptions, JsonlRecord } from './jsonl-source.ts';
export { postgresDataset } from './postgres-source.ts';
export { formatProfile, mergeProfiles, profileDataset } from './profile/index.ts';
export type { ColumnProfile, DatasetProfile } from './profile/index.ts';
export type { PostgresDatasetOptions, PostgresParam } from './postgres-source.ts';
export { numberColumn, stringColumn } from './table-row.ts';
export type { ColumnArray, TableColumns, TableRow, TableValue } from './table-row.ts';
export type { WorkerMapFunction, WorkerMapOptions } from './worker-map.ts';
