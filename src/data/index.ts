/** Streaming datasets: the `Dataset` API, its sources (arrays, CSV, JSON Lines) and content versions. */
export { fromArray } from './array-source.ts';
export type { CellValue, ColumnSchema, ColumnType, ColumnValue, RowOf } from './column-schema.ts';
export { csvDataset } from './csv-source.ts';
export type { CsvDatasetOptions, CsvRow } from './csv-source.ts';
export { Dataset } from './dataset.ts';
export type { BatchOptions, CacheOptions, DatasetSource, InterleaveOptions, ShuffleOptions } from './dataset.ts';
export { datasetVersion } from './dataset-version.ts';
export type { DatasetVersion, FileVersion } from './dataset-version.ts';
export { jsonlDataset } from './jsonl-source.ts';
export type { JsonlDatasetOptions, JsonlRecord } from './jsonl-source.ts';
